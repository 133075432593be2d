"""Tracing against a live mltrail server: MLflow's tracing SDK and a plain OpenTelemetry SDK.

MLflow's SDK (``mlflow.trace``, ``mlflow.start_span``, ``mlflow.update_current_trace``) runs in a
subprocess (its tracer provider is process-global) and exports through ``POST /v1/traces`` plus
StartTraceV3. The traces are read back through mltrail with every span, attribute and tag, and
the spans are checked to be rows in the server's database, not artifact files. The OpenTelemetry
SDK's ``OTLPSpanExporter`` sends protobuf; the same SDK spans are also posted as OTLP/JSON.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from mltrail.config import Settings
from mltrail.tracing.attachments import parse_reference
from mltrail.tracing.entities import hex_trace_id
from mltrail.tracing.store.rest import RestTraceStore
from mltrail.tracking.store.rest import RestTrackingStore
from tests.compat.conftest import unique
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.integration

pytest.importorskip("mlflow", reason="the compatibility tests drive the real mlflow tracing SDK")
pytest.importorskip("opentelemetry.sdk.trace", reason="the OTLP test drives the real OpenTelemetry SDK")

_MLFLOW_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import mlflow

    mlflow.set_experiment(sys.argv[1])

    @mlflow.trace(span_type="CHAIN", attributes={"pipeline.version": 3})
    def pipeline(question):
        with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": question})
            span.set_outputs([{"doc": "d1", "score": 0.75}])
        with mlflow.start_span(name="generate", span_type="CHAT_MODEL") as span:
            span.set_inputs({"messages": [{"role": "user", "content": question}]})
            span.set_attribute("custom.count", 7)
            span.set_attribute("custom.flag", True)
            span.set_outputs("forty-two")
        mlflow.update_current_trace(tags={"team": "qa", "release": "2026.11"})
        return "forty-two"

    pipeline("what is six times seven?")
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()
    read = mlflow.get_trace(trace_id)
    print(json.dumps({
        "trace_id": trace_id,
        "experiment_id": read.info.experiment_id,
        "span_names": sorted(s.name for s in read.data.spans),
        "tags": dict(read.info.tags),
        "state": str(read.info.state),
        "generate_attrs": {
            k: v for k, v in next(s for s in read.data.spans if s.name == "generate").attributes.items()
        },
    }, default=str))
    """
)


def _run_script(server: LiveServer, tmp_path: Path, source: str, *args: str) -> dict[str, Any]:
    """Run ``source`` with MLflow's client pointed at ``server``; the JSON its last line prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.update(
        MLFLOW_TRACKING_URI=server.url,
        MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR="0",
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
    )
    script = tmp_path / "mlflow_client.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"mlflow client failed:\n{done.stdout}\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _run_mlflow(server: LiveServer, experiment: str, tmp_path: Path) -> dict[str, Any]:
    return _run_script(server, tmp_path, _MLFLOW_SCRIPT, experiment)


def _span_rows(server: LiveServer, trace_id: str) -> int:
    engine = sa.create_engine(server.backend_store_uri)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text("SELECT COUNT(*) FROM spans WHERE trace_id = :t"), {"t": trace_id}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_mlflow_tracing_sdk_round_trip(compat_server: LiveServer, tmp_path: Path) -> None:
    result = _run_mlflow(compat_server, unique("mlflow-tracing"), tmp_path)
    trace_id = str(result["trace_id"])
    assert result["span_names"] == ["generate", "pipeline", "retrieve"]
    tags = result["tags"]
    assert isinstance(tags, dict)
    assert tags["team"] == "qa"
    assert tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    generate_attrs = result["generate_attrs"]
    assert isinstance(generate_attrs, dict)
    assert generate_attrs["custom.count"] == 7
    assert generate_attrs["mlflow.spanType"] == "CHAT_MODEL"

    store = RestTraceStore(compat_server.url, Settings(tracking_uri=compat_server.url, http_max_retries=0))
    try:
        trace = store.get_trace(trace_id)
    finally:
        store.close()
    info = trace.info
    assert info.experiment_id == result["experiment_id"]
    assert info.state.value == "OK"
    assert info.tags["team"] == "qa"
    assert info.tags["release"] == "2026.11"
    assert info.tags["mlflow.traceName"] == "pipeline"
    assert info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info.trace_metadata["mlflow.trace.infoFinalized"] == "true"
    assert info.execution_duration is not None
    assert "six times seven" in (info.request_preview or "")

    spans = {s.name: s for s in trace.spans}
    assert set(spans) == {"pipeline", "retrieve", "generate"}
    root = spans["pipeline"]
    assert root.parent_span_id is None
    assert root.attributes["mlflow.spanType"] == "CHAIN"
    assert root.attributes["pipeline.version"] == 3
    assert root.attributes["mlflow.spanInputs"] == {"question": "what is six times seven?"}
    assert root.attributes["mlflow.spanOutputs"] == "forty-two"
    assert spans["retrieve"].parent_span_id == root.span_id
    assert spans["retrieve"].attributes["mlflow.spanOutputs"] == [{"doc": "d1", "score": 0.75}]
    generate = spans["generate"]
    assert generate.attributes["custom.count"] == 7
    assert generate.attributes["custom.flag"] is True
    assert generate.attributes["mlflow.spanInputs"] == {
        "messages": [{"role": "user", "content": "what is six times seven?"}]
    }
    assert all(s.trace_id == hex_trace_id(trace_id) for s in trace.spans)
    assert all(s.status_code == "OK" for s in trace.spans)

    assert _span_rows(compat_server, trace_id) == 3
    artifacts = Path(compat_server.artifacts_destination)
    assert not list(artifacts.rglob("traces.json")), "spans must live in the database, not in artifacts"


def test_search_and_tags_through_mlflow_rest_paths(compat_server: LiveServer, tmp_path: Path) -> None:
    experiment = unique("mlflow-tracing-search")
    result = _run_mlflow(compat_server, experiment, tmp_path)
    trace_id = str(result["trace_id"])
    experiment_id = str(result["experiment_id"])
    body = {
        "locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}],
        "filter": "tags.team = 'qa' AND span.type = 'RETRIEVER'",
    }
    found = requests.post(f"{compat_server.url}/api/3.0/mlflow/traces/search", json=body, timeout=30).json()
    assert [t["trace_id"] for t in found["traces"]] == [trace_id]
    assert found["traces"][0]["execution_duration"].endswith("s")

    tag_url = f"{compat_server.url}/api/2.0/mlflow/traces/{trace_id}/tags"
    assert requests.patch(tag_url, json={"key": "reviewed", "value": "yes"}, timeout=30).status_code == 200
    info = requests.get(f"{compat_server.url}/api/3.0/mlflow/traces/{trace_id}", timeout=30).json()
    assert info["trace"]["trace_info"]["tags"]["reviewed"] == "yes"
    assert requests.delete(tag_url, json={"key": "reviewed"}, timeout=30).status_code == 200

    legacy = requests.get(
        f"{compat_server.url}/api/2.0/mlflow/traces",
        params={"experiment_ids": experiment_id, "filter": "name = 'pipeline'"},
        timeout=30,
    ).json()
    assert [t["request_id"] for t in legacy["traces"]] == [trace_id]

    missing = requests.get(
        f"{compat_server.url}/api/3.0/mlflow/traces/get", params={"trace_id": "tr-" + "0" * 32}, timeout=30
    )
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def _otel_provider(url: str, experiment_id: str) -> tuple[object, object]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": "otel-compat"}))
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/v1/traces", headers={"x-mlflow-experiment-id": experiment_id}, timeout=30
    )
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return provider, memory


def _emit_genai_trace(provider: object) -> str:
    from opentelemetry.trace import Status, StatusCode

    tracer = provider.get_tracer("compat.scope", "9.9")  # type: ignore[attr-defined]
    with tracer.start_as_current_span("agent-run", attributes={"session.id": "s-9"}) as root:
        with tracer.start_as_current_span("chat gpt-4o") as llm:
            llm.set_attribute("gen_ai.operation.name", "chat")
            llm.set_attribute("gen_ai.request.model", "gpt-4o")
            llm.set_attribute("gen_ai.usage.input_tokens", 12)
            llm.set_attribute("gen_ai.usage.output_tokens", 3)
            llm.set_attribute("tags.list", ["a", "b"])
            llm.add_event("chunk", {"i": 1})
        root.set_status(Status(StatusCode.OK))
        return format(root.get_span_context().trace_id, "032x")


def test_opentelemetry_sdk_protobuf_exporter(compat_server: LiveServer) -> None:
    tracking = RestTrackingStore(
        compat_server.url, Settings(tracking_uri=compat_server.url, http_max_retries=0)
    )
    experiment_id = tracking.create_experiment(unique("otel"))
    tracking.close()
    provider, _ = _otel_provider(compat_server.url, experiment_id)
    otel_trace_id = _emit_genai_trace(provider)
    provider.shutdown()  # type: ignore[attr-defined]

    store = RestTraceStore(compat_server.url, Settings(tracking_uri=compat_server.url, http_max_retries=0))
    try:
        trace = store.get_trace(f"tr-{otel_trace_id}")
    finally:
        store.close()
    spans = {s.name: s for s in trace.spans}
    llm = spans["chat gpt-4o"]
    assert llm.attributes["mlflow.spanType"] == "CHAT_MODEL"
    assert llm.attributes["mlflow.llm.model"] == "gpt-4o"
    assert llm.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 12,
        "output_tokens": 3,
        "total_tokens": 15,
    }
    assert llm.attributes["tags.list"] == ["a", "b"]
    assert llm.events[0].name == "chunk"
    assert llm.resource["service.name"] == "otel-compat"
    assert (llm.scope_name, llm.scope_version) == ("compat.scope", "9.9")
    assert trace.info.trace_metadata["mlflow.trace.session"] == "s-9"
    assert json.loads(trace.info.trace_metadata["mlflow.trace.tokenUsage"])["total_tokens"] == 15
    assert trace.info.tags["mlflow.traceName"] == "agent-run"


def _hex_ids(node: object) -> None:
    """Turn proto-JSON base64 ids into OTLP/JSON hex ids, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


def test_opentelemetry_spans_as_otlp_json(compat_server: LiveServer) -> None:
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracking = RestTrackingStore(
        compat_server.url, Settings(tracking_uri=compat_server.url, http_max_retries=0)
    )
    experiment_id = tracking.create_experiment(unique("otel-json"))
    tracking.close()
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    otel_trace_id = _emit_genai_trace(provider)
    body = MessageToDict(encode_spans(memory.get_finished_spans()))
    _hex_ids(body)
    response = requests.post(
        f"{compat_server.url}/v1/traces",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "x-mlflow-experiment-id": experiment_id},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    store = RestTraceStore(compat_server.url, Settings(tracking_uri=compat_server.url, http_max_retries=0))
    try:
        trace = store.get_trace(f"tr-{otel_trace_id}")
    finally:
        store.close()
    llm = next(s for s in trace.spans if s.name == "chat gpt-4o")
    assert llm.attributes["gen_ai.usage.input_tokens"] == 12
    assert llm.attributes["mlflow.spanType"] == "CHAT_MODEL"
    assert trace.info.state.value == "OK"


_MLFLOW_CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import mlflow
    from mlflow import MlflowClient

    experiment_id = mlflow.set_experiment(sys.argv[1]).experiment_id

    @mlflow.trace
    def step(x):
        mlflow.update_current_trace(tags={"kind": "even" if x % 2 == 0 else "odd"})
        return x + 1

    for i in range(3):
        step(i)
    last = mlflow.get_last_active_trace_id()
    client = MlflowClient()
    found = mlflow.search_traces(
        locations=[experiment_id], filter_string="tags.kind = 'even'", return_type="list"
    )
    frame = mlflow.search_traces(locations=[experiment_id])
    client.set_trace_tag(last, "reviewed", "yes")
    tagged = client.get_trace(last).info.tags.get("reviewed")
    client.delete_trace_tag(last, "reviewed")
    untagged = client.get_trace(last).info.tags.get("reviewed")
    by_id = client.delete_traces(experiment_id, trace_ids=[last])
    by_age = client.delete_traces(experiment_id, max_timestamp_millis=2**62, max_traces=10)
    print(json.dumps({
        "found": sorted(len(t.data.spans) for t in found),
        "found_kinds": sorted(t.info.tags["kind"] for t in found),
        "frame_rows": int(frame.shape[0]),
        "tagged": tagged,
        "untagged": untagged,
        "by_id": by_id,
        "by_age": by_age,
    }))
    """
)


def test_mlflow_client_search_tags_and_delete(compat_server: LiveServer, tmp_path: Path) -> None:
    result = _run_script(compat_server, tmp_path, _MLFLOW_CLIENT_SCRIPT, unique("mlflow-client"))
    assert result == {
        "found": [1, 1],
        "found_kinds": ["even", "even"],
        "frame_rows": 3,
        "tagged": "yes",
        "untagged": None,
        "by_id": 1,
        "by_age": 2,
    }


_MLFLOW_ASSESSMENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import mlflow
    from mlflow.entities import AssessmentSource, AssessmentSourceType

    experiment_id = mlflow.set_experiment(sys.argv[1]).experiment_id

    @mlflow.trace
    def answer(q):
        return "42"

    answer("meaning of life")
    trace_id = mlflow.get_last_active_trace_id()
    judge = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="gpt-judge")
    feedback = mlflow.log_feedback(
        trace_id=trace_id, name="correct", value=True, source=judge, rationale="it is 42"
    )
    expectation = mlflow.log_expectation(trace_id=trace_id, name="expected", value={"answer": "42"})
    updated = mlflow.update_assessment(
        trace_id=trace_id,
        assessment_id=feedback.assessment_id,
        assessment=mlflow.entities.Feedback(name="correct", value=False),
    )
    fetched = mlflow.get_assessment(trace_id, feedback.assessment_id)
    trace = mlflow.get_trace(trace_id)
    found = mlflow.search_traces(
        locations=[experiment_id], filter_string="feedback.correct = 'false'", return_type="list"
    )
    mlflow.delete_assessment(trace_id=trace_id, assessment_id=expectation.assessment_id)
    after = mlflow.get_trace(trace_id)
    print(json.dumps({
        "id_prefix": feedback.assessment_id[:2],
        "source": [feedback.source.source_type, feedback.source.source_id],
        "rationale": fetched.rationale,
        "updated_value": updated.value,
        "fetched_value": fetched.value,
        "names": sorted(a.name for a in trace.info.assessments),
        "expectation_value": expectation.value,
        "found": [t.info.trace_id for t in found] == [trace_id],
        "after": sorted(a.name for a in after.info.assessments),
    }))
    """
)


def test_mlflow_assessments(compat_server: LiveServer, tmp_path: Path) -> None:
    result = _run_script(compat_server, tmp_path, _MLFLOW_ASSESSMENT_SCRIPT, unique("mlflow-assess"))
    assert result == {
        "id_prefix": "a-",
        "source": ["LLM_JUDGE", "gpt-judge"],
        "rationale": "it is 42",
        "updated_value": False,
        "fetched_value": False,
        "names": ["correct", "expected"],
        "expectation_value": {"answer": "42"},
        "found": True,
        "after": ["correct"],
    }


_MLFLOW_ATTACHMENT_SCRIPT = textwrap.dedent(
    """
    import base64, json, sys
    import mlflow
    from mlflow.tracing.attachments import Attachment

    mlflow.set_experiment(sys.argv[1])
    png = bytes.fromhex(sys.argv[2])

    @mlflow.trace(span_type="CHAT_MODEL")
    def describe(messages, report):
        return "a tiny picture"

    url = "data:image/png;base64," + base64.b64encode(png).decode()
    describe(
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}],
        Attachment(content_type="application/pdf", content_bytes=b"%PDF-1.7 report"),
    )
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()
    print(json.dumps({"trace_id": trace_id}))
    """
)


def test_mlflow_sdk_attachments_are_served_back(compat_server: LiveServer, tmp_path: Path) -> None:
    """Images and files sent by MLflow's SDK are stored as artifacts and served by id."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    result = _run_script(
        compat_server, tmp_path, _MLFLOW_ATTACHMENT_SCRIPT, unique("mlflow-attach"), png.hex()
    )
    trace_id = str(result["trace_id"])

    store = RestTraceStore(compat_server.url, Settings(tracking_uri=compat_server.url, http_max_retries=0))
    try:
        (span,) = store.get_trace(trace_id).spans
    finally:
        store.close()
    inputs = span.attributes["mlflow.spanInputs"]
    image_ref = inputs["messages"][0]["content"][0]["image_url"]["url"]
    pdf_ref = inputs["report"]
    expected = {image_ref: (png, "image/png"), pdf_ref: (b"%PDF-1.7 report", "application/pdf")}
    for ref, (content, content_type) in expected.items():
        parsed = parse_reference(ref)
        assert parsed is not None, ref
        assert parsed.content_type == content_type and parsed.size == len(content)
        got = requests.get(
            f"{compat_server.url}/ajax-api/3.0/mlflow/get-trace-artifact",
            params={"request_id": trace_id, "path": parsed.attachment_id},
            timeout=30,
        )
        assert got.status_code == 200, got.text
        assert got.content == content
    # An id that is not a plain attachment id is refused, not resolved as a path.
    bad = requests.get(
        f"{compat_server.url}/ajax-api/3.0/mlflow/get-trace-artifact",
        params={"request_id": trace_id, "path": "../../traces.json"},
        timeout=30,
    )
    assert bad.status_code in (400, 404) and bad.json()["error_code"] in (
        "INVALID_PARAMETER_VALUE",
        "RESOURCE_DOES_NOT_EXIST",
    )
