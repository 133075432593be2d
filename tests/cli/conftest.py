"""Fixtures for the CLI tests: a SQLite store in a temp dir and a runner bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail import _plugins
from mltrail.config import Settings

from ._helpers import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    artifact_root = tmp_path / "artifacts"
    settings = Settings(tracking_uri=uri, artifact_root=str(artifact_root))
    store = _plugins.resolve_tracking_store(uri, settings)
    runner = CliRunner(env={"MLTRAIL_ARTIFACT_ROOT": str(artifact_root)})
    yield Cli(uri=uri, artifact_root=artifact_root, runner=runner, store=store)
    store.close()
