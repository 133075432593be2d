"""Tracing against a real ``mltrail server`` over HTTP: OTLP export, trace info, search, attachments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail import _plugins
from mltrail.config import Settings
from mltrail.tracing import setup
from mltrail.tracing.attachments import Attachment, parse_reference
from tests.support.live_server import LiveServer, running_server

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with running_server(tmp_path / "server") as live:
        yield live


def test_traces_reach_the_server_and_come_back(server: LiveServer) -> None:
    mltrail.set_tracking_uri(server.url)
    experiment = mltrail.set_experiment("over-http")

    @mltrail.trace(span_type="AGENT")
    def agent(question: str) -> str:
        mltrail.update_current_trace(tags={"channel": "http"}, session_id="s-1")
        with mltrail.start_span("llm", span_type="CHAT_MODEL") as span:
            span.set_inputs({"file": Attachment("text/plain", b"hello attachment")})
            span.set_token_usage(5, 7)
        return question[::-1]

    with mltrail.start_run() as run:
        assert agent("abc") == "cba"
    assert mltrail.flush_traces(60)
    stats = setup.get_export_stats()
    assert stats.exported == 1 and stats.failed == 0

    (trace,) = mltrail.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
    info = trace.info
    assert info.tags["channel"] == "http"
    assert info.tags["mlflow.traceName"] == "agent"
    assert info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    assert info.trace_metadata["mlflow.trace.session"] == "s-1"
    assert sorted(s.name for s in trace.spans) == ["agent", "llm"]
    llm = next(s for s in trace.spans if s.name == "llm")
    ref = parse_reference(llm.attributes["mlflow.spanInputs"]["file"])
    assert ref is not None
    repo = _plugins.resolve_artifact_repository(
        info.tags["mlflow.artifactLocation"], tracking_uri=server.url, settings=Settings()
    )
    assert b"".join(repo.open_chunks(f"attachments/{ref.attachment_id}")) == b"hello attachment"
