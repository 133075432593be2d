"""Translation of third-party span conventions into MLflow's span attributes, and LLM cost.

Spans from OpenTelemetry GenAI instrumentations, OpenInference (Arize, Phoenix) and Traceloop
(OpenLLMetry) carry their own attribute names. :func:`translate_attributes` adds MLflow's
``mlflow.spanType``, ``mlflow.chat.tokenUsage``, ``mlflow.llm.model``, ``mlflow.llm.provider``,
``mlflow.spanInputs`` / ``mlflow.spanOutputs`` and ``mlflow.llm.cost`` where they are missing;
attributes already set by an MLflow-aware producer always win. Costs come from a small table of
list prices in USD per million tokens, to which users add their own (:mod:`.prices`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail.tracing import _keys as k
from mltrail.tracing.prices import DEFAULT_PRICES, cost_for

MODEL_PRICES = DEFAULT_PRICES
"""The built-in prices (see :data:`mltrail.tracing.prices.DEFAULT_PRICES`)."""

__all__ = [
    "MODEL_PRICES",
    "aggregate_cost",
    "aggregate_token_usage",
    "cost_for",
    "token_usage_of",
    "translate_attributes",
]

_GENAI_OPERATIONS = {
    "chat": "CHAT_MODEL",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "response": "LLM",
}
_OPENINFERENCE_KINDS = {
    "LLM": "LLM",
    "CHAIN": "CHAIN",
    "TOOL": "TOOL",
    "AGENT": "AGENT",
    "RETRIEVER": "RETRIEVER",
    "EMBEDDING": "EMBEDDING",
    "RERANKER": "RERANKER",
    "GUARDRAIL": "GUARDRAIL",
    "EVALUATOR": "EVALUATOR",
}
_TRACELOOP_KINDS = {"workflow": "WORKFLOW", "task": "TASK", "agent": "AGENT", "tool": "TOOL"}
_TRACELOOP_REQUEST_TYPES = {"chat": "CHAT_MODEL", "completion": "LLM", "embedding": "EMBEDDING"}

# Every key read below starts with one of these; spans without them need no translation.
_CONVENTION_PREFIXES = ("gen_ai.", "llm.", "openinference.", "traceloop.", "input.", "output.")

_INPUT_TOKENS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    "llm.usage.prompt_tokens",
)
_OUTPUT_TOKENS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "llm.usage.completion_tokens",
)
_TOTAL_TOKENS = ("llm.token_count.total", "llm.usage.total_tokens", "gen_ai.usage.total_tokens")
_CACHE_READ = ("gen_ai.usage.cache_read_input_tokens", "gen_ai.usage.cache_read.input_tokens")
_CACHE_CREATION = ("gen_ai.usage.cache_creation_input_tokens", "gen_ai.usage.cache_creation.input_tokens")
_MODEL = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name")
_PROVIDER = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
_INPUTS = ("gen_ai.input.messages", "input.value", "traceloop.entity.input", "gen_ai.prompt")
_OUTPUTS = ("gen_ai.output.messages", "output.value", "traceloop.entity.output", "gen_ai.completion")


def _first(attrs: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _maybe_json(value: Any) -> Any:
    """Decode strings that hold a JSON object or array (conventions often pass messages so)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _span_type(attrs: Mapping[str, Any]) -> str | None:
    operation = attrs.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation in _GENAI_OPERATIONS:
        return _GENAI_OPERATIONS[operation]
    kind = attrs.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() in _OPENINFERENCE_KINDS:
        return _OPENINFERENCE_KINDS[kind.upper()]
    kind = attrs.get("traceloop.span.kind")
    if isinstance(kind, str) and kind.lower() in _TRACELOOP_KINDS:
        return _TRACELOOP_KINDS[kind.lower()]
    request_type = attrs.get("llm.request.type")
    if isinstance(request_type, str) and request_type.lower() in _TRACELOOP_REQUEST_TYPES:
        return _TRACELOOP_REQUEST_TYPES[request_type.lower()]
    return None


def _usage(attrs: Mapping[str, Any]) -> dict[str, int] | None:
    input_tokens = _as_int(_first(attrs, _INPUT_TOKENS))
    output_tokens = _as_int(_first(attrs, _OUTPUT_TOKENS))
    if input_tokens is None and output_tokens is None:
        return None
    total = _as_int(_first(attrs, _TOTAL_TOKENS))
    usage = {
        "input_tokens": input_tokens or 0,
        "output_tokens": output_tokens or 0,
        "total_tokens": total if total is not None else (input_tokens or 0) + (output_tokens or 0),
    }
    cache_read = _as_int(_first(attrs, _CACHE_READ))
    if cache_read is not None:
        usage["cache_read_input_tokens"] = cache_read
    cache_creation = _as_int(_first(attrs, _CACHE_CREATION))
    if cache_creation is not None:
        usage["cache_creation_input_tokens"] = cache_creation
    return usage


def token_usage_of(attrs: Mapping[str, Any]) -> dict[str, int] | None:
    """The ``mlflow.chat.tokenUsage`` of a span's attributes as a dict of ints, if it has one.

    Accepts the native dict form (OTLP) and a JSON-encoded string (MLflow's JSON span form).
    """
    value = _maybe_json(attrs.get(k.TOKEN_USAGE))
    if isinstance(value, str):
        value = _maybe_json(value)
    if not isinstance(value, Mapping):
        return None
    usage = {key: n for key, raw in value.items() if (n := _as_int(raw)) is not None}
    return usage or None


def translate_attributes(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Add MLflow span attributes derived from GenAI / OpenInference / Traceloop conventions.

    Args:
        attrs: The span's attributes (native values).

    Returns:
        A new attribute dict: the original attributes plus the derived ones that were missing.
    """
    out = dict(attrs)
    priceable = k.LLM_MODEL in attrs and k.TOKEN_USAGE in attrs and k.LLM_COST not in attrs
    if not priceable and not any(key.startswith(_CONVENTION_PREFIXES) for key in attrs):
        return out
    if k.SPAN_TYPE not in out and (span_type := _span_type(attrs)) is not None:
        out[k.SPAN_TYPE] = span_type
    if k.TOKEN_USAGE not in out and (usage := _usage(attrs)) is not None:
        out[k.TOKEN_USAGE] = usage
    if k.LLM_MODEL not in out and isinstance(model := _first(attrs, _MODEL), str):
        out[k.LLM_MODEL] = model
    if k.LLM_PROVIDER not in out and isinstance(provider := _first(attrs, _PROVIDER), str):
        out[k.LLM_PROVIDER] = provider
    if k.SPAN_INPUTS not in out and (inputs := _first(attrs, _INPUTS)) is not None:
        out[k.SPAN_INPUTS] = _maybe_json(inputs)
    if k.SPAN_OUTPUTS not in out and (outputs := _first(attrs, _OUTPUTS)) is not None:
        out[k.SPAN_OUTPUTS] = _maybe_json(outputs)
    if k.LLM_COST not in out:
        model_name = out.get(k.LLM_MODEL)
        usage_now = token_usage_of(out)
        if isinstance(model_name, str) and usage_now:
            cost = cost_for(model_name, usage_now)
            if cost is not None:
                out[k.LLM_COST] = cost
    return out


def aggregate_token_usage(usages: Iterable[Mapping[str, int]]) -> dict[str, int] | None:
    """Sum per-span token usages key by key (None when there are none)."""
    total: dict[str, int] = {}
    for usage in usages:
        for key, value in usage.items():
            total[key] = total.get(key, 0) + int(value)
    if not total:
        return None
    for key in ("input_tokens", "output_tokens", "total_tokens"):
        total.setdefault(key, 0)
    return total


def aggregate_cost(costs: Iterable[Any]) -> dict[str, float] | None:
    """Sum per-span ``mlflow.llm.cost`` dicts (or their JSON strings) into one trace cost."""
    total = {"input_cost": 0.0, "output_cost": 0.0, "total_cost": 0.0}
    seen = False
    for cost in costs:
        value = _maybe_json(cost)
        if not isinstance(value, Mapping):
            continue
        for key in total:
            raw = value.get(key)
            if isinstance(raw, int | float) and not isinstance(raw, bool):
                total[key] += float(raw)
                seen = True
    return {key: round(v, 10) for key, v in total.items()} if seen else None
