"""MLflow's own client against a live mltrail server: the model registry end to end.

Logs a tiny pyfunc model in a run, registers it twice with ``mlflow.register_model``, sets and
moves aliases, transitions stages with archiving, and loads ``models:/name@alias`` and
``models:/name/Production`` with ``mlflow.pyfunc.load_model``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration

mlflow = pytest.importorskip("mlflow", reason="the compatibility tests drive the real mlflow client")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.pyfunc.model import PythonModel  # noqa: E402

from tests.compat.conftest import unique  # noqa: E402


class AddN(PythonModel):
    """Adds ``n`` to every input value."""

    def __init__(self, n: int) -> None:
        self.n = n

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return [v + self.n for v in model_input]


def _log_model(n: int) -> str:
    """Log ``AddN(n)`` in a new run; returns the ``runs:/`` URI."""
    with mlflow.start_run() as run:
        mlflow.pyfunc.log_model(name="model", python_model=AddN(n), pip_requirements=[])
    return f"runs:/{run.info.run_id}/model"


def test_register_aliases_stages_and_load(tracking_uri: str) -> None:
    mlflow.set_experiment(unique("registry"))
    name = unique("model")
    first_uri, second_uri = _log_model(1), _log_model(100)

    v1 = mlflow.register_model(first_uri, name)
    v2 = mlflow.register_model(second_uri, name)
    assert (v1.version, v2.version) == ("1", "2")
    assert v1.status == "READY"
    # MLflow 3 registers the run's logged model (its ModelVersion.from_proto drops model_id).
    raw = requests.get(
        f"{tracking_uri}/api/2.0/mlflow/model-versions/get", params={"name": name, "version": "1"}, timeout=30
    ).json()["model_version"]
    assert raw["model_id"].startswith("m-") and v1.source == f"models:/{raw['model_id']}"
    assert raw["run_id"] == first_uri.split("/")[1]

    client = MlflowClient(tracking_uri)
    client.set_registered_model_alias(name, "champion", "1")
    assert mlflow.pyfunc.load_model(f"models:/{name}@champion").predict([1, 2]) == [2, 3]
    client.set_registered_model_alias(name, "champion", "2")
    assert client.get_model_version_by_alias(name, "champion").version == "2"
    assert mlflow.pyfunc.load_model(f"models:/{name}@champion").predict([1]) == [101]
    assert client.get_registered_model(name).aliases == {"champion": "2"}

    client.transition_model_version_stage(name, "1", "Production")
    moved = client.transition_model_version_stage(name, "2", "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, "1").current_stage == "Archived"
    assert mlflow.pyfunc.load_model(f"models:/{name}/Production").predict([0]) == [100]
    assert mlflow.pyfunc.load_model(f"models:/{name}/1").predict([0]) == [1]

    history = requests.get(
        f"{tracking_uri}/api/2.0/mltrail/registered-models/alias/history", params={"name": name}, timeout=30
    ).json()["events"]
    assert [(e.get("from_version"), e["to_version"]) for e in history] == [(None, "1"), ("1", "2")]


def test_registry_client_calls(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    name = unique("model")
    client.create_registered_model(name, tags={"team": "ml"}, description="first")
    with pytest.raises(MlflowException) as caught:
        client.create_registered_model(name)
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
    version = client.create_model_version(name, "s3://bucket/model", tags={"k": "v"})
    assert version.version == "1" and version.tags == {"k": "v"}

    client.update_registered_model(name, description="second")
    client.update_model_version(name, "1", description="v1")
    client.set_registered_model_tag(name, "owner", "ann")
    client.delete_registered_model_tag(name, "missing")
    client.set_model_version_tag(name, "1", "validated", "yes")
    client.delete_model_version_tag(name, "1", "k")
    model = client.get_registered_model(name)
    assert model.description == "second"
    assert model.tags == {"team": "ml", "owner": "ann"}
    assert client.get_model_version(name, "1").tags == {"validated": "yes"}
    assert client.get_model_version_download_uri(name, "1") == "s3://bucket/model"

    found = client.search_registered_models(filter_string=f"name = '{name}'")
    assert [m.name for m in found] == [name]
    versions = client.search_model_versions(f"name = '{name}'")
    assert [v.version for v in versions] == ["1"]
    assert [v.version for v in client.get_latest_versions(name, stages=["None"])] == ["1"]

    new_name = unique("renamed")
    client.rename_registered_model(name, new_name)
    assert client.get_model_version(new_name, "1").name == new_name
    client.delete_model_version(new_name, "1")
    assert client.create_model_version(new_name, "s3://bucket/again").version == "2"
    client.delete_registered_model(new_name)
    with pytest.raises(MlflowException) as missing:
        client.get_registered_model(new_name)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"
