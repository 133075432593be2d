"""The Python blocks of docs/tracing.md run as written, in order, against a local OpenAI server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mltrail
from mltrail.tracing import setup
from tests.tracing.openai_server import FakeOpenAIServer

_DOC = Path(__file__).resolve().parents[2] / "docs" / "tracing.md"


def test_tracing_guide_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openai_server: FakeOpenAIServer
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", _DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    namespace: dict[str, object] = {"__name__": "docs_tracing"}
    for block in blocks:
        exec(compile(block, str(_DOC), "exec"), namespace)
    assert mltrail.flush_traces(30)
    frame = mltrail.search_traces(max_results=100)
    names = set(frame["trace"].map(lambda t: t.info.tags.get("mlflow.traceName")))
    assert {"agent", "stream_words", "fetch", "chat_turn", "describe", "Completions", "Embeddings"} <= names
    assert "RunnableSequence" in names
    assert setup.get_export_stats().failed == 0
