"""The SDK exporting to every SQL backend: SQLite always, PostgreSQL and MariaDB when configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mltrail
from mltrail.tracing import setup
from tests.support.databases import fresh_database


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def backend_uri(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'traces.db'}"
        return
    with fresh_database(request.param) as uri:
        yield uri


def test_batched_export_with_run_link_tags_and_usage(backend_uri: str) -> None:
    mltrail.set_tracking_uri(backend_uri)
    experiment = mltrail.set_experiment("sql-backends")

    @mltrail.trace(span_type="CHAIN")
    def step(i: int) -> int:
        mltrail.update_current_trace(tags={"parity": "even" if i % 2 == 0 else "odd"})
        with mltrail.start_span("llm", span_type="CHAT_MODEL") as span:
            span.set_token_usage(3, 4)
        return i * i

    with mltrail.start_run() as run:
        for i in range(40):
            step(i)
    assert mltrail.flush_traces(60)
    stats = setup.get_export_stats()
    assert (stats.exported, stats.failed, stats.dropped) == (40, 0, 0)
    store = setup.trace_store()
    infos = store.search_traces([experiment.experiment_id], max_results=100).items
    assert len(infos) == 40
    assert all(i.trace_metadata["mlflow.sourceRun"] == run.info.run_id for i in infos)
    assert all(
        i.trace_metadata["mlflow.trace.tokenUsage"]
        == ('{"input_tokens":3,"output_tokens":4,"total_tokens":7}')
        for i in infos
    )
    even = store.search_traces([experiment.experiment_id], filter_string="tags.parity = 'even'").items
    assert len(even) == 20
    trace = store.get_trace(infos[0].trace_id)
    assert sorted(s.name for s in trace.spans) == ["llm", "step"]
