"""Tag-driven search, the legacy V2 trace lifecycle and trace analytics, on every backend.

A ``tags.<k> = '<v>'`` filter is answered from ``ix_trace_tags_search``, whose rows carry copies
of their trace's experiment and time: these tests check that the copies follow every write
(new traces, traces extended with earlier spans, StartTraceV3 with another time, tags set
later, V2 traces) by comparing each tag-filtered search with the same question asked without
that index (``LIKE`` with no wildcard matches the same rows through the generic path).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracing.entities import Assessment, TraceInfo, TraceState, mlflow_trace_id
from mltrail.tracing.store.analytics import Aggregation, AggregationType, MetricPoint, ViewType
from tests.tracing_backend._spans import BASE_NS, new_span_id, new_trace_id, span
from tests.tracing_backend.conftest import Backend

BASE_MS = BASE_NS // 1_000_000


def _trace(
    backend: Backend,
    name: str,
    start_ms: int,
    *,
    tags: dict[str, str] | None = None,
    duration: int = 10,
    status: str = "OK",
    usage: dict[str, int] | None = None,
    model: str | None = None,
) -> str:
    otel_id = new_trace_id()
    root_id = new_span_id()
    root_attrs: dict[str, object] = {f"mlflow.traceTag.{k}": v for k, v in (tags or {}).items()}
    root_attrs["mlflow.spanType"] = "AGENT"
    child_attrs: dict[str, object] = {"mlflow.spanType": "CHAT_MODEL"}
    if usage:
        child_attrs["mlflow.chat.tokenUsage"] = usage
    if model:
        child_attrs["mlflow.llm.model"] = model
    spans = [
        span(
            otel_id,
            name,
            span_id=root_id,
            start_ms=start_ms,
            end_ms=start_ms + duration,
            status=status,
            attributes=root_attrs,
        ),
        span(
            otel_id,
            f"{name}-llm",
            parent=root_id,
            start_ms=start_ms + 1,
            end_ms=start_ms + 3,
            attributes=child_attrs,
        ),
    ]
    backend.traces.log_spans(backend.experiment_id, spans)
    return mlflow_trace_id(otel_id)


def _ids(
    backend: Backend, filter_string: str, *, order_by: list[str] | None = None, page: int = 2
) -> list[str]:
    """Every matching trace id, paging ``page`` at a time."""
    out: list[str] = []
    token = None
    while True:
        result = backend.traces.search_traces(
            [backend.experiment_id], filter_string, max_results=page, order_by=order_by, page_token=token
        )
        out.extend(i.trace_id for i in result)
        token = result.next_page_token
        if not token:
            return out


def _same_as_generic(backend: Backend, key: str, value: str, *, extra: str = "") -> list[str]:
    """The tag-driven result, after checking it against the generic path, newest first."""
    tail = f" AND {extra}" if extra else ""
    driven = _ids(backend, f"tags.`{key}` = '{value}'{tail}")
    generic = _ids(backend, f"tags.`{key}` LIKE '{value}'{tail}")
    assert driven == generic
    ascending = _ids(backend, f"tags.`{key}` = '{value}'{tail}", order_by=["timestamp_ms ASC"])
    assert ascending == list(reversed(driven))
    return driven


def test_tag_search_follows_every_write(backend: Backend) -> None:
    a1 = _trace(backend, "a1", 100, tags={"team": "a", "env": "prod"})
    b1 = _trace(backend, "b1", 200, tags={"team": "b"})
    a2 = _trace(backend, "a2", 300, tags={"team": "a", "env": "dev"})
    a3 = _trace(backend, "a3", 400, tags={"team": "a", "env": "prod"})
    a4 = _trace(backend, "a4", 500, tags={"team": "a"})
    assert _same_as_generic(backend, "team", "a") == [a4, a3, a2, a1]
    assert _same_as_generic(backend, "team", "a", extra="tags.env = 'prod'") == [a3, a1]
    assert _same_as_generic(backend, "team", "b") == [b1]
    assert _ids(backend, "tags.team = 'c'") == []
    # The trace name is a tag too: `name = ...` takes the same path.
    assert _ids(backend, "name = 'a2'") == [a2]

    # An earlier span moves a trace back in time: its tag rows must follow.
    otel_a4 = a4.removeprefix("tr-")
    backend.traces.log_spans(backend.experiment_id, [span(otel_a4, "early", start_ms=50, end_ms=60)])
    assert backend.traces.get_trace_info(a4).request_time == BASE_MS + 50
    assert _same_as_generic(backend, "team", "a") == [a3, a2, a1, a4]

    # StartTraceV3 with another request time wins over the spans' time.
    info = backend.traces.get_trace_info(a1)
    backend.traces.start_trace(
        TraceInfo(a1, backend.experiment_id, BASE_MS + 1000, 5, TraceState.OK, tags={"team": "a"})
    )
    assert _same_as_generic(backend, "team", "a") == [a1, a3, a2, a4]
    assert info.request_time != BASE_MS + 1000

    # Tags set, changed and deleted later.
    backend.traces.set_trace_tag(b1, "team", "a")
    assert _same_as_generic(backend, "team", "a") == [a1, a3, a2, b1, a4]
    backend.traces.set_trace_tag(a2, "team", "z")
    assert _same_as_generic(backend, "team", "a") == [a1, a3, b1, a4]
    backend.traces.delete_trace_tag(a3, "team")
    assert _same_as_generic(backend, "team", "a") == [a1, b1, a4]
    backend.traces.delete_traces(backend.experiment_id, trace_ids=[b1])
    assert _same_as_generic(backend, "team", "a") == [a1, a4]


def test_tag_search_with_long_values_and_other_experiments(backend: Backend) -> None:
    long_value = "x" * 3000 + "é"
    wanted = _trace(backend, "long", 10, tags={"blob": long_value})
    _trace(backend, "other", 20, tags={"blob": long_value[:-1]})
    assert _same_as_generic(backend, "blob", long_value) == [wanted]
    other = backend.tracking.create_experiment("other-experiment")
    otel_id = new_trace_id()
    backend.traces.log_spans(
        other, [span(otel_id, "elsewhere", start_ms=30, attributes={"mlflow.traceTag.blob": long_value})]
    )
    assert _ids(backend, f"tags.blob = '{long_value}'") == [wanted]
    both = backend.traces.search_traces([backend.experiment_id, other], f"tags.blob = '{long_value}'")
    assert [i.trace_id for i in both] == [mlflow_trace_id(otel_id), wanted]


def test_v2_trace_lifecycle(backend: Backend) -> None:
    started = backend.traces.start_trace_v2(
        backend.experiment_id,
        BASE_MS + 5,
        {"mlflow.trace_schema.version": "2", "mlflow.user": "me"},
        {"mlflow.traceName": "legacy", "team": "v2"},
    )
    assert started.trace_id.startswith("tr-")
    assert started.state is TraceState.IN_PROGRESS
    assert started.execution_duration is None
    assert started.request_time == BASE_MS + 5
    assert started.trace_metadata["mlflow.user"] == "me"
    assert started.tags["team"] == "v2"
    assert started.tags["mlflow.artifactLocation"].endswith(f"/traces/{started.trace_id}/artifacts")
    # Spans of a V2 trace go to the artifact store, so the store does not claim them.
    assert "mlflow.trace.spansLocation" not in started.tags
    assert _ids(backend, "tags.team = 'v2'") == [started.trace_id]

    ended = backend.traces.end_trace_v2(
        started.trace_id, BASE_MS + 45, TraceState.ERROR, {"extra": "1"}, {"team": "v2-done"}
    )
    assert ended.execution_duration == 40
    assert ended.state is TraceState.ERROR
    assert ended.trace_metadata["extra"] == "1"
    assert ended.trace_metadata["mlflow.user"] == "me"
    assert ended.tags["team"] == "v2-done"
    assert backend.traces.get_trace_info(started.trace_id) == ended
    assert _ids(backend, "tags.team = 'v2-done' AND status = 'ERROR'") == [started.trace_id]
    with pytest.raises(NotFoundError):
        backend.traces.end_trace_v2("tr-" + "0" * 32, BASE_MS, TraceState.OK, {}, {})
    with pytest.raises(NotFoundError):
        backend.traces.start_trace_v2("987654", BASE_MS, {}, {})


def test_filter_correlation(backend: Backend) -> None:
    # 8 traces: team a on 0..3, env prod on 0,1 and 4,5 (half of each in the other): independent.
    for i in range(8):
        tags = {"team": "a" if i < 4 else "b", "env": "prod" if i % 4 < 2 else "dev"}
        _trace(backend, f"t{i}", i * 10, tags=tags, status="ERROR" if i in (0, 1) else "OK")
    result = backend.traces.calculate_filter_correlation(
        [backend.experiment_id], "tags.team = 'a'", "tags.env = 'prod'"
    )
    assert (result.filter1_count, result.filter2_count, result.joint_count, result.total_count) == (
        4,
        4,
        2,
        8,
    )
    assert result.npmi is not None and abs(result.npmi) < 1e-9
    # Errors happen only on team a, prod: within team a, error and prod always go together.
    within = backend.traces.calculate_filter_correlation(
        [backend.experiment_id], "status = 'ERROR'", "tags.env = 'prod'", base_filter="tags.team = 'a'"
    )
    assert (within.filter1_count, within.filter2_count, within.joint_count, within.total_count) == (
        2,
        2,
        2,
        4,
    )
    assert within.npmi == pytest.approx(1.0)
    never = backend.traces.calculate_filter_correlation(
        [backend.experiment_id], "tags.team = 'a'", "tags.team = 'b'"
    )
    assert never.npmi == -1.0
    assert never.npmi_smoothed is not None and -1.0 < never.npmi_smoothed < 0
    undefined = backend.traces.calculate_filter_correlation(
        [backend.experiment_id], "tags.team = 'nobody'", "tags.env = 'prod'"
    )
    assert undefined.npmi is None and undefined.npmi_smoothed is None
    assert undefined.filter2_count == 4
    with pytest.raises(InvalidArgumentError):
        backend.traces.calculate_filter_correlation(
            [backend.experiment_id], "bogus.key = 'x'", "status = 'OK'"
        )


def _values(points: Iterable[MetricPoint], key: str = "") -> dict[str, dict[str, float]]:
    return {p.dimensions.get(key, "") if key else "": p.values for p in points}


def test_trace_metrics(backend: Backend) -> None:
    exp = [backend.experiment_id]
    _trace(
        backend,
        "chat",
        0,
        duration=100,
        usage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
        model="gpt-4o",
    )
    _trace(
        backend,
        "chat",
        1000,
        duration=300,
        status="ERROR",
        usage={"input_tokens": 30, "output_tokens": 5, "total_tokens": 35},
        model="gpt-4o",
    )
    _trace(backend, "search", 2000, duration=200, tags={"env": "prod"})
    count = Aggregation(AggregationType.COUNT)

    by_status = backend.traces.query_trace_metrics(
        exp, ViewType.TRACES, "trace_count", [count], dimensions=["trace_status"]
    )
    assert _values(list(by_status), "trace_status") == {"ERROR": {"COUNT": 1.0}, "OK": {"COUNT": 2.0}}

    latency = backend.traces.query_trace_metrics(
        exp,
        ViewType.TRACES,
        "latency",
        [
            Aggregation(AggregationType.AVG),
            Aggregation(AggregationType.MAX),
            Aggregation(AggregationType.PERCENTILE, 50),
        ],
        dimensions=["trace_name"],
    )
    assert _values(list(latency), "trace_name") == {
        "chat": {"AVG": 200.0, "MAX": 300.0, "P50.0": 200.0},
        "search": {"AVG": 200.0, "MAX": 200.0, "P50.0": 200.0},
    }
    tokens = backend.traces.query_trace_metrics(
        exp,
        ViewType.TRACES,
        "input_tokens",
        [Aggregation(AggregationType.SUM), Aggregation(AggregationType.MIN)],
    )
    assert _values(list(tokens)) == {"": {"SUM": 40.0, "MIN": 10.0}}

    # Time buckets of one second over the three traces, inclusive bounds.
    buckets = backend.traces.query_trace_metrics(
        exp,
        ViewType.TRACES,
        "trace_count",
        [count],
        time_interval_seconds=1,
        start_time_ms=BASE_MS,
        end_time_ms=BASE_MS + 1000,
    )
    assert [p.values["COUNT"] for p in buckets] == [1.0, 1.0]
    assert [p.dimensions["time_bucket"] for p in buckets] == sorted(
        p.dimensions["time_bucket"] for p in buckets
    )
    assert buckets.items[0].dimensions["time_bucket"].endswith("+00:00")

    filtered = backend.traces.query_trace_metrics(
        exp, ViewType.TRACES, "trace_count", [count], filters=["trace.tag.env = 'prod'"]
    )
    assert _values(list(filtered)) == {"": {"COUNT": 1.0}}
    ok_only = backend.traces.query_trace_metrics(
        exp, ViewType.TRACES, "trace_count", [count], filters=["trace.status = 'OK'"]
    )
    assert _values(list(ok_only)) == {"": {"COUNT": 2.0}}

    span_types = backend.traces.query_trace_metrics(
        exp, ViewType.SPANS, "span_count", [count], dimensions=["span_type"]
    )
    assert _values(list(span_types), "span_type") == {"AGENT": {"COUNT": 3.0}, "CHAT_MODEL": {"COUNT": 3.0}}
    models = backend.traces.query_trace_metrics(
        exp, ViewType.SPANS, "span_count", [count], dimensions=["span_model_name"]
    )
    assert _values(list(models), "span_model_name") == {"gpt-4o": {"COUNT": 2.0}}
    span_latency = backend.traces.query_trace_metrics(
        exp,
        ViewType.SPANS,
        "latency",
        [Aggregation(AggregationType.MIN)],
        filters=["span.type = 'CHAT_MODEL'"],
    )
    assert _values(list(span_latency)) == {"": {"MIN": 2.0}}

    # Paging over the points.
    first = backend.traces.query_trace_metrics(
        exp, ViewType.SPANS, "span_count", [count], dimensions=["span_name"], max_results=2
    )
    assert len(first.items) == 2 and first.next_page_token
    rest = backend.traces.query_trace_metrics(
        exp,
        ViewType.SPANS,
        "span_count",
        [count],
        dimensions=["span_name"],
        max_results=2,
        page_token=first.next_page_token,
    )
    names = [p.dimensions["span_name"] for p in [*first, *rest]]
    assert names == sorted(["chat", "chat-llm", "search", "search-llm"]) and rest.next_page_token is None

    with pytest.raises(InvalidArgumentError, match="invalid dimension"):
        backend.traces.query_trace_metrics(
            exp, ViewType.TRACES, "latency", [Aggregation(AggregationType.AVG)], dimensions=["span_type"]
        )
    with pytest.raises(InvalidArgumentError, match="aggregation"):
        backend.traces.query_trace_metrics(
            exp, ViewType.TRACES, "trace_count", [Aggregation(AggregationType.SUM)]
        )
    with pytest.raises(InvalidArgumentError, match="start_time_ms"):
        backend.traces.query_trace_metrics(
            exp, ViewType.TRACES, "trace_count", [count], time_interval_seconds=60
        )


def test_assessment_metrics(backend: Backend) -> None:
    exp = [backend.experiment_id]
    first = _trace(backend, "one", 0)
    second = _trace(backend, "two", 100)
    for trace_id, value in ((first, True), (second, False)):
        backend.traces.create_assessment(
            Assessment(
                assessment_id="",
                trace_id=trace_id,
                name="correct",
                kind="feedback",
                payload={"value": value},
                source_type="HUMAN",
                source_id="me",
                create_time=0,
                last_update_time=0,
            )
        )
    backend.traces.create_assessment(
        Assessment("", first, "score", "feedback", {"value": 0.25}, "CODE", "judge", 0, 0)
    )
    count = Aggregation(AggregationType.COUNT)
    by_value = backend.traces.query_trace_metrics(
        exp,
        ViewType.ASSESSMENTS,
        "assessment_count",
        [count],
        dimensions=["assessment_name", "assessment_value"],
    )
    found = {
        (p.dimensions["assessment_name"], p.dimensions["assessment_value"]): p.values["COUNT"]
        for p in by_value
    }
    assert found == {("correct", "false"): 1.0, ("correct", "true"): 1.0, ("score", "0.25"): 1.0}
    average = backend.traces.query_trace_metrics(
        exp,
        ViewType.ASSESSMENTS,
        "assessment_value",
        [Aggregation(AggregationType.AVG)],
        dimensions=["assessment_name"],
        filters=["assessment.name = 'correct'"],
    )
    assert _values(list(average), "assessment_name") == {"correct": {"AVG": 0.5}}


def test_metric_filters_are_checked(backend: Backend) -> None:
    count = Aggregation(AggregationType.COUNT)
    for bad in (
        "status = 'OK'",
        "trace.tag = 'x'",
        "trace.status.x = 'OK'",
        "run.name = 'x'",
        "trace.status 'OK'",
    ):
        with pytest.raises(InvalidArgumentError):
            backend.traces.query_trace_metrics(
                [backend.experiment_id], ViewType.TRACES, "trace_count", [count], filters=[bad]
            )
    with pytest.raises(InvalidArgumentError, match="SPANS view"):
        backend.traces.query_trace_metrics(
            [backend.experiment_id], ViewType.TRACES, "trace_count", [count], filters=["span.name = 'x'"]
        )
