"""OTLP/HTTP trace payloads: decode ``ExportTraceServiceRequest`` bodies into spans, and encode them.

Bodies arrive as protobuf (``application/x-protobuf``) or OTLP/JSON (``application/json``:
camelCase names, hex ids, int64 as strings), optionally compressed with gzip or deflate (zlib
or raw). Every malformed body raises :class:`~mltrail.errors.BadRequestError`, before anything
is stored. Needs the ``opentelemetry-proto`` package (extras ``server`` and ``tracing``).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from mltrail.errors import BadRequestError
from mltrail.tracing.entities import SpanData, SpanEvent, SpanLink

__all__ = [
    "EMPTY_RESPONSE",
    "NO_SPANS_MESSAGE",
    "PROTOBUF_CONTENT_TYPE",
    "any_value_from_json",
    "any_value_from_proto",
    "any_value_to_proto",
    "decode_request",
    "decompress",
    "encode_spans",
    "spans_from_json",
    "spans_from_proto",
]

PROTOBUF_CONTENT_TYPE = "application/x-protobuf"
JSON_CONTENT_TYPE = "application/json"
NO_SPANS_MESSAGE = "Invalid OpenTelemetry format - no spans found"
EMPTY_RESPONSE = ExportTraceServiceResponse().SerializeToString()

_STATUS_NAMES = {0: "UNSET", 1: "OK", 2: "ERROR"}
_STATUS_NUMBERS = {v: k for k, v in _STATUS_NAMES.items()}
_MAX_DECOMPRESSED = 512 * 1024 * 1024


def decompress(body: bytes, encoding: str | None) -> bytes:
    """Undo a ``Content-Encoding`` of gzip or deflate (zlib-wrapped or raw); identity passes through.

    Raises:
        BadRequestError: an unknown encoding, or a body that does not decompress.
    """
    enc = (encoding or "").strip().lower()
    if enc in ("", "identity"):
        return body
    try:
        if enc in ("gzip", "x-gzip"):
            return gzip.decompress(body)
        if enc == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadRequestError(f"Invalid {enc} body: {exc}") from exc
    raise BadRequestError(f"Unsupported Content-Encoding: '{encoding}'")


def decode_request(
    body: bytes, content_type: str | None, content_encoding: str | None = None
) -> list[SpanData]:
    """Decode an OTLP/HTTP trace export body into spans.

    Args:
        body: The raw request body.
        content_type: The ``Content-Type`` header (parameters such as charset are ignored).
        content_encoding: The ``Content-Encoding`` header.

    Returns:
        The spans, at least one.

    Raises:
        BadRequestError: wrong content type, undecodable body, invalid ids, or no spans.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in (PROTOBUF_CONTENT_TYPE, JSON_CONTENT_TYPE):
        raise BadRequestError(f"Invalid Content-Type: '{content_type}'")
    raw = decompress(body, content_encoding)
    if media == PROTOBUF_CONTENT_TYPE:
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(raw)
        except (DecodeError, ValueError) as exc:
            raise BadRequestError(f"Invalid OpenTelemetry protobuf format: {exc}") from exc
        spans = spans_from_proto(request)
    else:
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BadRequestError(f"Invalid OpenTelemetry JSON format: {exc}") from exc
        spans = spans_from_json(obj)
    if not spans:
        raise BadRequestError(NO_SPANS_MESSAGE)
    return spans


# -- protobuf ---------------------------------------------------------------------------------


def any_value_from_proto(value: AnyValue) -> Any:
    """The native Python value of an OTLP ``AnyValue`` (None when unset)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value_from_proto(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value_from_proto(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def any_value_to_proto(value: Any, out: AnyValue) -> None:
    """Fill ``out`` with a native value (bool, int, float, str, bytes, list, dict, None)."""
    if value is None:
        return
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        if -(2**63) <= value < 2**63:
            out.int_value = value
        else:
            out.string_value = str(value)
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes | bytearray):
        out.bytes_value = bytes(value)
    elif isinstance(value, Mapping):
        kvlist = out.kvlist_value
        kvlist.SetInParent()
        for key, item in value.items():
            kv = kvlist.values.add()
            kv.key = str(key)
            any_value_to_proto(item, kv.value)
    elif isinstance(value, list | tuple):
        array = out.array_value
        array.SetInParent()
        for item in value:
            any_value_to_proto(item, array.values.add())
    else:
        out.string_value = str(value)


def _attrs_from_proto(attrs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value_from_proto(kv.value) for kv in attrs}


def _hex_id(raw: bytes, size: int, what: str) -> str:
    if len(raw) != size:
        raise BadRequestError(f"Invalid OpenTelemetry span: {what} must be {size} bytes, got {len(raw)}")
    return raw.hex()


def spans_from_proto(request: ExportTraceServiceRequest) -> list[SpanData]:
    """The spans of a decoded protobuf export request, with their resource and scope."""
    spans: list[SpanData] = []
    for resource_spans in request.resource_spans:
        resource = _attrs_from_proto(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                spans.append(_span_from_proto(span, resource, scope.name, scope.version))
    return spans


def _span_from_proto(
    span: ProtoSpan, resource: Mapping[str, Any], scope_name: str, scope_version: str
) -> SpanData:
    if not span.name and not span.trace_id:
        raise BadRequestError("Invalid OpenTelemetry span: empty span")
    parent = span.parent_span_id
    return SpanData(
        trace_id=_hex_id(span.trace_id, 16, "trace_id"),
        span_id=_hex_id(span.span_id, 8, "span_id"),
        parent_span_id=_hex_id(parent, 8, "parent_span_id") if parent else None,
        name=span.name,
        kind=int(span.kind),
        start_time_unix_nano=int(span.start_time_unix_nano),
        end_time_unix_nano=int(span.end_time_unix_nano) or None,
        status_code=_STATUS_NAMES.get(int(span.status.code), "UNSET"),
        status_message=span.status.message,
        attributes=_attrs_from_proto(span.attributes),
        events=tuple(
            SpanEvent(e.name, int(e.time_unix_nano), _attrs_from_proto(e.attributes)) for e in span.events
        ),
        links=tuple(
            SpanLink(
                _hex_id(link.trace_id, 16, "link trace_id"),
                _hex_id(link.span_id, 8, "link span_id"),
                _attrs_from_proto(link.attributes),
                link.trace_state,
            )
            for link in span.links
        ),
        resource=resource,
        scope_name=scope_name,
        scope_version=scope_version,
        trace_state=span.trace_state,
        flags=int(span.flags),
    )


def _fill_attrs(target: Any, attrs: Mapping[str, Any]) -> None:
    for key, value in attrs.items():
        kv = target.add()
        kv.key = key
        any_value_to_proto(value, kv.value)


def span_to_proto(span: SpanData) -> ProtoSpan:
    """The OTLP protobuf ``Span`` of a span (resource and scope are carried by its containers)."""
    out = ProtoSpan(
        trace_id=bytes.fromhex(span.trace_id),
        span_id=bytes.fromhex(span.span_id),
        name=span.name,
        kind=span.kind,  # type: ignore[arg-type]
        start_time_unix_nano=span.start_time_unix_nano,
        end_time_unix_nano=span.end_time_unix_nano or 0,
        trace_state=span.trace_state,
        flags=span.flags,
    )
    if span.parent_span_id:
        out.parent_span_id = bytes.fromhex(span.parent_span_id)
    out.status.code = _STATUS_NUMBERS.get(span.status_code, 0)  # type: ignore[assignment]
    out.status.message = span.status_message
    _fill_attrs(out.attributes, span.attributes)
    for event in span.events:
        proto_event = out.events.add()
        proto_event.name = event.name
        proto_event.time_unix_nano = event.time_unix_nano
        _fill_attrs(proto_event.attributes, event.attributes)
    for link in span.links:
        proto_link = out.links.add()
        proto_link.trace_id = bytes.fromhex(link.trace_id)
        proto_link.span_id = bytes.fromhex(link.span_id)
        proto_link.trace_state = link.trace_state
        _fill_attrs(proto_link.attributes, link.attributes)
    return out


def encode_spans(spans: Sequence[SpanData]) -> bytes:
    """Serialise spans as one protobuf ``ExportTraceServiceRequest``, grouped by resource and scope."""
    request = ExportTraceServiceRequest()
    groups: dict[bytes, ResourceSpans] = {}
    scopes: dict[tuple[bytes, str, str], ScopeSpans] = {}
    for span in spans:
        rkey = orjson.dumps(span.resource, option=orjson.OPT_SORT_KEYS, default=_json_default)
        resource_spans = groups.get(rkey)
        if resource_spans is None:
            resource_spans = groups[rkey] = request.resource_spans.add()
            _fill_attrs(resource_spans.resource.attributes, span.resource)
        skey = (rkey, span.scope_name, span.scope_version)
        scope_spans = scopes.get(skey)
        if scope_spans is None:
            scope_spans = scopes[skey] = resource_spans.scope_spans.add()
            scope_spans.scope.name = span.scope_name
            scope_spans.scope.version = span.scope_version
        scope_spans.spans.append(span_to_proto(span))
    return request.SerializeToString()


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"Cannot serialise {type(value).__name__}")


# -- OTLP/JSON --------------------------------------------------------------------------------


def _get(obj: Mapping[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _int(value: Any, what: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise BadRequestError(f"Invalid OpenTelemetry JSON: {what} is not an integer")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequestError(f"Invalid OpenTelemetry JSON: {what} is not an integer: {value!r}") from exc


def _double(value: Any) -> float:
    if isinstance(value, str):
        named = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
        if value in named:
            return named[value]
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise BadRequestError(f"Invalid OpenTelemetry JSON: doubleValue {value!r}") from exc


def any_value_from_json(value: Any) -> Any:
    """The native value of an OTLP/JSON ``AnyValue`` object (camelCase or snake_case keys)."""
    if not isinstance(value, Mapping):
        raise BadRequestError(f"Invalid OpenTelemetry JSON: attribute value {value!r} is not an object")
    for key, item in value.items():
        if key in ("stringValue", "string_value"):
            return str(item)
        if key in ("boolValue", "bool_value"):
            return bool(item)
        if key in ("intValue", "int_value"):
            return _int(item, "intValue")
        if key in ("doubleValue", "double_value"):
            return _double(item)
        if key in ("bytesValue", "bytes_value"):
            try:
                return base64.b64decode(str(item), validate=True)
            except binascii.Error as exc:
                raise BadRequestError("Invalid OpenTelemetry JSON: bytesValue is not base64") from exc
        if key in ("arrayValue", "array_value"):
            return [any_value_from_json(v) for v in _list(item, "values")]
        if key in ("kvlistValue", "kvlist_value"):
            return _attrs_from_json(_list(item, "values"))
    return None


def _list(obj: Any, key: str) -> list[Any]:
    if obj is None:
        return []
    if not isinstance(obj, Mapping):
        raise BadRequestError(f"Invalid OpenTelemetry JSON: expected an object holding '{key}'")
    items = obj.get(key) or []
    if not isinstance(items, list):
        raise BadRequestError(f"Invalid OpenTelemetry JSON: '{key}' is not a list")
    return items


def _attrs_from_json(items: Any) -> dict[str, Any]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise BadRequestError("Invalid OpenTelemetry JSON: attributes is not a list")
    out: dict[str, Any] = {}
    for kv in items:
        if not isinstance(kv, Mapping) or not isinstance(kv.get("key"), str):
            raise BadRequestError("Invalid OpenTelemetry JSON: attribute without a key")
        out[kv["key"]] = any_value_from_json(kv.get("value") or {})
    return out


def _json_hex_id(value: Any, size: int, what: str, *, required: bool = True) -> str | None:
    if value in (None, ""):
        if required:
            raise BadRequestError(f"Invalid OpenTelemetry JSON: {what} is required")
        return None
    text = str(value).lower()
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise BadRequestError(f"Invalid OpenTelemetry JSON: {what} is not hex: {value!r}") from exc
    if len(raw) != size:
        raise BadRequestError(f"Invalid OpenTelemetry JSON: {what} must be {size} bytes")
    return text


def _status_code(value: Any) -> str:
    if value in (None, ""):
        return "UNSET"
    if isinstance(value, int) and not isinstance(value, bool):
        return _STATUS_NAMES.get(value, "UNSET")
    name = str(value).upper().removeprefix("STATUS_CODE_")
    if name not in _STATUS_NUMBERS:
        raise BadRequestError(f"Invalid OpenTelemetry JSON: status code {value!r}")
    return name


def _kind(value: Any) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, str) and not value.isdigit():
        names = {"UNSPECIFIED": 0, "INTERNAL": 1, "SERVER": 2, "CLIENT": 3, "PRODUCER": 4, "CONSUMER": 5}
        name = value.upper().removeprefix("SPAN_KIND_")
        if name not in names:
            raise BadRequestError(f"Invalid OpenTelemetry JSON: span kind {value!r}")
        return names[name]
    return _int(value, "kind")


def spans_from_json(obj: Any) -> list[SpanData]:
    """The spans of an OTLP/JSON export request object.

    Raises:
        BadRequestError: the object is not an OTLP/JSON trace export.
    """
    if not isinstance(obj, Mapping):
        raise BadRequestError("Invalid OpenTelemetry JSON: the body is not an object")
    resource_spans_list = _get(obj, "resourceSpans", "resource_spans") or []
    if not isinstance(resource_spans_list, list):
        raise BadRequestError("Invalid OpenTelemetry JSON: resourceSpans is not a list")
    spans: list[SpanData] = []
    for resource_spans in resource_spans_list:
        if not isinstance(resource_spans, Mapping):
            raise BadRequestError("Invalid OpenTelemetry JSON: resourceSpans item is not an object")
        resource = _attrs_from_json(_list(resource_spans.get("resource") or {}, "attributes"))
        scope_list = _get(resource_spans, "scopeSpans", "scope_spans") or []
        if not isinstance(scope_list, list):
            raise BadRequestError("Invalid OpenTelemetry JSON: scopeSpans is not a list")
        for scope_spans in scope_list:
            if not isinstance(scope_spans, Mapping):
                raise BadRequestError("Invalid OpenTelemetry JSON: scopeSpans item is not an object")
            scope = scope_spans.get("scope") or {}
            if not isinstance(scope, Mapping):
                raise BadRequestError("Invalid OpenTelemetry JSON: scope is not an object")
            for span in _list(scope_spans, "spans"):
                spans.append(
                    _span_from_json(span, resource, str(scope.get("name", "")), str(scope.get("version", "")))
                )
    return spans


def _span_from_json(span: Any, resource: Mapping[str, Any], scope_name: str, scope_version: str) -> SpanData:
    if not isinstance(span, Mapping):
        raise BadRequestError("Invalid OpenTelemetry JSON: span is not an object")
    status = span.get("status") or {}
    if not isinstance(status, Mapping):
        raise BadRequestError("Invalid OpenTelemetry JSON: status is not an object")
    events = []
    for event in span.get("events") or []:
        if not isinstance(event, Mapping):
            raise BadRequestError("Invalid OpenTelemetry JSON: event is not an object")
        events.append(
            SpanEvent(
                str(event.get("name", "")),
                _int(_get(event, "timeUnixNano", "time_unix_nano"), "timeUnixNano"),
                _attrs_from_json(event.get("attributes")),
            )
        )
    links = []
    for link in span.get("links") or []:
        if not isinstance(link, Mapping):
            raise BadRequestError("Invalid OpenTelemetry JSON: link is not an object")
        links.append(
            SpanLink(
                str(_json_hex_id(_get(link, "traceId", "trace_id"), 16, "link traceId")),
                str(_json_hex_id(_get(link, "spanId", "span_id"), 8, "link spanId")),
                _attrs_from_json(link.get("attributes")),
                str(_get(link, "traceState", "trace_state") or ""),
            )
        )
    end = _int(_get(span, "endTimeUnixNano", "end_time_unix_nano"), "endTimeUnixNano")
    return SpanData(
        trace_id=str(_json_hex_id(_get(span, "traceId", "trace_id"), 16, "traceId")),
        span_id=str(_json_hex_id(_get(span, "spanId", "span_id"), 8, "spanId")),
        parent_span_id=_json_hex_id(
            _get(span, "parentSpanId", "parent_span_id"), 8, "parentSpanId", required=False
        ),
        name=str(span.get("name", "")),
        kind=_kind(span.get("kind")),
        start_time_unix_nano=_int(
            _get(span, "startTimeUnixNano", "start_time_unix_nano"), "startTimeUnixNano"
        ),
        end_time_unix_nano=end or None,
        status_code=_status_code(status.get("code")),
        status_message=str(status.get("message", "")),
        attributes=_attrs_from_json(span.get("attributes")),
        events=tuple(events),
        links=tuple(links),
        resource=resource,
        scope_name=scope_name,
        scope_version=scope_version,
        trace_state=str(_get(span, "traceState", "trace_state") or ""),
        flags=_int(span.get("flags"), "flags"),
    )
