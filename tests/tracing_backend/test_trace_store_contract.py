"""Contract of ``TraceStore``: every backend (SQLite, PostgreSQL, MariaDB, REST) keeps these rules."""

from __future__ import annotations

import json

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracing.entities import Assessment, TraceInfo, TraceState, mlflow_trace_id
from tests.tracing_backend._spans import BASE_NS, new_span_id, new_trace_id, rich_span, simple_trace, span
from tests.tracing_backend.conftest import Backend

BASE_MS = BASE_NS // 1_000_000


def test_spans_round_trip_with_full_fidelity(backend: Backend) -> None:
    trace_id = new_trace_id()
    root_id = new_span_id()
    root = span(trace_id, "root", span_id=root_id, end_ms=20, attributes={"mlflow.spanType": "AGENT"})
    rich = rich_span(trace_id, parent=root_id)
    backend.traces.log_spans(backend.experiment_id, [rich, root])

    trace = backend.traces.get_trace(mlflow_trace_id(trace_id))
    by_id = {s.span_id: s for s in trace.spans}
    assert set(by_id) == {root_id, rich.span_id}
    got = by_id[rich.span_id]
    expected_attrs = {**rich.attributes, "mlflow.traceRequestId": mlflow_trace_id(trace_id)}
    assert dict(got.attributes) == expected_attrs
    assert type(got.attributes["whole_float"]) is float
    assert type(got.attributes["count"]) is int
    assert got.events == rich.events
    assert got.links == rich.links
    assert dict(got.resource) == dict(rich.resource)
    assert (got.scope_name, got.scope_version) == ("my.scope", "1.2.3")
    assert (got.status_code, got.status_message) == ("ERROR", "boom")
    assert got.kind == 3
    assert got.parent_span_id == root_id
    assert (got.start_time_unix_nano, got.end_time_unix_nano) == (
        rich.start_time_unix_nano,
        rich.end_time_unix_nano,
    )
    assert got.trace_state == "vendor=1"


def test_log_spans_creates_trace_info(backend: Backend) -> None:
    trace_id, spans = simple_trace(
        "my-root",
        start_ms=0,
        end_ms=30,
        attributes={"mlflow.spanInputs": {"q": "hello"}, "mlflow.spanOutputs": "answer"},
    )
    infos = backend.traces.log_spans(backend.experiment_id, spans)
    assert [i.trace_id for i in infos] == [mlflow_trace_id(trace_id)]
    info = backend.traces.get_trace_info(mlflow_trace_id(trace_id))
    assert info == infos[0]
    assert info.experiment_id == backend.experiment_id
    assert info.request_time == BASE_MS
    assert info.execution_duration == 30
    assert info.state is TraceState.OK
    assert json.loads(info.request_preview or "") == {"q": "hello"}
    assert info.response_preview == "answer"
    assert info.tags["mlflow.traceName"] == "my-root"
    assert info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info.tags["mlflow.artifactLocation"].endswith(f"/traces/{info.trace_id}/artifacts")
    assert info.trace_metadata["mlflow.trace_schema.version"] == "3"


def test_partial_batches_are_upserted(backend: Backend) -> None:
    trace_id = new_trace_id()
    root_id, child_id = new_span_id(), new_span_id()
    child = span(
        trace_id, "child", span_id=child_id, parent=root_id, start_ms=5, end_ms=9, attributes={"v": 1}
    )
    tid = mlflow_trace_id(trace_id)

    backend.traces.log_spans(backend.experiment_id, [child])
    first = backend.traces.get_trace_info(tid)
    assert first.state is TraceState.IN_PROGRESS
    assert "mlflow.traceName" not in first.tags

    root = span(
        trace_id, "root", span_id=root_id, start_ms=0, end_ms=12, attributes={"mlflow.spanInputs": "in"}
    )
    backend.traces.log_spans(backend.experiment_id, [root])
    changed = span(
        trace_id, "child", span_id=child_id, parent=root_id, start_ms=5, end_ms=9, attributes={"v": 2}
    )
    backend.traces.log_spans(backend.experiment_id, [changed])

    trace = backend.traces.get_trace(tid)
    assert len(trace.spans) == 2
    assert {s.span_id: s.attributes.get("v") for s in trace.spans} == {root_id: None, child_id: 2}
    assert trace.info.state is TraceState.OK
    assert trace.info.request_time == BASE_MS
    assert trace.info.execution_duration == 12
    assert trace.info.tags["mlflow.traceName"] == "root"
    assert trace.info.request_preview == "in"


def test_error_root_and_open_root(backend: Backend) -> None:
    err_id, err_spans = simple_trace(status="ERROR")
    open_id, open_spans = simple_trace(end_ms=None)
    backend.traces.log_spans(backend.experiment_id, err_spans + open_spans)
    assert backend.traces.get_trace_info(mlflow_trace_id(err_id)).state is TraceState.ERROR
    open_info = backend.traces.get_trace_info(mlflow_trace_id(open_id))
    assert open_info.state is TraceState.IN_PROGRESS


def test_trace_tags_sessions_users_and_token_usage(backend: Backend) -> None:
    trace_id = new_trace_id()
    root_id = new_span_id()
    root = span(
        trace_id,
        "agent",
        span_id=root_id,
        end_ms=50,
        attributes={"mlflow.traceTag.team": "search", "session.id": "sess-1", "user.id": "alice"},
    )
    llm_a = span(
        trace_id,
        "llm-a",
        parent=root_id,
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 100,
            "gen_ai.usage.output_tokens": 20,
        },
    )
    llm_b = span(
        trace_id,
        "llm-b",
        parent=root_id,
        attributes={"mlflow.chat.tokenUsage": {"input_tokens": 5, "output_tokens": 1, "total_tokens": 6}},
    )
    backend.traces.log_spans(backend.experiment_id, [llm_a, root])
    backend.traces.log_spans(backend.experiment_id, [llm_b])
    info = backend.traces.get_trace_info(mlflow_trace_id(trace_id))
    assert info.tags["team"] == "search"
    assert info.trace_metadata["mlflow.trace.session"] == "sess-1"
    assert info.trace_metadata["mlflow.trace.user"] == "alice"
    usage = json.loads(info.trace_metadata["mlflow.trace.tokenUsage"])
    assert usage == {"input_tokens": 105, "output_tokens": 21, "total_tokens": 126}
    cost = json.loads(info.trace_metadata["mlflow.trace.cost"])
    assert cost["input_cost"] == pytest.approx(100 * 2.5 / 1e6)
    assert cost["output_cost"] == pytest.approx(20 * 10.0 / 1e6)
    stored = {s.name: s for s in backend.traces.get_trace(info.trace_id).spans}
    assert stored["llm-a"].attributes["mlflow.spanType"] == "CHAT_MODEL"
    assert stored["llm-a"].attributes["mlflow.llm.model"] == "gpt-4o"


def test_start_trace_after_spans_merges(backend: Backend) -> None:
    trace_id, spans = simple_trace()
    tid = mlflow_trace_id(trace_id)
    backend.traces.log_spans(backend.experiment_id, spans)
    info = TraceInfo(
        trace_id=tid,
        experiment_id=backend.experiment_id,
        request_time=BASE_MS,
        execution_duration=11,
        state=TraceState.OK,
        request_preview='{"x": 1}',
        response_preview='"y"',
        client_request_id="client-7",
        trace_metadata={"mlflow.user": "bob", "mlflow.source.name": "app.py"},
        tags={"custom": "1"},
    )
    stored = backend.traces.start_trace(info)
    assert stored.trace_metadata["mlflow.trace.infoFinalized"] == "true"
    assert stored.trace_metadata["mlflow.user"] == "bob"
    assert stored.tags["custom"] == "1"
    assert stored.tags["mlflow.traceName"] == "root"
    assert stored.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert stored.execution_duration == 11
    assert stored.client_request_id == "client-7"
    assert stored.request_preview == '{"x": 1}'
    assert len(backend.traces.get_trace(tid).spans) == 2


def test_start_trace_alone_then_unknown_ids(backend: Backend) -> None:
    tid = mlflow_trace_id(new_trace_id())
    info = TraceInfo(tid, backend.experiment_id, BASE_MS, 5, TraceState.OK, tags={"a": "b"})
    stored = backend.traces.start_trace(info)
    assert stored.tags["a"] == "b"
    assert backend.traces.get_trace(tid).spans == ()
    missing = mlflow_trace_id(new_trace_id())
    with pytest.raises(NotFoundError):
        backend.traces.get_trace_info(missing)
    with pytest.raises(NotFoundError):
        backend.traces.get_trace(missing)


def test_unknown_experiment_is_not_found(backend: Backend) -> None:
    _, spans = simple_trace()
    with pytest.raises(NotFoundError):
        backend.traces.log_spans("987654", spans)
    assert backend.traces.search_traces([backend.experiment_id]).items == []


def test_batch_get_traces(backend: Backend) -> None:
    ids = []
    for name in ("a", "b", "c"):
        trace_id, spans = simple_trace(name)
        backend.traces.log_spans(backend.experiment_id, spans)
        ids.append(mlflow_trace_id(trace_id))
    missing = mlflow_trace_id(new_trace_id())
    traces = backend.traces.batch_get_traces([ids[2], missing, ids[0]])
    assert sorted(t.info.trace_id for t in traces) == sorted([ids[2], ids[0]])
    assert all(len(t.spans) == 2 for t in traces)
    infos = backend.traces.batch_get_trace_infos([ids[1], missing])
    assert [i.trace_id for i in infos] == [ids[1]]


def test_delete_traces_by_ids_and_by_age(backend: Backend) -> None:
    ids = []
    for i in range(5):
        trace_id, spans = simple_trace(f"t{i}", start_ms=i * 1000, end_ms=i * 1000 + 10)
        backend.traces.log_spans(backend.experiment_id, spans)
        ids.append(mlflow_trace_id(trace_id))
    assert backend.traces.delete_traces(backend.experiment_id, trace_ids=[ids[4]]) == 1
    with pytest.raises(NotFoundError):
        backend.traces.get_trace(ids[4])
    deleted = backend.traces.delete_traces(
        backend.experiment_id, max_timestamp_millis=BASE_MS + 2500, max_traces=2
    )
    assert deleted == 2
    remaining = {i.trace_id for i in backend.traces.search_traces([backend.experiment_id])}
    assert remaining == {ids[2], ids[3]}
    assert backend.traces.delete_traces(backend.experiment_id, max_timestamp_millis=BASE_MS + 10_000) == 2
    with pytest.raises(InvalidArgumentError):
        backend.traces.delete_traces(backend.experiment_id, max_timestamp_millis=1, trace_ids=[ids[0]])
    with pytest.raises(InvalidArgumentError):
        backend.traces.delete_traces(backend.experiment_id)


def test_tags_set_and_delete(backend: Backend) -> None:
    trace_id, spans = simple_trace()
    tid = mlflow_trace_id(trace_id)
    backend.traces.log_spans(backend.experiment_id, spans)
    backend.traces.set_trace_tag(tid, "k", "v1")
    backend.traces.set_trace_tag(tid, "k", "v2")
    assert backend.traces.get_trace_info(tid).tags["k"] == "v2"
    backend.traces.delete_trace_tag(tid, "k")
    assert "k" not in backend.traces.get_trace_info(tid).tags
    with pytest.raises(NotFoundError):
        backend.traces.delete_trace_tag(tid, "k")
    with pytest.raises(NotFoundError):
        backend.traces.set_trace_tag(mlflow_trace_id(new_trace_id()), "k", "v")


def test_link_traces_to_run(backend: Backend) -> None:
    run = backend.tracking.create_run(backend.experiment_id, start_time=BASE_MS)
    run_id = run.info.run_id
    trace_id, spans = simple_trace()
    tid = mlflow_trace_id(trace_id)
    backend.traces.log_spans(backend.experiment_id, spans)
    backend.traces.link_traces_to_run([tid], run_id)
    assert backend.traces.get_trace_info(tid).trace_metadata["mlflow.sourceRun"] == run_id
    found = backend.traces.search_traces([backend.experiment_id], f"run_id = '{run_id}'")
    assert [i.trace_id for i in found] == [tid]
    with pytest.raises(InvalidArgumentError):
        backend.traces.link_traces_to_run([tid] * 101, run_id)


def test_log_spans_with_run_id(backend: Backend) -> None:
    run_id = backend.tracking.create_run(backend.experiment_id, start_time=BASE_MS).info.run_id
    trace_id, spans = simple_trace()
    backend.traces.log_spans(backend.experiment_id, spans, run_id=run_id)
    info = backend.traces.get_trace_info(mlflow_trace_id(trace_id))
    assert info.trace_metadata["mlflow.sourceRun"] == run_id


def test_assessments_lifecycle_and_search(backend: Backend) -> None:
    trace_id, spans = simple_trace()
    tid = mlflow_trace_id(trace_id)
    backend.traces.log_spans(backend.experiment_id, spans)
    feedback = backend.traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=tid,
            name="correct",
            kind="feedback",
            payload={"value": True},
            source_type="LLM_JUDGE",
            source_id="judge-1",
            rationale="matches",
            metadata={"m": "1"},
        )
    )
    assert feedback.assessment_id.startswith("a-")
    assert feedback.create_time > 0 and feedback.valid
    expectation = backend.traces.create_assessment(
        Assessment("", tid, "answer", "expectation", {"value": {"text": "42"}}, source_type="HUMAN")
    )
    assert backend.traces.get_assessment(tid, feedback.assessment_id) == feedback
    info = backend.traces.get_trace_info(tid)
    assert {a.name for a in info.assessments} == {"correct", "answer"}
    exp = [backend.experiment_id]
    assert [i.trace_id for i in backend.traces.search_traces(exp, "feedback.correct = 'true'")] == [tid]
    assert backend.traces.search_traces(exp, "feedback.correct = 'false'").items == []
    assert [i.trace_id for i in backend.traces.search_traces(exp, "expectation.answer LIKE '%42%'")] == [tid]
    assert backend.traces.search_traces(exp, "feedback.missing IS NOT NULL").items == []

    updated = backend.traces.update_assessment(
        tid,
        feedback.assessment_id,
        {"name": "correctness", "kind": "feedback", "payload": {"value": False}, "metadata": {"n": "2"}},
    )
    assert (updated.name, updated.value, dict(updated.metadata)) == (
        "correctness",
        False,
        {"m": "1", "n": "2"},
    )
    assert [i.trace_id for i in backend.traces.search_traces(exp, "feedback.correctness = 'false'")] == [tid]

    override = backend.traces.create_assessment(
        Assessment("", tid, "correctness", "feedback", {"value": True}, overrides=feedback.assessment_id)
    )
    assert backend.traces.get_assessment(tid, feedback.assessment_id).valid is False
    assert [i.trace_id for i in backend.traces.search_traces(exp, "feedback.correctness = 'true'")] == [tid]
    backend.traces.delete_assessment(tid, override.assessment_id)
    assert backend.traces.get_assessment(tid, feedback.assessment_id).valid is True
    with pytest.raises(NotFoundError):
        backend.traces.get_assessment(tid, override.assessment_id)
    backend.traces.delete_assessment(tid, expectation.assessment_id)
    assert [a.name for a in backend.traces.get_trace_info(tid).assessments] == ["correctness"]
    with pytest.raises(NotFoundError):
        backend.traces.create_assessment(
            Assessment("", mlflow_trace_id(new_trace_id()), "x", "feedback", {"value": 1})
        )


def test_large_batches_and_pages_are_chunked(sqlite_backend: Backend) -> None:
    spans = [span(new_trace_id(), f"t{i}", start_ms=i) for i in range(1200)]
    infos = sqlite_backend.traces.log_spans(sqlite_backend.experiment_id, spans)
    assert len(infos) == 1200
    page = sqlite_backend.traces.search_traces([sqlite_backend.experiment_id], max_results=50000)
    assert len(page) == 1200 and page.next_page_token is None
    assert [i.tags["mlflow.traceName"] for i in page][:2] == ["t1199", "t1198"]
    ids = [i.trace_id for i in page]
    assert len(sqlite_backend.traces.batch_get_traces(ids)) == 1200
    assert sqlite_backend.traces.delete_traces(sqlite_backend.experiment_id, trace_ids=ids) == 1200
