"""Models the scoring tests serve, saved into a directory with mltrail's own save functions.

The custom models are models-from-code files, so serving them needs no pickle.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import mltrail.pyfunc
import mltrail.sklearn
from mltrail.models.schema import ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, Schema

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]

# Scales column x by params["factor"] and adds column y; fails on x == -1; sleeps if asked.
_SCALER_CODE = """
import time

import pandas as pd

from mltrail.models import set_model
from mltrail.pyfunc import PythonModel


class Scaler(PythonModel):
    batchable = True

    def predict(self, model_input, params=None):
        params = params or {}
        if params.get("sleep"):
            time.sleep(params["sleep"])
        if (model_input["x"] == -1).any():
            raise ValueError("x must not be -1")
        return pd.DataFrame(
            {"scaled": model_input["x"] * params.get("factor", 1.0) + model_input["y"], "n": len(model_input)}
        )


set_model(Scaler())
"""

# No signature: echoes what it receives, described so the tests can see how the input arrived.
_ECHO_CODE = """
from mltrail.models import set_model


def describe(value):
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [describe(v) for v in value]
    if hasattr(value, "to_dict"):
        return {"frame": value.to_dict(orient="list")}
    if hasattr(value, "tolist"):
        return {"array": value.tolist()}
    return value


class Echo:
    def predict(self, model_input, params=None):
        return {"input": describe(model_input), "params": params}


set_model(Echo())
"""

_HINTED_CODE = """
from mltrail.models import set_model
from mltrail.pyfunc import PythonModel


class Upper(PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [s.upper() for s in model_input]


set_model(Upper())
"""


def iris() -> tuple[pd.DataFrame, pd.Series]:
    """Iris features (named float columns) and labels."""
    features, labels = load_iris(return_X_y=True, as_frame=True)
    return features, labels


def save_sklearn(path: Path) -> LogisticRegression:
    """Fit and save a logistic regression on iris (skops format, signature from an example)."""
    features, labels = iris()
    model = LogisticRegression(max_iter=500).fit(features, labels)
    mltrail.sklearn.save_model(model, path, input_example=features.head(3))
    return model


def _code_model(path: Path, name: str, code: str, **kwargs: object) -> None:
    source = path.parent / f"{name}.py"
    source.write_text(code)
    mltrail.pyfunc.save_model(path, python_model=str(source), **kwargs)  # type: ignore[arg-type]


def save_scaler(path: Path) -> None:
    """A python_function model with a column signature and params (``factor``, ``sleep``)."""
    signature = ModelSignature(
        inputs=Schema([ColSpec(DataType.double, "x"), ColSpec(DataType.long, "y")]),
        params=ParamSchema(
            [ParamSpec("factor", DataType.double, 1.0), ParamSpec("sleep", DataType.double, 0.0)]
        ),
    )
    _code_model(path, "scaler", _SCALER_CODE, signature=signature)


def save_echo(path: Path) -> None:
    """A python_function model without a signature that describes its input."""
    _code_model(path, "echo", _ECHO_CODE, signature=False)


def save_hinted(path: Path) -> None:
    """A python_function model whose signature comes from ``list[str]`` type hints."""
    _code_model(path, "hinted", _HINTED_CODE)
