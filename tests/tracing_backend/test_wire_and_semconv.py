"""Pure logic: wire forms (TraceInfo V3/V2, spans in forms A and B), OTLP codecs, semconv translation."""

from __future__ import annotations

import base64
import json

import pytest

from mltrail.errors import BadRequestError, InvalidArgumentError
from mltrail.tracing.entities import Trace, TraceInfo, TraceState
from mltrail.tracing.otlp import decode_request, decompress, encode_spans, spans_from_json
from mltrail.tracing.semconv import aggregate_cost, aggregate_token_usage, cost_for, translate_attributes
from mltrail.tracing.wire import (
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
    span_from_dict,
    span_to_dict,
    span_to_mlflow_dict,
    trace_from_dict,
    trace_info_from_dict,
    trace_info_to_dict,
    trace_info_to_v2_dict,
    trace_to_dict,
)
from tests.tracing_backend._spans import new_trace_id, rich_span, simple_trace


def test_times_and_durations() -> None:
    assert format_timestamp(1_795_784_778_073) == "2026-11-27T13:06:18.073Z"
    assert format_timestamp(1_795_784_778_000) == "2026-11-27T13:06:18Z"
    assert parse_timestamp("2026-11-27T13:06:18.073Z") == 1_795_784_778_073
    assert parse_timestamp("2026-11-27T14:06:18.073123456+01:00") == 1_795_784_778_073
    assert parse_timestamp(1234) == 1234
    assert format_duration(824) == "0.824s"
    assert format_duration(2000) == "2s"
    assert parse_duration("0.824s") == 824
    assert parse_duration("1.000000001s") == 1000
    assert parse_duration("3s") == 3000
    with pytest.raises(InvalidArgumentError):
        parse_timestamp("yesterday")
    with pytest.raises(InvalidArgumentError):
        parse_duration("fast")


def test_trace_info_v3_round_trip() -> None:
    info = TraceInfo(
        trace_id="tr-" + "a" * 32,
        experiment_id="7",
        request_time=1_795_784_778_073,
        execution_duration=824,
        state=TraceState.ERROR,
        request_preview='{"q": 1}',
        response_preview="null",
        client_request_id="c-1",
        trace_metadata={"mlflow.user": "u"},
        tags={"t": "v"},
    )
    wire = trace_info_to_dict(info)
    assert wire["request_time"] == "2026-11-27T13:06:18.073Z"
    assert wire["execution_duration"] == "0.824s"
    assert wire["trace_location"] == {
        "type": "MLFLOW_EXPERIMENT",
        "mlflow_experiment": {"experiment_id": "7"},
    }
    assert trace_info_from_dict(json.loads(json.dumps(wire))) == info
    python_form = {**wire, "execution_duration_ms": 824}
    del python_form["execution_duration"]
    assert trace_info_from_dict(python_form) == info


def test_trace_info_v2_forms() -> None:
    info = TraceInfo(
        "tr-" + "b" * 32, "3", 1000, 20, TraceState.OK, trace_metadata={"m": "1"}, tags={"t": "2"}
    )
    v2 = trace_info_to_v2_dict(info)
    assert v2["request_id"] == info.trace_id
    assert v2["request_metadata"] == [{"key": "m", "value": "1"}]
    back = trace_info_from_dict(v2)
    assert (back.trace_id, back.experiment_id, back.request_time, back.execution_duration) == (
        info.trace_id,
        "3",
        1000,
        20,
    )
    assert back.tags == {"t": "2"} and back.trace_metadata == {"m": "1"}
    assert (
        trace_info_from_dict({**v2, "status": "TRACE_STATUS_UNSPECIFIED"}).state
        is TraceState.STATE_UNSPECIFIED
    )


def test_span_form_a_round_trip_and_base64_ids() -> None:
    span = rich_span(new_trace_id())
    wire = json.loads(json.dumps(span_to_dict(span)))
    assert base64.b64decode(wire["trace_id"]).hex() == span.trace_id
    assert wire["status"] == {"code": "STATUS_CODE_ERROR", "message": "boom"}
    assert {"key": "count", "value": {"int_value": 42}} in wire["attributes"]
    assert span_from_dict(wire) == span


def test_span_form_b_and_v2_are_read() -> None:
    span = rich_span(new_trace_id())
    form_b = json.loads(json.dumps(span_to_mlflow_dict(span)))
    assert form_b["attributes"]["mlflow.spanType"] == '"CHAT_MODEL"'
    back = span_from_dict(form_b)
    assert dict(back.attributes) == dict(span.attributes)
    assert (back.trace_id, back.span_id, back.name, back.status_code) == (
        span.trace_id,
        span.span_id,
        "rich",
        "ERROR",
    )
    v2: dict[str, object] = {
        "name": "old",
        "context": {"trace_id": "0x" + span.trace_id, "span_id": "0x" + span.span_id},
        "parent_id": None,
        "start_time": 10,
        "end_time": 20,
        "status_code": "OK",
        "status_message": "",
        "attributes": {"mlflow.spanType": '"LLM"', "n": "3"},
        "events": [],
    }
    old = span_from_dict(v2)
    assert (old.trace_id, old.span_id, old.parent_span_id) == (span.trace_id, span.span_id, None)
    assert old.attributes == {"mlflow.spanType": "LLM", "n": 3}


def test_trace_round_trip_both_envelopes() -> None:
    trace_id, spans = simple_trace()
    info = TraceInfo("tr-" + trace_id, "1", 5, 6, TraceState.OK)
    trace = Trace(info, tuple(spans))
    assert trace_from_dict(json.loads(json.dumps(trace_to_dict(trace)))) == trace
    mlflow_form = {
        "info": trace_info_to_dict(info),
        "data": {"spans": [span_to_mlflow_dict(s) for s in spans]},
    }
    assert [s.name for s in trace_from_dict(mlflow_form).spans] == [s.name for s in spans]


def test_otlp_protobuf_round_trip_and_decompression() -> None:
    span = rich_span(new_trace_id())
    body = encode_spans([span])
    assert decode_request(body, "application/x-protobuf") == [span]
    assert decompress(b"abc", None) == b"abc"
    with pytest.raises(BadRequestError):
        decompress(b"abc", "zstd")
    with pytest.raises(BadRequestError, match="Invalid Content-Type"):
        decode_request(body, "text/xml")
    with pytest.raises(BadRequestError, match="no spans found"):
        decode_request(b"", "application/x-protobuf")


def test_otlp_json_errors() -> None:
    with pytest.raises(BadRequestError):
        spans_from_json([])
    with pytest.raises(BadRequestError):
        spans_from_json({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "ab", "spanId": "cd"}]}]}]})
    with pytest.raises(BadRequestError):
        spans_from_json(
            {
                "resourceSpans": [
                    {
                        "scopeSpans": [
                            {"spans": [{"traceId": "a" * 32, "spanId": "b" * 16, "status": {"code": 9.5}}]}
                        ]
                    }
                ]
            }
        )


@pytest.mark.parametrize(
    ("attrs", "span_type"),
    [
        ({"gen_ai.operation.name": "chat"}, "CHAT_MODEL"),
        ({"gen_ai.operation.name": "embeddings"}, "EMBEDDING"),
        ({"gen_ai.operation.name": "execute_tool"}, "TOOL"),
        ({"gen_ai.operation.name": "invoke_agent"}, "AGENT"),
        ({"gen_ai.operation.name": "text_completion"}, "LLM"),
        ({"openinference.span.kind": "RETRIEVER"}, "RETRIEVER"),
        ({"openinference.span.kind": "chain"}, "CHAIN"),
        ({"traceloop.span.kind": "workflow"}, "WORKFLOW"),
        ({"traceloop.span.kind": "tool"}, "TOOL"),
        ({"llm.request.type": "chat"}, "CHAT_MODEL"),
    ],
)
def test_span_type_translation(attrs: dict[str, object], span_type: str) -> None:
    assert translate_attributes(attrs)["mlflow.spanType"] == span_type


def test_translation_of_usage_model_io_and_cost() -> None:
    genai = translate_attributes(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.system": "openai",
            "gen_ai.usage.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 500,
            "gen_ai.input.messages": '[{"role": "user", "content": "hi"}]',
        }
    )
    assert genai["mlflow.chat.tokenUsage"] == {
        "input_tokens": 1000,
        "output_tokens": 500,
        "total_tokens": 1500,
    }
    assert genai["mlflow.llm.model"] == "gpt-4o-mini-2024-07-18"
    assert genai["mlflow.llm.provider"] == "openai"
    assert genai["mlflow.spanInputs"] == [{"role": "user", "content": "hi"}]
    assert genai["mlflow.llm.cost"]["input_cost"] == pytest.approx(1000 * 0.15 / 1e6)
    openinference = translate_attributes(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "claude-3-5-sonnet",
            "llm.token_count.prompt": 10,
            "llm.token_count.completion": 4,
            "llm.token_count.total": 14,
            "input.value": "question",
            "output.value": '{"answer": 1}',
        }
    )
    assert openinference["mlflow.chat.tokenUsage"]["total_tokens"] == 14
    assert openinference["mlflow.spanOutputs"] == {"answer": 1}
    traceloop = translate_attributes({"gen_ai.usage.prompt_tokens": 7, "gen_ai.usage.completion_tokens": 2})
    assert traceloop["mlflow.chat.tokenUsage"] == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}


def test_mlflow_attributes_win_and_unknown_models_are_unpriced() -> None:
    attrs = {"mlflow.spanType": "AGENT", "gen_ai.operation.name": "chat", "gen_ai.request.model": "my-model"}
    out = translate_attributes({**attrs, "gen_ai.usage.input_tokens": 3})
    assert out["mlflow.spanType"] == "AGENT"
    assert "mlflow.llm.cost" not in out
    assert cost_for("unknown", {"input_tokens": 1}) is None
    assert aggregate_token_usage([]) is None
    assert aggregate_cost(
        ['{"input_cost": 1.0, "output_cost": 2.0, "total_cost": 3.0}', {"total_cost": 1}]
    ) == {
        "input_cost": 1.0,
        "output_cost": 2.0,
        "total_cost": 4.0,
    }


def test_mlflow_native_llm_spans_are_priced() -> None:
    attrs = {
        "mlflow.llm.model": "gpt-4o",
        "mlflow.chat.tokenUsage": {"input_tokens": 1_000_000, "output_tokens": 0, "total_tokens": 1_000_000},
    }
    assert translate_attributes(attrs)["mlflow.llm.cost"] == {
        "input_cost": 2.5,
        "output_cost": 0.0,
        "total_cost": 2.5,
    }
    plain = {"mlflow.spanType": "CHAIN", "x": 1}
    assert translate_attributes(plain) == plain
