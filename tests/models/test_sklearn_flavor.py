"""The sklearn flavor: skops by default with trusted types checked, pickle only on request."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

import mltrail.pyfunc
import mltrail.sklearn
from mltrail.errors import AlreadyExistsError, BadRequestError, InvalidArgumentError, NotFoundError
from mltrail.models.environment import read_requirements

Iris = tuple[pd.DataFrame, pd.Series]
TREE = "sklearn.tree._tree.Tree"


def _mlmodel(path: Path) -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((path / "MLmodel").read_text())
    return data


def test_skops_is_the_default_and_round_trips(tmp_path: Path, iris: Iris, logreg: LogisticRegression) -> None:
    features, _ = iris
    path = tmp_path / "model"
    mltrail.sklearn.save_model(logreg, path, input_example=features.head(3))
    assert sorted(p.name for p in path.iterdir()) == [
        "MLmodel",
        "conda.yaml",
        "input_example.json",
        "model.skops",
        "python_env.yaml",
        "requirements.txt",
        "serving_input_example.json",
    ]
    loaded = mltrail.sklearn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(features), logreg.predict(features))
    flavors = _mlmodel(path)["flavors"]
    assert isinstance(flavors, dict)
    assert flavors["sklearn"] == {
        "code": None,
        "pickled_model": "model.skops",
        "serialization_format": "skops",
        "sklearn_version": __import__("sklearn").__version__,
        "skops_trusted_types": None,
    }
    assert flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    assert flavors["python_function"]["model_path"] == "model.skops"
    assert flavors["python_function"]["predict_fn"] == "predict"


def test_requirements_list_what_loading_needs(tmp_path: Path, logreg: LogisticRegression) -> None:
    mltrail.sklearn.save_model(logreg, tmp_path / "m")
    lines = read_requirements(tmp_path / "m")
    assert lines[0].startswith("mltrail==")
    names = {line.split("==")[0] for line in lines[1:]}
    assert {"scikit-learn", "skops", "numpy"} <= names
    assert all("==" in line for line in lines)


def test_signature_inferred_from_example(tmp_path: Path, iris: Iris, logreg: LogisticRegression) -> None:
    features, _ = iris
    meta = mltrail.sklearn.save_model(logreg, tmp_path / "m", input_example=features.head(2))
    assert meta.signature is not None and meta.signature.inputs is not None
    assert meta.signature.inputs.input_names() == list(features.columns)
    assert meta.signature.outputs is not None
    assert json.loads(meta.signature.outputs.to_json())[0]["tensor-spec"]["dtype"] == "int64"


def test_pyfunc_enforces_the_signature(tmp_path: Path, iris: Iris, logreg: LogisticRegression) -> None:
    features, _ = iris
    mltrail.sklearn.save_model(logreg, tmp_path / "m", input_example=features.head(2))
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_array_equal(model.predict(features), logreg.predict(features))
    with pytest.raises(InvalidArgumentError, match=r"Model is missing inputs \['petal width \(cm\)'\]"):
        model.predict(features.drop(columns=["petal width (cm)"]))
    with pytest.raises(BadRequestError, match="Incompatible input types"):
        model.predict(features.assign(**{"sepal length (cm)": "long"}))
    pd.testing.assert_frame_equal(model.input_example, features.head(2).reset_index(drop=True))


def test_pyfunc_predict_fn(tmp_path: Path, iris: Iris, logreg: LogisticRegression) -> None:
    features, _ = iris
    mltrail.sklearn.save_model(logreg, tmp_path / "m", pyfunc_predict_fn="predict_proba")
    model = mltrail.pyfunc.load_model(tmp_path / "m")
    np.testing.assert_allclose(model.predict(features), logreg.predict_proba(features))


def test_untrusted_skops_types_are_refused_unless_named(tmp_path: Path, iris: Iris) -> None:
    features, labels = iris
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(features, labels)
    with pytest.raises(
        InvalidArgumentError, match=r"does not trust by default: \['sklearn.tree._tree.Tree'\]"
    ) as err:
        mltrail.sklearn.save_model(forest, tmp_path / "refused")
    assert err.value.details == {"untrusted_types": [TREE]}
    assert not (tmp_path / "refused").exists()

    mltrail.sklearn.save_model(forest, tmp_path / "m", skops_trusted_types=[TREE])
    flavors = _mlmodel(tmp_path / "m")["flavors"]
    assert isinstance(flavors, dict) and flavors["sklearn"]["skops_trusted_types"] == [TREE]

    with pytest.raises(InvalidArgumentError, match=r"skops_trusted_types=.*or allow_pickle=True"):
        mltrail.sklearn.load_model(tmp_path / "m")
    for loaded in (
        mltrail.sklearn.load_model(tmp_path / "m", skops_trusted_types=[TREE]),
        mltrail.sklearn.load_model(tmp_path / "m", allow_pickle=True),
    ):
        np.testing.assert_array_equal(loaded.predict(features), forest.predict(features))


@pytest.mark.parametrize("fmt", ["pickle", "cloudpickle"])
def test_pickle_formats_need_an_explicit_opt_in(
    tmp_path: Path, iris: Iris, logreg: LogisticRegression, fmt: str
) -> None:
    features, _ = iris
    mltrail.sklearn.save_model(logreg, tmp_path / "m", serialization_format=fmt)
    assert (tmp_path / "m" / "model.pkl").is_file()
    for load in (mltrail.sklearn.load_model, mltrail.pyfunc.load_model):
        with pytest.raises(InvalidArgumentError, match=r"would execute pickled code.*allow_pickle=True"):
            load(tmp_path / "m")
    loaded = mltrail.sklearn.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(features), logreg.predict(features))
    names = {line.split("==")[0] for line in read_requirements(tmp_path / "m")}
    assert ("cloudpickle" in names) == (fmt == "cloudpickle")


def test_models_skops_cannot_store_suggest_cloudpickle(tmp_path: Path) -> None:
    transformer = FunctionTransformer(lambda x: x + 1).fit([[0.0]])
    with pytest.raises(InvalidArgumentError, match=r"<lambda>.*serialization_format='cloudpickle'"):
        mltrail.sklearn.save_model(transformer, tmp_path / "m")
    mltrail.sklearn.save_model(transformer, tmp_path / "cp", serialization_format="cloudpickle")
    loaded = mltrail.sklearn.load_model(tmp_path / "cp", allow_pickle=True)
    assert loaded.transform(np.array([[1.0]])).tolist() == [[2.0]]


def test_argument_errors(tmp_path: Path, logreg: LogisticRegression) -> None:
    with pytest.raises(InvalidArgumentError, match="Unknown serialization_format 'joblib'"):
        mltrail.sklearn.save_model(logreg, tmp_path / "a", serialization_format="joblib")
    mltrail.sklearn.save_model(logreg, tmp_path / "b")
    with pytest.raises(AlreadyExistsError):
        mltrail.sklearn.save_model(logreg, tmp_path / "b")
    with pytest.raises(NotFoundError, match="No MLmodel file"):
        mltrail.sklearn.load_model(tmp_path / "missing")
    with pytest.raises(InvalidArgumentError, match="scheme 'ftp' is not supported"):
        mltrail.sklearn.load_model("ftp://host/model")


def test_file_uri_and_explicit_requirements(tmp_path: Path, logreg: LogisticRegression) -> None:
    mltrail.sklearn.save_model(
        logreg,
        tmp_path / "m",
        pip_requirements=["scikit-learn"],
        extra_pip_requirements=["skops"],
        signature=False,
    )
    assert read_requirements(tmp_path / "m")[1:] == ["scikit-learn", "skops"]
    assert isinstance(mltrail.sklearn.load_model((tmp_path / "m").as_uri()), LogisticRegression)
