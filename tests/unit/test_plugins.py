"""Resolution of tracking stores and artifact repositories by URI scheme, built-ins and entry points."""

from __future__ import annotations

import importlib.metadata
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mltrail import _plugins
from mltrail.artifacts.base import ArtifactRepository
from mltrail.artifacts.local import LocalArtifactRepository
from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError
from mltrail.tracking.store.base import TrackingStore
from tests.support.fake_store import FakeTrackingStore


class _RecordingRepo(LocalArtifactRepository):
    seen: dict[str, Any] = {}

    def __init__(
        self, artifact_uri: str, *, tracking_uri: str | None = None, settings: Settings | None = None
    ):
        _RecordingRepo.seen = {"uri": artifact_uri, "tracking_uri": tracking_uri, "settings": settings}
        super().__init__("/tmp")


def _fake_store_factory(uri: str, settings: Settings) -> TrackingStore:
    store = FakeTrackingStore(settings.artifact_root)
    store.uri = uri  # type: ignore[attr-defined]
    return store


def _not_a_store(uri: str, settings: Settings) -> object:
    return object()


@pytest.fixture
def plugin_module() -> Iterator[str]:
    module = types.ModuleType("mltrail_test_plugin")
    module.RecordingRepo = _RecordingRepo  # type: ignore[attr-defined]
    module.fake_store = _fake_store_factory  # type: ignore[attr-defined]
    module.not_a_store = _not_a_store  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


@pytest.fixture
def entry_points(monkeypatch: pytest.MonkeyPatch, plugin_module: str) -> None:
    eps = {
        _plugins.TRACKING_STORE_GROUP: [
            importlib.metadata.EntryPoint(
                "fakedb", f"{plugin_module}:fake_store", _plugins.TRACKING_STORE_GROUP
            ),
            importlib.metadata.EntryPoint(
                "broken", f"{plugin_module}:not_a_store", _plugins.TRACKING_STORE_GROUP
            ),
            importlib.metadata.EntryPoint(
                "sqlite", f"{plugin_module}:not_a_store", _plugins.TRACKING_STORE_GROUP
            ),
        ],
        _plugins.ARTIFACT_REPOSITORY_GROUP: [
            importlib.metadata.EntryPoint(
                "memo", f"{plugin_module}:RecordingRepo", _plugins.ARTIFACT_REPOSITORY_GROUP
            ),
        ],
    }

    def fake_entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        return eps.get(group, [])

    monkeypatch.setattr(_plugins, "entry_points", fake_entry_points)


def test_import_loads_no_backend() -> None:
    # The table names dotted paths; resolving nothing imports nothing.
    assert all(isinstance(e.target, str) for e in _plugins.TRACKING_STORES.values())
    assert all(isinstance(t, str) for t in _plugins.ARTIFACT_REPOSITORIES.values())


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/abs/dir", "LocalArtifactRepository"),
        ("relative/dir", "LocalArtifactRepository"),
        ("file:///abs/dir", "LocalArtifactRepository"),
    ],
)
def test_builtin_local_artifact_repository(uri: str, expected: str) -> None:
    repo = _plugins.resolve_artifact_repository(uri)
    assert type(repo).__name__ == expected
    assert repo.artifact_uri == uri


def test_builtin_remote_artifact_repositories_are_mapped() -> None:
    table = _plugins.ARTIFACT_REPOSITORIES
    assert table["s3"] == "mltrail.artifacts.s3:S3ArtifactRepository"
    for scheme in ("mlflow-artifacts", "http", "https"):
        assert table[scheme] == "mltrail.artifacts.http:HttpArtifactRepository"
    repo = _plugins.resolve_artifact_repository(
        "mlflow-artifacts:/1/r/artifacts", tracking_uri="http://127.0.0.1:1", settings=Settings()
    )
    assert type(repo).__name__ == "HttpArtifactRepository"
    assert isinstance(repo, ArtifactRepository)


def test_sqlite_store_gets_absolute_artifact_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings(artifact_root="./arts")
    store = _plugins.resolve_tracking_store(f"sqlite:///{tmp_path / 'x.db'}", settings)
    try:
        assert type(store).__name__ == "SqlTrackingStore"
        exp_id = store.create_experiment("e")
        location = store.get_experiment(exp_id).artifact_location
        assert location.startswith(str(tmp_path / "arts")) or location.startswith(
            f"file://{tmp_path / 'arts'}"
        )
    finally:
        store.close()


def test_http_tracking_uri_maps_to_rest_store() -> None:
    entry = _plugins.TRACKING_STORES["https"]
    assert entry.target == "mltrail.tracking.store.rest:RestTrackingStore"
    assert _plugins.TRACKING_STORES["http"] == entry
    for scheme in ("sqlite", "postgresql", "postgresql+psycopg", "mysql", "mysql+pymysql"):
        assert _plugins.TRACKING_STORES[scheme].target == "mltrail.tracking.store.sql:SqlTrackingStore"


def test_unknown_schemes_list_the_known_ones() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'nosuch'.*sqlite") as info:
        _plugins.resolve_tracking_store("nosuch://x", Settings())
    assert "https" in str(info.value)
    with pytest.raises(InvalidArgumentError, match=r"'gopher'.*s3"):
        _plugins.resolve_artifact_repository("gopher://x/y")
    with pytest.raises(InvalidArgumentError, match=r"\(none\)"):
        _plugins.resolve_tracking_store("just/a/path", Settings())


@pytest.mark.usefixtures("entry_points")
def test_entry_point_tracking_store(tmp_path: Path) -> None:
    store = _plugins.resolve_tracking_store("fakedb://anything", Settings(artifact_root=str(tmp_path)))
    assert isinstance(store, FakeTrackingStore)
    assert store.uri == "fakedb://anything"  # type: ignore[attr-defined]
    assert "fakedb" in _plugins.known_tracking_schemes()


@pytest.mark.usefixtures("entry_points")
def test_entry_point_returning_wrong_type_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="did not return a TrackingStore"):
        _plugins.resolve_tracking_store("broken://x", Settings())


@pytest.mark.usefixtures("entry_points")
def test_builtins_win_over_entry_points(tmp_path: Path) -> None:
    store = _plugins.resolve_tracking_store(
        f"sqlite:///{tmp_path / 'y.db'}", Settings(artifact_root=str(tmp_path))
    )
    try:
        assert type(store).__name__ == "SqlTrackingStore"
    finally:
        store.close()


@pytest.mark.usefixtures("entry_points")
def test_entry_point_artifact_repository_gets_context() -> None:
    settings = Settings()
    repo = _plugins.resolve_artifact_repository("memo://bucket/x", tracking_uri="http://t", settings=settings)
    assert isinstance(repo, _RecordingRepo)
    assert _RecordingRepo.seen == {"uri": "memo://bucket/x", "tracking_uri": "http://t", "settings": settings}
    assert "memo" in _plugins.known_artifact_schemes()


def test_load_object_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="module:attribute"):
        _plugins.load_object("no_colon")
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        _plugins.load_object("mltrail.errors:NoSuchThing")
    assert _plugins.load_object("mltrail.errors:NotFoundError").__name__ == "NotFoundError"
