"""Trace routes added for spec TRACING §3: V2 StartTrace/EndTrace/GetTraceInfo, GetTrace's
``allow_partial``, QueryTraceMetrics and CalculateTraceFilterCorrelation.

The wire shapes are checked twice: with raw HTTP through the ASGI app, and with MLflow's own
REST store (the code an MLflow client runs) against a live server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracing.entities import SpanData, TraceInfo, TraceState, mlflow_trace_id
from mltrail.tracing.otlp import encode_spans
from mltrail.tracing.store.sql import SqlTraceStore
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.support.live_server import threaded_server
from tests.tracing_backend._spans import BASE_NS, new_span_id, new_trace_id, span

BASE_MS = BASE_NS // 1_000_000


class App:
    """An in-process server on SQLite with one experiment."""

    def __init__(self, client: TestClient, uri: str, experiment_id: str) -> None:
        self.client = client
        self.traces = SqlTraceStore(uri)
        self.experiment_id = experiment_id

    def export(self, *spans_: SpanData) -> None:
        response = self.client.post(
            "/v1/traces",
            content=encode_spans(list(spans_)),
            headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": self.experiment_id},
        )
        assert response.status_code == 200

    def trace(self, name: str, start_ms: int, *, team: str, status: str = "OK", duration: int = 20) -> str:
        otel_id = new_trace_id()
        root = new_span_id()
        self.export(
            span(
                otel_id,
                name,
                span_id=root,
                start_ms=start_ms,
                end_ms=start_ms + duration,
                status=status,
                attributes={"mlflow.traceTag.team": team, "mlflow.spanType": "AGENT"},
            ),
            span(
                otel_id,
                "tool",
                parent=root,
                start_ms=start_ms + 1,
                end_ms=start_ms + 2,
                attributes={"mlflow.spanType": "TOOL"},
            ),
        )
        return mlflow_trace_id(otel_id)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    tracking = SqlTrackingStore(uri, "mlflow-artifacts:/")
    exp = tracking.create_experiment("routes")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"))
    with TestClient(create_app(settings, store=tracking)) as client:
        yield App(client, uri, exp)


@pytest.mark.parametrize("prefix", ["/api/2.0/mlflow", "/ajax-api/2.0/mlflow"])
def test_v2_start_end_and_get_info(app: App, prefix: str) -> None:
    started = app.client.post(
        f"{prefix}/traces",
        json={
            "experiment_id": app.experiment_id,
            "timestamp_ms": BASE_MS,
            "request_metadata": [{"key": "mlflow.trace_schema.version", "value": "2"}],
            "tags": [{"key": "mlflow.traceName", "value": "legacy"}],
        },
    )
    assert started.status_code == 200, started.text
    info = started.json()["trace_info"]
    request_id = info["request_id"]
    assert info["status"] == "IN_PROGRESS"
    assert info["timestamp_ms"] == BASE_MS
    assert "execution_time_ms" not in info
    assert {"key": "mlflow.traceName", "value": "legacy"} in info["tags"]

    ended = app.client.patch(
        f"{prefix}/traces/{request_id}",
        json={"timestamp_ms": BASE_MS + 250, "status": "OK", "tags": [{"key": "done", "value": "yes"}]},
    )
    assert ended.status_code == 200, ended.text
    done = ended.json()["trace_info"]
    assert (done["status"], done["execution_time_ms"]) == ("OK", 250)
    assert {"key": "done", "value": "yes"} in done["tags"]
    got = app.client.get(f"{prefix}/traces/{request_id}/info")
    assert got.json() == {"trace_info": done}
    # The same trace through the V3 routes.
    v3 = app.client.get(f"/api/3.0/mlflow/traces/{request_id}").json()["trace"]["trace_info"]
    assert v3["state"] == "OK" and v3["execution_duration"] == "0.250s"

    missing = app.client.patch(f"{prefix}/traces/tr-{'0' * 32}", json={"timestamp_ms": 1, "status": "OK"})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    no_info = app.client.get(f"{prefix}/traces/tr-{'0' * 32}/info")
    assert no_info.status_code == 404
    bad = app.client.post(f"{prefix}/traces", json={"timestamp_ms": 1})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_get_trace_allow_partial(app: App) -> None:
    otel_id = new_trace_id()
    root = new_span_id()
    app.export(span(otel_id, "root", span_id=root, start_ms=0, end_ms=50))
    trace_id = mlflow_trace_id(otel_id)
    stored = app.traces.get_trace_info(trace_id)
    # The client reports three spans; one arrived.
    app.traces.start_trace(
        TraceInfo(
            trace_id,
            app.experiment_id,
            stored.request_time,
            50,
            TraceState.OK,
            trace_metadata={"mlflow.trace.sizeStats": json.dumps({"num_spans": 3})},
        )
    )
    partial = app.client.get("/api/3.0/mlflow/traces/get", params={"trace_id": trace_id})
    assert partial.status_code == 404
    assert partial.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "not fully exported yet" in partial.json()["message"]
    allowed = app.client.get(
        "/api/3.0/mlflow/traces/get", params={"trace_id": trace_id, "allow_partial": "true"}
    )
    assert allowed.status_code == 200 and len(allowed.json()["trace"]["spans"]) == 1

    app.export(
        span(otel_id, "a", parent=root, start_ms=1, end_ms=2),
        span(otel_id, "b", parent=root, start_ms=3, end_ms=4),
    )
    complete = app.client.get("/ajax-api/3.0/mlflow/traces/get", params={"trace_id": trace_id})
    assert complete.status_code == 200 and len(complete.json()["trace"]["spans"]) == 3

    # A trace info with no spans yet, kept in the tracking store, is not complete either.
    lone = "tr-" + new_trace_id()
    app.traces.start_trace(TraceInfo(lone, app.experiment_id, BASE_MS, 1, TraceState.OK))
    assert app.client.get("/api/3.0/mlflow/traces/get", params={"trace_id": lone}).status_code == 404
    empty = app.client.get("/api/3.0/mlflow/traces/get", params={"trace_id": lone, "allow_partial": True})
    assert empty.status_code == 200 and empty.json()["trace"].get("spans", []) == []


def test_metrics_and_correlation_routes(app: App) -> None:
    app.trace("chat", 0, team="a", status="ERROR", duration=10)
    app.trace("chat", 100, team="a", duration=30)
    app.trace("search", 200, team="b", duration=20)
    body = {
        "experiment_ids": [app.experiment_id],
        "view_type": "TRACES",
        "metric_name": "latency",
        "aggregations": [
            {"aggregation_type": "AVG"},
            {"aggregation_type": "PERCENTILE", "percentile_value": 50},
        ],
        "dimensions": ["trace_name"],
    }
    response = app.client.post("/api/3.0/mlflow/traces/metrics", json=body)
    assert response.status_code == 200, response.text
    points = response.json()["data_points"]
    assert points == [
        {
            "metric_name": "latency",
            "dimensions": {"trace_name": "chat"},
            "values": {"AVG": 20.0, "P50.0": 20.0},
        },
        {
            "metric_name": "latency",
            "dimensions": {"trace_name": "search"},
            "values": {"AVG": 20.0, "P50.0": 20.0},
        },
    ]
    spans = app.client.post(
        "/ajax-api/3.0/mlflow/traces/metrics",
        json={
            "experiment_ids": [app.experiment_id],
            "view_type": 2,
            "metric_name": "span_count",
            "aggregations": [{"aggregation_type": 1}],
            "filters": ["span.type = 'TOOL'"],
        },
    ).json()
    assert spans == {
        "data_points": [{"metric_name": "span_count", "dimensions": {}, "values": {"COUNT": 3.0}}]
    }
    empty = app.client.post(
        "/api/3.0/mlflow/traces/metrics", json={**body, "filters": ["trace.tag.team = 'zzz'"]}
    )
    assert empty.status_code == 200 and empty.json() == {}
    for broken in (
        {**body, "metric_name": "nope"},
        {**body, "dimensions": ["span_type"]},
        {**body, "aggregations": [{"aggregation_type": "PERCENTILE"}]},
        {key: value for key, value in body.items() if key != "view_type"},
        {**body, "time_interval_seconds": 60},
    ):
        bad = app.client.post("/api/3.0/mlflow/traces/metrics", json=broken)
        assert bad.status_code == 400, broken
        assert bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    correlation = app.client.post(
        "/api/3.0/mlflow/traces/calculate-filter-correlation",
        json={
            "experiment_ids": [app.experiment_id],
            "filter_string1": "tags.team = 'a'",
            "filter_string2": "status = 'ERROR'",
        },
    ).json()
    assert {k: correlation[k] for k in ("filter1_count", "filter2_count", "joint_count", "total_count")} == {
        "filter1_count": 2,
        "filter2_count": 1,
        "joint_count": 1,
        "total_count": 3,
    }
    assert 0 < correlation["npmi"] <= 1 and "npmi_smoothed" in correlation
    undefined = app.client.post(
        "/ajax-api/3.0/mlflow/traces/calculate-filter-correlation",
        json={
            "experiment_ids": [app.experiment_id],
            "filter_string1": "tags.team = 'nobody'",
            "filter_string2": "status = 'ERROR'",
            "base_filter": "tags.team = 'a'",
        },
    ).json()
    assert "npmi" not in undefined and undefined["total_count"] == 2


def test_mlflow_rest_store_speaks_the_new_routes(tmp_path: Path) -> None:
    """MLflow's client-side REST store calls the analytics and V2 routes and reads the answers."""
    from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
    from mlflow.entities.trace_status import TraceStatus
    from mlflow.store.tracking.rest_store import RestStore
    from mlflow.utils.rest_utils import MlflowHostCreds

    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    tracking = SqlTrackingStore(uri, "mlflow-artifacts:/")
    exp = tracking.create_experiment("mlflow-client")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"))
    with threaded_server(create_app(settings, store=tracking)) as url:
        store = RestStore(lambda: MlflowHostCreds(url))
        traces = SqlTraceStore(uri)
        for n, team in enumerate(("a", "a", "b")):
            otel_id = new_trace_id()
            traces.log_spans(
                exp,
                [
                    span(
                        otel_id,
                        f"t{n}",
                        start_ms=n * 10,
                        end_ms=n * 10 + 5,
                        attributes={"mlflow.traceTag.team": team},
                    )
                ],
            )
        result = store.calculate_trace_filter_correlation(
            experiment_ids=[exp], filter_string1="tags.team = 'a'", filter_string2="name = 't0'"
        )
        assert (result.filter1_count, result.filter2_count, result.joint_count, result.total_count) == (
            2,
            1,
            1,
            3,
        )
        assert 0 < result.npmi <= 1

        points = store.query_trace_metrics(
            experiment_ids=[exp],
            view_type=MetricViewType.TRACES,
            metric_name="trace_count",
            aggregations=[MetricAggregation(aggregation_type=AggregationType.COUNT)],
            dimensions=["trace_name"],
        )
        assert {p.dimensions["trace_name"]: p.values["COUNT"] for p in points} == {"t0": 1, "t1": 1, "t2": 1}

        started = store.deprecated_start_trace_v2(exp, BASE_MS, {"k": "v"}, {"mlflow.traceName": "v2"})
        assert started.status == TraceStatus.IN_PROGRESS
        ended = store.deprecated_end_trace_v2(started.request_id, BASE_MS + 7, TraceStatus.OK, {}, {"x": "y"})
        assert (ended.status, ended.execution_time_ms, ended.tags["x"]) == (TraceStatus.OK, 7, "y")
