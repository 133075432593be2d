"""mltrail beside other OpenTelemetry users: a second OTLP collector, a user's own provider."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

import mltrail
from mltrail.tracing import setup
from mltrail.tracing.store.memory import InMemoryTraceStore


class _Receiver(BaseHTTPRequestHandler):
    requests: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.requests.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """An OTLP/HTTP trace receiver on a free loopback port."""
    handler = cast(type[_Receiver], type("Receiver", (_Receiver,), {"requests": []}))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces", handler.requests
    server.shutdown()
    server.server_close()


def test_spans_also_go_to_a_second_collector(
    memory_store: InMemoryTraceStore, collector: tuple[str, list[ExportTraceServiceRequest]]
) -> None:
    endpoint, requests = collector
    setup.configure(otlp_endpoint=endpoint)

    @mltrail.trace(span_type="CHAIN")
    def pipeline(x: int) -> int:
        with mltrail.start_span("step", span_type="TOOL"):
            return x + 1

    assert pipeline(1) == 2
    assert mltrail.flush_traces(30)
    spans = [s for r in requests for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(s.name for s in spans) == ["pipeline", "step"]
    (info,) = memory_store.search_traces(["0"]).items
    assert {s.trace_id.hex() for s in spans} == {info.otel_trace_id}
    root = next(s for s in spans if s.name == "pipeline")
    attributes = {a.key: a.value.string_value for a in root.attributes}
    assert json.loads(attributes["mlflow.spanType"]) == "CHAIN"
    assert json.loads(attributes["mlflow.spanInputs"]) == {"x": 1}

    setup.configure(otlp_endpoint=None)
    requests.clear()
    pipeline(2)
    assert mltrail.flush_traces(30)
    assert requests == []


_USER_PROVIDER_SCRIPT = """
import json
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

import mltrail
from mltrail.tracing import setup
from mltrail.tracing.store.memory import InMemoryTraceStore

store = InMemoryTraceStore()
setup.configure(store=store)

@mltrail.trace
def answer(q):
    return "42"

answer("life")
with trace.get_tracer("user-app").start_as_current_span("http-request"):
    answer("universe")
with trace.get_tracer("user-app").start_as_current_span("unrelated"):
    pass
mltrail.flush_traces(30)
infos = store.search_traces(["0"]).items
roots = []
for info in infos:
    t = store.get_trace(info.trace_id)
    roots.append(sorted((s.name, s.parent_span_id is None) for s in t.spans))
print(json.dumps({
    "same_provider": setup.runtime().provider is provider,
    "user_saw": sorted(s.name for s in exporter.get_finished_spans()),
    "mltrail_traces": sorted(roots),
}))
"""


def test_user_tracer_provider_is_shared(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _USER_PROVIDER_SCRIPT],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["same_provider"] is True
    assert result["user_saw"] == ["answer", "answer", "http-request", "unrelated"]
    # mltrail records its own traces (the user's wrapper and unrelated spans open none)
    assert result["mltrail_traces"] == [[["answer", True]], [["answer", True]]]
