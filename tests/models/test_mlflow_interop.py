"""Interoperability with the real MLflow 3.x package, which runs only in subprocesses.

(a) MLflow saves sklearn and python_function models, mltrail loads them and predicts;
(b) mltrail saves sklearn models, MLflow loads them with ``mlflow.sklearn.load_model`` in an
interpreter where mltrail cannot be imported; (c) mltrail saves python_function models and
``mlflow.pyfunc.load_model`` loads them with mltrail installed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import mltrail.pyfunc
import mltrail.sklearn

from ._helpers import run_python

Iris = tuple[pd.DataFrame, pd.Series]

if importlib.util.find_spec("mlflow") is None:
    pytest.skip("the interop tests need the real mlflow package (a dev dependency)", allow_module_level=True)

SAVE_WITH_MLFLOW = """
import json
import mlflow, mlflow.pyfunc, mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=500).fit(X, y)
mlflow.sklearn.save_model(model, "sk_skops", input_example=X.head(3))
mlflow.sklearn.save_model(model, "sk_cloudpickle", serialization_format="cloudpickle")


class AddN(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        self.n = int(open(context.artifacts["n"]).read())

    def predict(self, context, model_input, params=None):
        return model_input["a"] + self.n + (params or {}).get("extra", 0)


open("n.txt", "w").write("10")
import pandas as pd
mlflow.pyfunc.save_model(
    "pf_pickle", python_model=AddN(), artifacts={"n": "n.txt"},
    input_example=(pd.DataFrame({"a": [1, 2]}), {"extra": 0}),
)
open("code_model.py", "w").write('''
import mlflow
from mlflow.pyfunc import PythonModel


class Doubler(PythonModel):
    def load_context(self, context):
        self.factor = (context.model_config or {}).get("factor", 2)

    def predict(self, context, model_input, params=None):
        return model_input * self.factor


mlflow.models.set_model(Doubler())
''')
mlflow.pyfunc.save_model("pf_code", python_model="code_model.py", model_config={"factor": 3})
print(json.dumps({"expected": model.predict(X).tolist()}))
"""


@pytest.fixture(scope="module")
def mlflow_saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    """Models saved by MLflow in a subprocess, and the sklearn model's predictions there."""
    directory = tmp_path_factory.mktemp("mlflow-saved")
    result = run_python(SAVE_WITH_MLFLOW, directory)
    return directory, result["expected"]


def test_a_mltrail_loads_mlflow_sklearn_models(mlflow_saved: tuple[Path, list[int]], iris: Iris) -> None:
    directory, expected = mlflow_saved
    features, _ = iris
    skops_model = mltrail.sklearn.load_model(directory / "sk_skops")
    assert skops_model.predict(features).tolist() == expected
    pyfunc_model = mltrail.pyfunc.load_model(directory / "sk_skops")
    assert pyfunc_model.loader_module == "mlflow.sklearn"
    assert pyfunc_model.predict(features).tolist() == expected
    with pytest.raises(mltrail.InvalidArgumentError, match="missing inputs"):
        pyfunc_model.predict(features.iloc[:, :2])
    with pytest.raises(mltrail.InvalidArgumentError, match="would execute pickled code"):
        mltrail.sklearn.load_model(directory / "sk_cloudpickle")
    assert (
        mltrail.sklearn.load_model(directory / "sk_cloudpickle", allow_pickle=True).predict(features).tolist()
        == expected
    )


def test_a_mltrail_loads_mlflow_models_from_code_without_mlflow(mlflow_saved: tuple[Path, list[int]]) -> None:
    directory, _ = mlflow_saved
    model = mltrail.pyfunc.load_model(directory / "pf_code")
    assert model.predict(pd.DataFrame({"a": [1, 2]}))["a"].tolist() == [3, 6]
    assert mltrail.pyfunc.load_model(directory / "pf_code", model_config={"factor": 5}).predict(
        pd.DataFrame({"a": [1]})
    )["a"].tolist() == [5]


def test_a_mltrail_loads_mlflow_pickled_python_models(mlflow_saved: tuple[Path, list[int]]) -> None:
    directory, _ = mlflow_saved
    with pytest.raises(mltrail.InvalidArgumentError, match="allow_pickle=True"):
        mltrail.pyfunc.load_model(directory / "pf_pickle")
    # Unpickling MLflow's PythonModel subclass imports mlflow, so this part runs in a subprocess.
    result = run_python(
        f"""
        import json, sys
        import pandas as pd
        import mltrail.pyfunc
        model = mltrail.pyfunc.load_model({str(directory / "pf_pickle")!r}, allow_pickle=True)
        out = model.predict(pd.DataFrame({{"a": [1, 2]}}), params={{"extra": 5}})
        try:
            model.predict(pd.DataFrame({{"b": [1]}}))
            error = None
        except mltrail.InvalidArgumentError as exc:
            error = exc.message
        example = model.input_example.to_dict("list")
        print(json.dumps({{"out": out.tolist(), "example": example, "error": error}}))
        """,
        directory,
    )
    assert result == {
        "out": [16, 17],
        "example": {"a": [1, 2]},
        "error": "Model is missing inputs ['a']. Note that there were extra inputs: ['b'].",
    }


LOAD_SKLEARN_WITHOUT_MLTRAIL = """
import json
try:
    import mltrail
    importable = True
except ImportError:
    importable = False
import mlflow.pyfunc, mlflow.sklearn
from sklearn.datasets import load_iris

X, _ = load_iris(return_X_y=True, as_frame=True)
out = {"mltrail_importable": importable}
for name in NAMES:
    model = mlflow.sklearn.load_model(name)
    out[name] = model.predict(X).tolist()
    out[name + "_pyfunc"] = mlflow.pyfunc.load_model(name).predict(X).tolist()
print(json.dumps(out))
"""


def test_b_mlflow_loads_mltrail_sklearn_models_without_mltrail(
    tmp_path: Path, iris: Iris, logreg: LogisticRegression
) -> None:
    features, labels = iris
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(features, labels)
    mltrail.sklearn.save_model(logreg, tmp_path / "skops", input_example=features.head(2))
    mltrail.sklearn.save_model(forest, tmp_path / "forest", skops_trusted_types=["sklearn.tree._tree.Tree"])
    mltrail.sklearn.save_model(logreg, tmp_path / "cloudpickle", serialization_format="cloudpickle")
    names = ["skops", "forest", "cloudpickle"]
    result = run_python(f"NAMES = {names!r}\n" + LOAD_SKLEARN_WITHOUT_MLTRAIL, tmp_path, with_mltrail=False)
    assert result.pop("mltrail_importable") is False
    expected = {
        "skops": logreg.predict(features).tolist(),
        "forest": forest.predict(features).tolist(),
        "cloudpickle": logreg.predict(features).tolist(),
    }
    for name, values in expected.items():
        assert result[name] == values
        assert result[name + "_pyfunc"] == values


PICKLED_WITH_MLTRAIL = """
import json
import mltrail.pyfunc
from mltrail.models.schema import ColSpec, DataType, ModelSignature, ParamSchema, ParamSpec, Schema


class Affine(mltrail.pyfunc.PythonModel):
    def load_context(self, context):
        self.bias = context.model_config.get("bias", 0)

    def predict(self, context, model_input, params=None):
        return model_input["x"] * params["scale"] + self.bias


signature = ModelSignature(
    inputs=Schema([ColSpec(DataType.double, "x")]),
    params=ParamSchema([ParamSpec("scale", DataType.double, 2.0)]),
)
mltrail.pyfunc.save_model("pickled", python_model=Affine(), model_config={"bias": 1}, signature=signature)
print(json.dumps({"saved": True}))
"""

STREAMING_CODE_MODEL = """
import mltrail.models
from mltrail.pyfunc import PythonModel


class Words(PythonModel):
    def predict(self, model_input: list[str], params=None) -> list[str]:
        return [" ".join(model_input)]

    def predict_stream(self, model_input: str, params=None):
        yield from model_input.split()


mltrail.models.set_model(Words())
"""

LOAD_WITH_MLFLOW = """
import json
import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException

out = {}
pickled = mlflow.pyfunc.load_model("pickled")
out["pickled"] = pickled.predict(pd.DataFrame({"x": [1.0, 2.0]})).tolist()
out["pickled_params"] = pickled.predict(pd.DataFrame({"x": [1.0]}), params={"scale": 10.0}).tolist()
out["pickled_config"] = mlflow.pyfunc.load_model("pickled", model_config={"bias": 100}).predict(
    pd.DataFrame({"x": [1.0]})
).tolist()
try:
    pickled.predict(pd.DataFrame({"y": [1.0]}))
    out["enforced"] = None
except MlflowException as exc:
    out["enforced"] = exc.message
words = mlflow.pyfunc.load_model("code")
out["code"] = words.predict(["a", "b"])
out["stream"] = list(words.predict_stream("a b"))
print(json.dumps(out))
"""


def test_c_mlflow_loads_mltrail_python_function_models(tmp_path: Path) -> None:
    run_python(PICKLED_WITH_MLTRAIL, tmp_path)
    source = tmp_path / "words.py"
    source.write_text(STREAMING_CODE_MODEL)
    mltrail.pyfunc.save_model(tmp_path / "code", python_model=source, input_example=["a"])
    source.unlink()
    result: dict[str, Any] = run_python(LOAD_WITH_MLFLOW, tmp_path)
    assert result["pickled"] == [3.0, 5.0]
    assert result["pickled_params"] == [11.0]
    assert result["pickled_config"] == [102.0]
    assert "Model is missing inputs ['x']" in result["enforced"]
    assert result["code"] == ["a b"]
    assert result["stream"] == ["a", "b"]
    # mltrail reads back what it wrote, with the same results.
    model = mltrail.pyfunc.load_model(tmp_path / "pickled", allow_pickle=True)
    np.testing.assert_allclose(model.predict(pd.DataFrame({"x": [1.0, 2.0]})), [3.0, 5.0])
    assert json.loads((tmp_path / "code" / "input_example.json").read_text()) == ["a"]
    words = mltrail.pyfunc.load_model(tmp_path / "code")
    assert list(words.predict_stream("c d")) == ["c", "d"]
