"""Loading logged and registered models back by URI: ``runs:/``, every ``models:/`` form, local
paths, ``file:``, ``mlflow-artifacts:`` and ``s3://``, with sub-paths and clear errors.

The store-backed tests run against a SQLite store in ``tmp_path`` and against a live
``mltrail server`` with proxied artifacts; the ``s3://`` test logs to a real SeaweedFS bucket.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.pyfunc
import mltrail.sklearn
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.model import Model
from mltrail.models.resolvers import ModelsUri, parse_models_uri
from mltrail.models.uri import resolve_model_uri
from tests.support.seaweedfs import get_seaweedfs, use_s3_credentials

from . import _logging_fixtures
from ._logging_fixtures import Backend

# The shared fixtures, made visible to pytest in this module.
backend = _logging_fixtures.backend
shared_server = _logging_fixtures.shared_server


@pytest.fixture(scope="module")
def two_models(iris: tuple[pd.DataFrame, pd.Series]) -> tuple[LogisticRegression, LogisticRegression]:
    """Two estimators that disagree on some iris rows."""
    features, labels = iris
    strong = LogisticRegression(max_iter=500).fit(features, labels)
    weak = LogisticRegression(C=1e-4, max_iter=500).fit(features, labels)
    return strong, weak


def _predict(uri: str, data: pd.DataFrame) -> Any:
    return mltrail.pyfunc.load_model(uri).predict(data)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "models:/m-0123456789abcdef0123456789abcdef",
            ModelsUri(model_id="m-0123456789abcdef0123456789abcdef"),
        ),
        (
            "models:/m-0123456789abcdef0123456789abcdef/data/model.pkl",
            ModelsUri(model_id="m-0123456789abcdef0123456789abcdef", sub_path="data/model.pkl"),
        ),
        ("models:/churn/3", ModelsUri(name="churn", version="3")),
        ("models:/churn/3/MLmodel", ModelsUri(name="churn", version="3", sub_path="MLmodel")),
        ("models:/churn@champion", ModelsUri(name="churn", alias="champion")),
        ("models:/churn@champion/a/b", ModelsUri(name="churn", alias="champion", sub_path="a/b")),
        ("models:/churn/Production", ModelsUri(name="churn", stage="Production")),
        ("models:/churn/LATEST", ModelsUri(name="churn", latest=True)),
        ("models:/churn/latest/", ModelsUri(name="churn", latest=True)),
    ],
)
def test_parse_models_uri(uri: str, expected: ModelsUri) -> None:
    assert parse_models_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["models:/", "models:", "models:/churn@", "models:/@alias", "models:/ /1", "runs:/x/y", "models:churn/1"],
)
def test_malformed_models_uris(uri: str) -> None:
    with pytest.raises(InvalidArgumentError, match="Not a proper models:/ URI"):
        parse_models_uri(uri)


def test_unsafe_sub_paths_and_registry_hosts_are_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid path"):
        parse_models_uri("models:/churn/1/../../etc")
    with pytest.raises(InvalidArgumentError, match="Registry hosts"):
        parse_models_uri("models://profile/churn/1")


def test_every_uri_form_loads_the_right_model(
    backend: Backend,
    two_models: tuple[LogisticRegression, LogisticRegression],
    iris: tuple[pd.DataFrame, pd.Series],
    tmp_path: Path,
) -> None:
    strong, weak = two_models
    features = iris[0]
    assert (strong.predict(features) != weak.predict(features)).any()
    name = f"uris-{uuid.uuid4().hex[:10]}"
    mltrail.set_experiment(name)
    with mltrail.start_run() as first_run:
        first = mltrail.sklearn.log_model(strong, name="clf", registered_model_name=name)
    with mltrail.start_run():
        second = mltrail.sklearn.log_model(weak, name="clf", registered_model_name=name)
    assert (first.registered_model_version, second.registered_model_version) == ("1", "2")
    backend.registry.set_registered_model_alias(name, "champion", "1")
    backend.registry.transition_model_version_stage(name, "2", "Staging")
    by_strong, by_weak = strong.predict(features), weak.predict(features)

    expectations = {
        first.model_uri: by_strong,
        second.model_uri: by_weak,
        f"runs:/{first_run.run_id}/clf": by_strong,
        f"models:/{name}/1": by_strong,
        f"models:/{name}/2": by_weak,
        f"models:/{name}@champion": by_strong,
        f"models:/{name}/Staging": by_weak,
        f"models:/{name}/staging": by_weak,
        f"models:/{name}/latest": by_weak,
        first.artifact_path: by_strong,
    }
    if backend.kind == "server":
        assert first.artifact_path.startswith("mlflow-artifacts:/")
        proxied = first.artifact_path.removeprefix("mlflow-artifacts:/")
        expectations[f"{backend.tracking_uri}/api/2.0/mlflow-artifacts/artifacts/{proxied}"] = by_strong
    for uri, expected in expectations.items():
        np.testing.assert_array_equal(_predict(uri, features), expected, err_msg=uri)

    local = resolve_model_uri(first.model_uri)
    assert Model.load(local).model_id == first.model_id
    np.testing.assert_array_equal(_predict(str(local), features), by_strong)
    np.testing.assert_array_equal(_predict(local.resolve().as_uri(), features), by_strong)

    mlmodel = resolve_model_uri(f"models:/{name}@champion/MLmodel")
    assert mlmodel.name == "MLmodel"
    assert Model.load(mlmodel).model_id == first.model_id
    assert Model.load(resolve_model_uri(f"{second.model_uri}/MLmodel")).model_id == second.model_id
    assert Model.load(resolve_model_uri(f"runs:/{first_run.run_id}/clf/MLmodel")).model_id == first.model_id

    estimator = mltrail.sklearn.load_model(f"models:/{name}@champion")
    np.testing.assert_array_equal(estimator.predict(features), by_strong)


def test_runs_uri_falls_back_to_run_artifacts(
    backend: Backend, two_models: tuple[LogisticRegression, LogisticRegression], tmp_path: Path
) -> None:
    strong, _ = two_models
    mltrail.set_experiment(f"legacy-{uuid.uuid4().hex[:10]}")
    mltrail.sklearn.save_model(strong, tmp_path / "saved")
    with mltrail.start_run() as run:
        mltrail.log_artifacts(str(tmp_path / "saved"), "legacy/model")
    loaded = mltrail.sklearn.load_model(f"runs:/{run.run_id}/legacy/model")
    data = pd.DataFrame(np.ones((2, 4)), columns=strong.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(data), strong.predict(data))


def test_resolution_errors_are_clear(backend: Backend) -> None:
    name = f"errs-{uuid.uuid4().hex[:10]}"
    mltrail.set_experiment(name)
    with mltrail.start_run() as run:
        mltrail.pyfunc.log_model(name="m", python_model=_identity, registered_model_name=name)
    with pytest.raises(
        NotFoundError, match=rf"No versions of model with name '{name}' and stage 'Production'"
    ):
        resolve_model_uri(f"models:/{name}/Production")
    with pytest.raises(NotFoundError):
        resolve_model_uri(f"models:/{name}/7")
    with pytest.raises(NotFoundError):
        resolve_model_uri(f"models:/no-such-{name}/1")
    with pytest.raises(NotFoundError):
        resolve_model_uri(f"models:/no-such-{name}/latest")
    with pytest.raises(InvalidArgumentError, match="alias"):
        resolve_model_uri(f"models:/{name}@nobody")
    with pytest.raises(NotFoundError):
        resolve_model_uri("models:/m-00000000000000000000000000000000")
    with pytest.raises(NotFoundError, match=f"Run {run.run_id} has no logged model named 'other'"):
        resolve_model_uri(f"runs:/{run.run_id}/other")
    with pytest.raises(NotFoundError):
        resolve_model_uri(f"runs:/{uuid.uuid4().hex}/m")
    with pytest.raises(InvalidArgumentError, match="Not a proper runs:/ URI"):
        resolve_model_uri("runs:/")
    with pytest.raises(InvalidArgumentError, match="Invalid path"):
        resolve_model_uri(f"runs:/{run.run_id}/m/../../x")


def _identity(model_input: Any) -> Any:
    return model_input


def test_model_logged_to_s3_loads_back_by_s3_uri(
    backend: Backend,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    two_models: tuple[LogisticRegression, LogisticRegression],
    iris: tuple[pd.DataFrame, pd.Series],
) -> None:
    weed = get_seaweedfs(request.config)
    use_s3_credentials(monkeypatch)
    monkeypatch.setenv("MLTRAIL_S3_ENDPOINT_URL", weed.endpoint)
    bucket = weed.create_bucket()
    strong, _ = two_models
    features = iris[0].head(8)
    name = f"s3-{uuid.uuid4().hex[:10]}"
    experiment_id = mltrail.create_experiment(name, artifact_location=f"s3://{bucket}/exp")
    mltrail.set_experiment(experiment_id=experiment_id)
    with mltrail.start_run() as run:
        info = mltrail.sklearn.log_model(strong, name="clf", registered_model_name=name)

    assert info.artifact_path == f"s3://{bucket}/exp/models/{info.model_id}/artifacts"
    keys = weed.keys(bucket, f"exp/models/{info.model_id}/artifacts/")
    assert f"exp/models/{info.model_id}/artifacts/MLmodel" in keys
    assert f"exp/models/{info.model_id}/artifacts/model.skops" in keys
    for uri in (info.artifact_path, info.model_uri, f"runs:/{run.run_id}/clf", f"models:/{name}/1"):
        np.testing.assert_array_equal(_predict(uri, features), strong.predict(features), err_msg=uri)
    with pytest.raises(NotFoundError):
        resolve_model_uri(f"s3://{bucket}/exp/models/{info.model_id}/artifacts/missing")
