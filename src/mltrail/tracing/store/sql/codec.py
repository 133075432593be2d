"""The ``content`` document of a stored span: everything OTLP carries, as compact JSON.

Column values (ids, name, times, status code) live beside the document; the document holds the
rest with typed attribute values preserved (JSON keeps str/int/float/bool/list/dict apart;
bytes are wrapped as ``{"$b64": ...}``). Attributes come first so that ``LIKE`` patterns over
``"key":value`` pairs find them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from mltrail.tracing.entities import SpanData, SpanEvent, SpanLink

__all__ = ["NAME_COLUMN_LENGTH", "decode_span", "encode_content", "json_fragment", "value_digest"]

# Longer names are cut in the indexed column and kept whole in the document.
NAME_COLUMN_LENGTH = 500

_BYTES = "$b64"


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {_BYTES: base64.b64encode(value).decode()}
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def value_digest(value: str) -> str:
    """The ``value_digest`` of a tag value: 16 hex digits of BLAKE2b over its UTF-8 bytes.

    Migration ``0005_trace_tag_search`` fills existing rows with the same function; the two must
    agree, or tag-filtered searches miss the rows written by the other.
    """
    return hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()


def json_fragment(value: Any) -> str:
    """The compact JSON text of one value, as it appears inside a stored document."""
    return _dumps(value).decode()


def encode_content(span: SpanData) -> str:
    """The JSON document stored in ``spans.content``."""
    doc: dict[str, Any] = {"attributes": dict(span.attributes)}
    if len(span.name) > NAME_COLUMN_LENGTH:
        doc["name"] = span.name
    if span.status_message:
        doc["status_message"] = span.status_message
    if span.kind != 1:
        doc["kind"] = span.kind
    if span.events:
        doc["events"] = [[e.name, e.time_unix_nano, dict(e.attributes)] for e in span.events]
    if span.links:
        doc["links"] = [[lk.trace_id, lk.span_id, dict(lk.attributes), lk.trace_state] for lk in span.links]
    if span.resource:
        doc["resource"] = dict(span.resource)
    if span.scope_name or span.scope_version:
        doc["scope"] = [span.scope_name, span.scope_version]
    if span.trace_state:
        doc["trace_state"] = span.trace_state
    if span.flags:
        doc["flags"] = span.flags
    return _dumps(doc).decode()


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _BYTES in value and isinstance(value[_BYTES], str):
            return base64.b64decode(value[_BYTES])
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _attrs(value: Any, wrapped: bool) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        return {}
    return _unwrap(value) if wrapped else value


def decode_span(
    otel_trace_id: str,
    span_id: str,
    parent_span_id: str | None,
    name: str | None,
    status: str,
    start_ns: int,
    end_ns: int | None,
    content: str,
) -> SpanData:
    """Rebuild a span from its row."""
    doc = orjson.loads(content)
    wrapped = f'"{_BYTES}"' in content
    scope = doc.get("scope") or ["", ""]
    return SpanData(
        trace_id=otel_trace_id,
        span_id=span_id,
        parent_span_id=parent_span_id,
        name=doc.get("name") or name or "",
        kind=int(doc.get("kind", 1)),
        start_time_unix_nano=int(start_ns),
        end_time_unix_nano=None if end_ns is None else int(end_ns),
        status_code=status,
        status_message=doc.get("status_message", ""),
        attributes=_attrs(doc.get("attributes"), wrapped),
        events=tuple(SpanEvent(e[0], int(e[1]), _attrs(e[2], wrapped)) for e in doc.get("events", ())),
        links=tuple(
            SpanLink(lk[0], lk[1], _attrs(lk[2], wrapped), lk[3] if len(lk) > 3 else "")
            for lk in doc.get("links", ())
        ),
        resource=_attrs(doc.get("resource"), wrapped),
        scope_name=scope[0],
        scope_version=scope[1],
        trace_state=doc.get("trace_state", ""),
        flags=int(doc.get("flags", 0)),
    )
