"""``RegistryClient`` and the fluent registry functions on a SQLite store: ``register_model`` URI forms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail.config import Settings
from mltrail.errors import NotFoundError
from mltrail.registry import fluent as registry_fluent
from mltrail.registry.client import RegistryClient
from mltrail.tracking import _fluent_state, fluent
from mltrail.tracking.client import TrackingClient


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        tracking_uri=f"sqlite:///{tmp_path / 'mltrail.db'}",
        artifact_root=str(tmp_path / "artifacts"),
        user="reg-user",
        async_logging=False,
    )


@pytest.fixture
def tracking(settings: Settings) -> Iterator[TrackingClient]:
    with TrackingClient(settings=settings) as client:
        yield client


@pytest.fixture
def registry(settings: Settings, tracking: TrackingClient) -> Iterator[RegistryClient]:
    with RegistryClient(settings=settings, tracking_store=tracking.store) as client:
        yield client


def test_register_run_artifacts_with_an_mlmodel_file(
    tracking: TrackingClient, registry: RegistryClient
) -> None:
    run = tracking.create_run("0")
    tracking.log_text(run.info.run_id, "flavors: {}\n", "model/MLmodel")
    version = registry.register_model(f"runs:/{run.info.run_id}/model", "from-run", tags={"k": "v"})
    assert version.version == "1"
    assert version.source == f"{run.info.artifact_uri}/model"
    assert version.run_id == run.info.run_id
    assert version.tags == {"k": "v"}
    assert version.user_id == "reg-user"
    assert registry.register_model(f"runs:/{run.info.run_id}/model", "from-run").version == "2"


def test_register_a_logged_model_of_the_run(tracking: TrackingClient, registry: RegistryClient) -> None:
    run = tracking.create_run("0")
    logged = tracking.create_logged_model("0", name="model", source_run_id=run.info.run_id)
    version = registry.register_model(f"runs:/{run.info.run_id}/model", "from-logged")
    assert version.source == f"models:/{logged.model_id}"
    assert version.model_id == logged.model_id
    assert version.run_id == run.info.run_id
    assert registry.get_model_version_download_uri("from-logged", 1) == logged.artifact_uri
    registrations = tracking.store.get_logged_model(logged.model_id).tags["mlflow.modelVersions"]
    assert json.loads(registrations) == [{"name": "from-logged", "version": "1"}]
    by_id = registry.register_model(f"models:/{logged.model_id}", "from-logged")
    assert (by_id.version, by_id.model_id, by_id.run_id) == ("2", logged.model_id, run.info.run_id)


def test_register_a_run_path_with_nothing_there_fails(
    tracking: TrackingClient, registry: RegistryClient
) -> None:
    run = tracking.create_run("0")
    with pytest.raises(NotFoundError, match="logged_model"):
        registry.register_model(f"runs:/{run.info.run_id}/missing", "nothing")


def test_register_a_plain_uri_and_alias_flow(registry: RegistryClient) -> None:
    registry.register_model("s3://bucket/model", "plain")
    registry.register_model("s3://bucket/model2", "plain")
    registry.set_registered_model_alias("plain", "prod", 1, reason="launch")
    registry.set_registered_model_alias("plain", "prod", 2)
    event = registry.rollback_registered_model_alias("plain", "prod", reason="bad release")
    assert (event.to_version, event.user_id, event.reason) == ("1", "reg-user", "bad release")
    assert [e.user_id for e in registry.get_alias_history("plain", "prod")] == ["reg-user"] * 3


def test_fluent_register_and_search(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", settings.artifact_root)
    _fluent_state._reset()
    fluent.set_tracking_uri(settings.tracking_uri)
    try:
        with mltrail.start_run() as active:
            mltrail.log_text("flavors: {}\n", "clf/MLmodel")
        mltrail.flush()
        version = mltrail.register_model(f"runs:/{active.info.run_id}/clf", "fluent-model")
        assert version.version == "1"
        assert [m.name for m in mltrail.search_registered_models()] == ["fluent-model"]
        assert [v.version for v in mltrail.search_model_versions("name = 'fluent-model'")] == ["1"]
    finally:
        registry_fluent._reset()
        _fluent_state._reset()
