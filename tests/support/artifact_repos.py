"""Artifact repositories for the contract suite: registry name → factory of a fresh repository.

Each factory is a context manager taking the test's ``request`` and ``tmp_path`` and yielding an
:class:`ArtifactRepoCase`: the repository, rooted somewhere fresh, plus a way to see everything
stored *outside* that root (so a test can prove a rejected path wrote nothing anywhere).

* ``local``: a directory below ``tmp_path``.
* ``s3``: ``s3://<fresh bucket>/<prefix>`` on the session's SeaweedFS (``seaweedfs`` fixture).
* ``http``: ``mlflow-artifacts:/<fresh dir>`` through a live ``mltrail server`` whose proxy
  stores into a local destination directory.

The SeaweedFS process and the proxy server are started once per process (xdist worker) on first
use and stopped when the test session ends, so no fixture has to be registered for them.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from mltrail.artifacts.base import ArtifactRepository
from mltrail.artifacts.http import HttpArtifactRepository
from mltrail.artifacts.local import LocalArtifactRepository
from mltrail.artifacts.s3 import S3ArtifactRepository
from mltrail.config import Settings
from tests.support.live_server import LiveServer, start_server
from tests.support.seaweedfs import get_seaweedfs, use_s3_credentials

__all__ = ["ARTIFACT_REPOS", "ARTIFACT_REPO_PARAMS", "ArtifactRepoCase", "RepoFactory", "files_below"]


@dataclass
class ArtifactRepoCase:
    """A fresh repository under test.

    Attributes:
        name: The registry name (``local``, ``s3``, ``http``).
        repo: The repository, rooted at an empty location.
        stray: Lists everything stored outside the repository's root in the same storage
            (files or keys); empty unless something escaped.
    """

    name: str
    repo: ArtifactRepository
    stray: Callable[[], list[str]]


RepoFactory = Callable[[pytest.FixtureRequest, Path], AbstractContextManager[ArtifactRepoCase]]


def files_below(directory: Path) -> list[str]:
    """Every file below ``directory`` as sorted ``/``-separated relative paths."""
    found: list[str] = []
    for root, _dirs, files in os.walk(directory):
        for name in files:
            found.append(os.path.relpath(os.path.join(root, name), directory).replace(os.sep, "/"))
    return sorted(found)


def _outside(storage: Path, root_rel: str) -> Callable[[], list[str]]:
    def stray() -> list[str]:
        return [path for path in files_below(storage) if not path.startswith(root_rel + "/")]

    return stray


@contextmanager
def _local(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactRepoCase]:
    storage = tmp_path / "storage"
    root = storage / "1" / "run" / "artifacts"
    root.mkdir(parents=True)
    yield ArtifactRepoCase("local", LocalArtifactRepository(str(root)), _outside(storage, "1/run/artifacts"))


@contextmanager
def _s3(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactRepoCase]:
    server = get_seaweedfs(request.config)
    use_s3_credentials(request.getfixturevalue("monkeypatch"))
    bucket = server.create_bucket()
    prefix = "1/run/artifacts"
    repo = S3ArtifactRepository(f"s3://{bucket}/{prefix}", settings=Settings(s3_endpoint_url=server.endpoint))

    def stray() -> list[str]:
        return [key for key in server.keys(bucket) if not key.startswith(prefix + "/")]

    yield ArtifactRepoCase("s3", repo, stray)


# One proxy server per process, stopped when the session ends; each case gets its own directory.
_proxy: dict[str, LiveServer] = {}
_CASE_ROOT = re.compile(r"^case-[0-9a-f]{32}/run/artifacts/")


def get_proxy_server(config: pytest.Config) -> LiveServer:
    """The process's ``mltrail server`` with a local artifacts destination, started on first use."""
    if "server" in _proxy:
        return _proxy["server"]
    workdir = Path(tempfile.mkdtemp(prefix="mltrail-proxy-"))
    server = start_server(workdir, artifacts_destination=str(workdir / "destination"))

    def stop() -> None:
        _proxy.pop("server", None)
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    _proxy["server"] = server
    config.add_cleanup(stop)
    return server


@contextmanager
def _http(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactRepoCase]:
    server = get_proxy_server(request.config)
    root_rel = f"case-{uuid.uuid4().hex}/run/artifacts"
    repo = HttpArtifactRepository(
        f"mlflow-artifacts:/{root_rel}", tracking_uri=server.url, settings=Settings()
    )
    destination = Path(server.artifacts_destination)
    workdir = destination.parent

    def stray() -> list[str]:
        # Other cases' roots are expected; anything else in the destination (or beside it) is not.
        outside = [f for f in files_below(destination) if not _CASE_ROOT.match(f)]
        beside = [
            f
            for f in files_below(workdir)
            if not f.startswith("destination/") and not f.startswith(("mltrail.db", "server-"))
        ]
        return outside + beside

    try:
        yield ArtifactRepoCase("http", repo, stray)
    finally:
        repo.close()


ARTIFACT_REPOS: dict[str, RepoFactory] = {"local": _local, "s3": _s3, "http": _http}
"""Registry name → factory of a fresh repository."""

ARTIFACT_REPO_PARAMS = [
    pytest.param("local", id="local"),
    pytest.param("s3", id="s3", marks=pytest.mark.integration),
    pytest.param("http", id="http", marks=pytest.mark.integration),
]
"""The registry as pytest params, with the ``integration`` mark on entries that start processes."""
