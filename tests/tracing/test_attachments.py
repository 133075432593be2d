"""Attachments: extracted from span values, referenced by URI, uploaded once, read back intact."""

from __future__ import annotations

import base64
from pathlib import Path

from click.testing import CliRunner

import mltrail
from mltrail import _plugins
from mltrail.cli.main import main as cli
from mltrail.config import Settings
from mltrail.tracing import setup
from mltrail.tracing.attachments import Attachment, capture, parse_reference
from mltrail.tracing.entities import Trace
from mltrail.tracing.store.memory import InMemoryTraceStore

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


def _trace(store: InMemoryTraceStore) -> Trace:
    assert mltrail.flush_traces(30)
    (info,) = store.search_traces(["0"]).items
    return store.get_trace(info.trace_id)


def _read_attachment(trace: Trace, ref: str) -> bytes:
    parsed = parse_reference(ref)
    assert parsed is not None
    location = trace.info.tags["mlflow.artifactLocation"]
    repo = _plugins.resolve_artifact_repository(location, settings=Settings())
    return b"".join(repo.open_chunks(f"attachments/{parsed.attachment_id}"))


def test_capture_replaces_data_urls_audio_parts_and_attachment_objects() -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    value = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": data_url}},
                    {
                        "type": "input_audio",
                        "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"},
                    },
                ],
            }
        ],
        "file": Attachment("application/pdf", b"%PDF-1.7 tiny"),
    }
    captured = capture(value, trace_id="tr-abc")
    assert "base64" not in captured.text and "%PDF" not in captured.text
    kinds = sorted((a.content_type, a.data) for a in captured.attachments)
    assert kinds == sorted([("image/png", PNG), ("audio/wav", WAV), ("application/pdf", b"%PDF-1.7 tiny")])
    for attachment in captured.attachments:
        assert f"mlflow-attachment://{attachment.attachment_id}?" in captured.text
    ref = next(a for a in captured.attachments if a.content_type == "image/png")
    parsed = parse_reference(
        f"mlflow-attachment://{ref.attachment_id}?content_type=image%2Fpng&trace_id=tr-abc&size={len(PNG)}"
    )
    assert parsed is not None and parsed.size == len(PNG) and parsed.content_type == "image/png"


def test_capture_leaves_plain_values_alone() -> None:
    captured = capture({"text": "data: not a url", "n": 1}, trace_id="tr-x")
    assert captured.attachments == [] and captured.text == '{"text":"data: not a url","n":1}'


def test_attachments_round_trip_through_the_artifact_store(memory_store: InMemoryTraceStore) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()

    @mltrail.trace(span_type="CHAT_MODEL")
    def describe(messages: list[dict[str, object]]) -> Attachment:
        return Attachment("audio/wav", WAV)

    describe([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_url}}]}])
    trace = _trace(memory_store)
    span = trace.spans[0]
    image_ref = span.attributes["mlflow.spanInputs"]["messages"][0]["content"][0]["image_url"]["url"]
    audio_ref = span.attributes["mlflow.spanOutputs"]
    assert image_ref.startswith("mlflow-attachment://") and f"trace_id={trace.info.trace_id}" in image_ref
    assert audio_ref.startswith("mlflow-attachment://") and "content_type=audio%2Fwav" in audio_ref
    assert _read_attachment(trace, image_ref) == PNG
    assert _read_attachment(trace, audio_ref) == WAV
    files = sorted(p.name for p in Path(trace.info.tags["mlflow.artifactLocation"], "attachments").iterdir())
    assert len(files) == 2  # each stored once, named by its uuid


def test_bytes_recurring_in_a_trace_are_stored_once(memory_store: InMemoryTraceStore) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    history: list[dict[str, object]] = [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": data_url}}]}
    ]

    @mltrail.trace(span_type="CHAT_MODEL")
    def call_model(messages: list[dict[str, object]]) -> str:
        return "a cat"

    @mltrail.trace(span_type="AGENT")
    def agent(messages: list[dict[str, object]]) -> Attachment:
        call_model(messages)
        call_model(messages)
        return Attachment("image/png", PNG[::-1])  # other bytes: a second file

    agent(history)
    trace = _trace(memory_store)
    refs = {
        span.attributes["mlflow.spanInputs"]["messages"][0]["content"][0]["image_url"]["url"]
        for span in trace.spans
    }
    assert len(trace.spans) == 3 and len(refs) == 1  # three spans, one reference
    (ref,) = refs
    assert _read_attachment(trace, ref) == PNG
    output_ref = next(s for s in trace.spans if s.name == "agent").attributes["mlflow.spanOutputs"]
    assert _read_attachment(trace, output_ref) == PNG[::-1]
    ids = [parse_reference(r) for r in (ref, output_ref)]
    expected = sorted(parsed.attachment_id for parsed in ids if parsed is not None)
    stored = sorted(p.name for p in Path(trace.info.tags["mlflow.artifactLocation"], "attachments").iterdir())
    assert len(expected) == 2 and stored == expected


def test_equal_bytes_in_different_traces_are_stored_per_trace(memory_store: InMemoryTraceStore) -> None:
    for name in ("first", "second"):
        with mltrail.start_span(name) as span:
            span.set_inputs(Attachment("image/png", PNG))
    assert mltrail.flush_traces(30)
    infos = memory_store.search_traces(["0"]).items
    assert len(infos) == 2
    for info in infos:
        trace = memory_store.get_trace(info.trace_id)
        ref = trace.spans[0].attributes["mlflow.spanInputs"]
        assert f"trace_id={info.trace_id}" in ref and _read_attachment(trace, ref) == PNG


def test_attachments_round_trip_with_the_sql_store(sqlite_uri: str) -> None:
    with mltrail.start_span("upload") as span:
        span.set_inputs({"doc": Attachment("application/pdf", b"%PDF-1.4 hello")})
    assert mltrail.flush_traces(30)
    trace = setup.trace_store().get_trace(span.trace_id)
    ref = trace.spans[0].attributes["mlflow.spanInputs"]["doc"]
    assert _read_attachment(trace, ref) == b"%PDF-1.4 hello"


def test_oversized_attachment_becomes_a_placeholder_and_an_exception_event(
    memory_store: InMemoryTraceStore,
) -> None:
    setup.configure(max_attachment_bytes=100)
    with mltrail.start_span("big") as span:
        span.set_inputs(Attachment("image/png", PNG))
    trace = _trace(memory_store)
    (stored,) = trace.spans
    assert "exceeds the 100-byte limit" in stored.attributes["mlflow.spanInputs"]
    (event,) = stored.events
    assert event.name == "exception" and "exceeds" in event.attributes["exception.message"]
    assert not Path(trace.info.tags["mlflow.artifactLocation"], "attachments").exists()


def test_cli_delete_removes_a_local_traces_attachments(sqlite_uri: str) -> None:
    with mltrail.start_span("upload") as span:
        span.set_inputs({"doc": Attachment("application/pdf", b"%PDF-1.4 secret")})
    assert mltrail.flush_traces(30)
    trace = setup.trace_store().get_trace(span.trace_id)
    folder = Path(trace.info.tags["mlflow.artifactLocation"]).parent
    assert any(folder.rglob("*")), "the attachment is stored"
    result = CliRunner().invoke(
        cli,
        [
            "--tracking-uri",
            sqlite_uri,
            "traces",
            "delete",
            "-e",
            trace.info.experiment_id,
            "--trace-id",
            span.trace_id,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Deleted 1 trace." in result.output
    assert not folder.exists()
