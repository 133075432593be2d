"""Fixtures of the tracing SDK tests: a clean tracing setup per test, stores, a fake OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail.tracing import setup
from mltrail.tracing.store.memory import InMemoryTraceStore
from mltrail.tracking import _fluent_state
from tests.tracing.openai_server import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _reset_tracing() -> Iterator[None]:
    setup.reset()
    yield
    setup.reset()
    _fluent_state._reset()


@pytest.fixture
def memory_store(tmp_path: Path) -> InMemoryTraceStore:
    """Traces go to an in-memory store whose artifact locations are under ``tmp_path``."""
    store = InMemoryTraceStore(artifact_root=str(tmp_path / "trace-artifacts"))
    setup.configure(store=store)
    return store


@pytest.fixture
def sqlite_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The fluent API (and so tracing) points at a fresh SQLite store with artifacts in ``tmp_path``."""
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    mltrail.set_tracking_uri(uri)
    return uri


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeOpenAIServer]:
    """An OpenAI-compatible server on a free loopback port (chat, streaming, embeddings, responses)."""
    server = FakeOpenAIServer()
    server.start()
    yield server
    server.stop()
