"""Fixtures of the HTTP-level server tests: a real uvicorn server per module on a fresh store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from tests.server.api_helpers import AJAX, Api
from tests.support.live_server import threaded_server


@dataclass
class ServedApp:
    """A server started from an app object in this process."""

    url: str
    workdir: Path
    settings: ServerSettings

    @property
    def destination(self) -> Path:
        """The artifact proxy's destination directory."""
        return Path(self.settings.artifacts_destination)


def serve(workdir: Path, **options: object) -> ServedAppContext:
    """Build settings for a fresh SQLite store and artifact destination below ``workdir``."""
    values: dict[str, object] = {
        "backend_store_uri": f"sqlite:///{workdir / 'mltrail.db'}",
        "artifacts_destination": str(workdir / "artifacts"),
        **options,
    }
    settings = ServerSettings(**values)  # type: ignore[arg-type]
    return ServedAppContext(workdir, settings)


class ServedAppContext:
    """Context manager running ``create_app(settings)`` on uvicorn in a thread."""

    def __init__(self, workdir: Path, settings: ServerSettings) -> None:
        self.workdir = workdir
        self.settings = settings
        self._cm = threaded_server(create_app(settings))

    def __enter__(self) -> ServedApp:
        return ServedApp(self._cm.__enter__(), self.workdir, self.settings)

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(None, None, None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """One server per test module (tests use unique experiment names)."""
    with serve(tmp_path_factory.mktemp("server")) as served:
        yield served


@pytest.fixture
def http(server: ServedApp) -> Iterator[httpx.Client]:
    """An HTTP client of the module's server."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def api(http: httpx.Client) -> Api:
    """RPC helper on ``/api/2.0/mlflow``."""
    return Api(http)


@pytest.fixture
def ajax(http: httpx.Client) -> Api:
    """RPC helper on ``/ajax-api/2.0/mlflow``."""
    return Api(http, AJAX)
