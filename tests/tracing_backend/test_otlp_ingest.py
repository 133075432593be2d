"""``POST /v1/traces`` on the server: protobuf, OTLP/JSON, compression, partial upserts, bad bodies."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracing.entities import mlflow_trace_id
from mltrail.tracing.otlp import encode_spans
from mltrail.tracing.store.sql import SqlTraceStore
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.tracing_backend._spans import BASE_NS, new_span_id, new_trace_id, rich_span, simple_trace, span


class Server:
    """An in-process app with its stores."""

    def __init__(
        self, client: TestClient, traces: SqlTraceStore, tracking: SqlTrackingStore, exp: str
    ) -> None:
        self.client = client
        self.traces = traces
        self.tracking = tracking
        self.experiment_id = exp

    def post(self, body: bytes, content_type: str = "application/x-protobuf", **headers: str) -> Any:
        all_headers = {"Content-Type": content_type, "x-mlflow-experiment-id": self.experiment_id, **headers}
        return self.client.post("/v1/traces", content=body, headers=all_headers)

    def count(self) -> int:
        return len(self.traces.search_traces([self.experiment_id], max_results=1000).items)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    tracking = SqlTrackingStore(uri, "mlflow-artifacts:/")
    exp = tracking.create_experiment("otlp")
    settings = ServerSettings(backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts"))
    with TestClient(create_app(settings, store=tracking)) as client:
        yield Server(client, SqlTraceStore(uri), tracking, exp)


def _json_request(trace_id: str, root_id: str) -> dict[str, object]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "json-svc"}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "manual", "version": "0.1"},
                        "spans": [
                            {
                                "traceId": trace_id.upper(),
                                "spanId": root_id,
                                "name": "json-root",
                                "kind": 2,
                                "startTimeUnixNano": str(BASE_NS),
                                "endTimeUnixNano": str(BASE_NS + 7_000_000),
                                "attributes": [
                                    {"key": "s", "value": {"stringValue": "x"}},
                                    {"key": "i", "value": {"intValue": "9007199254740993"}},
                                    {"key": "d", "value": {"doubleValue": 2.5}},
                                    {"key": "b", "value": {"boolValue": True}},
                                    {
                                        "key": "arr",
                                        "value": {
                                            "arrayValue": {
                                                "values": [{"intValue": "1"}, {"stringValue": "a"}]
                                            }
                                        },
                                    },
                                    {
                                        "key": "kv",
                                        "value": {
                                            "kvlistValue": {
                                                "values": [{"key": "inner", "value": {"boolValue": False}}]
                                            }
                                        },
                                    },
                                ],
                                "events": [
                                    {"timeUnixNano": str(BASE_NS + 1), "name": "ev", "attributes": []}
                                ],
                                "status": {"code": "STATUS_CODE_ERROR", "message": "bad"},
                            },
                            {
                                "traceId": trace_id,
                                "spanId": new_span_id(),
                                "parentSpanId": root_id,
                                "name": "json-child",
                                "startTimeUnixNano": str(BASE_NS + 1_000_000),
                                "endTimeUnixNano": str(BASE_NS + 2_000_000),
                                "status": {},
                            },
                        ],
                    }
                ],
            }
        ]
    }


def test_protobuf_ingest_returns_empty_protobuf_response(server: Server) -> None:
    trace_id = new_trace_id()
    root_id = new_span_id()
    spans = [span(trace_id, "root", span_id=root_id, end_ms=20), rich_span(trace_id, parent=root_id)]
    response = server.post(encode_spans(spans))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse().ParseFromString(response.content)
    trace = server.traces.get_trace(mlflow_trace_id(trace_id))
    got = {s.name: s for s in trace.spans}
    assert got["rich"].resource == {"service.name": "svc", "telemetry.sdk.language": "python", "host.cpus": 2}
    assert got["rich"].attributes["nested"] == {"a": {"b": [True, None, "x"]}}
    assert got["rich"].links == spans[1].links
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"


def test_otlp_json_ingest(server: Server) -> None:
    trace_id, root_id = new_trace_id(), new_span_id()
    body = json.dumps(_json_request(trace_id, root_id)).encode()
    response = server.post(body, "application/json; charset=utf-8")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    trace = server.traces.get_trace(mlflow_trace_id(trace_id))
    root = next(s for s in trace.spans if s.name == "json-root")
    assert root.span_id == root_id
    assert root.attributes["i"] == 9007199254740993
    assert root.attributes["d"] == 2.5
    assert root.attributes["arr"] == [1, "a"]
    assert root.attributes["kv"] == {"inner": False}
    assert (root.status_code, root.status_message, root.kind) == ("ERROR", "bad", 2)
    assert (root.scope_name, root.scope_version) == ("manual", "0.1")
    assert root.events[0].name == "ev"
    assert trace.info.state.value == "ERROR"
    assert trace.info.execution_duration == 7


@pytest.mark.parametrize(
    "encoding",
    ["gzip", "deflate-zlib", "deflate-raw"],
)
def test_compressed_bodies(server: Server, encoding: str) -> None:
    trace_id, spans = simple_trace()
    raw = encode_spans(spans)
    if encoding == "gzip":
        body, header = gzip.compress(raw), "gzip"
    elif encoding == "deflate-zlib":
        body, header = zlib.compress(raw), "deflate"
    else:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body, header = compressor.compress(raw) + compressor.flush(), "deflate"
    response = server.post(body, **{"Content-Encoding": header})
    assert response.status_code == 200
    assert len(server.traces.get_trace(mlflow_trace_id(trace_id)).spans) == 2


def test_partial_batches_over_http(server: Server) -> None:
    trace_id = new_trace_id()
    root_id = new_span_id()
    child = span(trace_id, "child", parent=root_id, start_ms=1, end_ms=3)
    assert server.post(encode_spans([child])).status_code == 200
    assert server.traces.get_trace_info(mlflow_trace_id(trace_id)).state.value == "IN_PROGRESS"
    root = span(trace_id, "root", span_id=root_id, end_ms=9)
    assert server.post(encode_spans([root, child])).status_code == 200
    trace = server.traces.get_trace(mlflow_trace_id(trace_id))
    assert len(trace.spans) == 2
    assert trace.info.state.value == "OK"


def test_run_header_links_trace(server: Server) -> None:
    run_id = server.tracking.create_run(server.experiment_id).info.run_id
    trace_id, spans = simple_trace()
    assert server.post(encode_spans(spans), **{"x-mlflow-run-id": run_id}).status_code == 200
    info = server.traces.get_trace_info(mlflow_trace_id(trace_id))
    assert info.trace_metadata["mlflow.sourceRun"] == run_id


def _good_json_then_break(trace_id: str) -> bytes:
    request = _json_request(trace_id, new_span_id())
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "zz"  # type: ignore[index]
    return json.dumps(request).encode()


@pytest.mark.parametrize(
    ("body", "content_type", "headers"),
    [
        (b"\xff\xfe not protobuf at all", "application/x-protobuf", {}),
        (b"{not json", "application/json", {}),
        (b'{"resourceSpans": []}', "application/json", {}),
        (b"", "application/x-protobuf", {}),
        (b"{}", "text/plain", {}),
        (b"garbage", "application/x-protobuf", {"Content-Encoding": "gzip"}),
        (b"x", "application/x-protobuf", {"Content-Encoding": "br"}),
        (None, "application/json", {}),
    ],
)
def test_bad_bodies_get_400_and_store_nothing(
    server: Server, body: bytes | None, content_type: str, headers: dict[str, str]
) -> None:
    payload = body if body is not None else _good_json_then_break(new_trace_id())
    response = server.post(payload, content_type, **headers)
    assert response.status_code == 400
    assert server.count() == 0


def test_bad_span_ids_in_protobuf_store_nothing(server: Server) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    _, spans = simple_trace()
    request = ExportTraceServiceRequest()
    request.ParseFromString(encode_spans(spans))
    request.resource_spans[0].scope_spans[0].spans[1].span_id = b"\x01\x02"
    response = server.post(request.SerializeToString())
    assert response.status_code == 400
    assert server.count() == 0


def test_missing_experiment_header_is_rejected(server: Server) -> None:
    # The app answers every request-validation failure with mltrail's 400 (MLflow: FastAPI's 422).
    _, spans = simple_trace()
    response = server.client.post(
        "/v1/traces", content=encode_spans(spans), headers={"Content-Type": "application/x-protobuf"}
    )
    assert response.status_code == 400
    assert "x-mlflow-experiment-id" in response.text
    assert server.count() == 0


def test_unknown_experiment_is_404(server: Server) -> None:
    _, spans = simple_trace()
    response = server.post(encode_spans(spans), **{"x-mlflow-experiment-id": "424242"})
    assert response.status_code == 404
