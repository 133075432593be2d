"""Parser of trace filters and order-by items (spec TRACING §5).

A filter is clauses joined by ``AND`` (``OR`` is refused, as MLflow does). Each clause names an
entity by prefix (``attributes.``/``trace.``, ``tags.``/``tag.``, ``metadata.``/
``request_metadata.``, ``span.``, ``feedback.``, ``expectation.``, ``issue.``; a bare key is a trace
attribute), an operator, and a quoted string, a number or a parenthesised list. Keys with dots
are backtick-quoted. Tokens come from the tracking search tokenizer.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.search.tokens import Token, TokenKind, tokenize

__all__ = [
    "MAX_RESULTS_LIMIT",
    "TraceClause",
    "TraceEntity",
    "TraceOrderKey",
    "check_max_results",
    "parse_trace_filter",
    "parse_trace_order_by",
]

MAX_RESULTS_LIMIT = 50000


class TraceEntity(enum.StrEnum):
    """What a clause compares."""

    ATTRIBUTE = "attribute"
    TAG = "tag"
    METADATA = "metadata"
    SPAN = "span"
    FEEDBACK = "feedback"
    EXPECTATION = "expectation"
    ISSUE = "issue"


@dataclass(frozen=True, slots=True)
class TraceClause:
    """One comparison: ``entity``.``key`` ``op`` ``value``.

    ``key`` is canonical for attributes (``timestamp_ms``, ``execution_time_ms``, ``end_time_ms``,
    ``status``, ``request_id``, ``client_request_id``, ``name``, ``run_id``, ``prompt``, ``text``)
    and for spans (``name``, ``type``, ``status``, ``content``, ``attributes.<attr>``).
    ``op`` is one of ``= != > >= < <= LIKE ILIKE RLIKE IN NOT IN IS NULL IS NOT NULL``; ``value``
    is a string, a number, a tuple of strings (IN) or None (IS [NOT] NULL).
    """

    entity: TraceEntity
    key: str
    op: str
    value: str | float | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class TraceOrderKey:
    """One order-by item: a canonical key and its direction."""

    key: str
    ascending: bool


_ATTRIBUTE_ALIASES = {
    "request_id": "request_id",
    "trace_id": "request_id",
    "timestamp": "timestamp_ms",
    "timestamp_ms": "timestamp_ms",
    "execution_time": "execution_time_ms",
    "execution_time_ms": "execution_time_ms",
    "end_time": "end_time_ms",
    "end_time_ms": "end_time_ms",
    "status": "status",
    "state": "status",
    "client_request_id": "client_request_id",
    "name": "name",
    "run_id": "run_id",
    "prompt": "prompt",
    "text": "text",
}
_NUMERIC = frozenset({"timestamp_ms", "execution_time_ms", "end_time_ms"})
_IN_KEYS = frozenset({"name", "status", "request_id", "run_id", "client_request_id"})
_PREFIXES = {
    "attributes": TraceEntity.ATTRIBUTE,
    "attribute": TraceEntity.ATTRIBUTE,
    "trace": TraceEntity.ATTRIBUTE,
    "tags": TraceEntity.TAG,
    "tag": TraceEntity.TAG,
    "metadata": TraceEntity.METADATA,
    "request_metadata": TraceEntity.METADATA,
    "span": TraceEntity.SPAN,
    "feedback": TraceEntity.FEEDBACK,
    "expectation": TraceEntity.EXPECTATION,
    "issue": TraceEntity.ISSUE,
}
_COMPARE = ("=", "!=", ">", ">=", "<", "<=")
_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "RLIKE")
_TAG_OPS = (*_STRING_OPS, "IS NULL", "IS NOT NULL")
_ORDER_KEYS = {
    "experiment_id": "experiment_id",
    "timestamp": "timestamp_ms",
    "timestamp_ms": "timestamp_ms",
    "execution_time": "execution_time_ms",
    "execution_time_ms": "execution_time_ms",
    "end_time": "end_time_ms",
    "end_time_ms": "end_time_ms",
    "status": "status",
    "request_id": "request_id",
    "trace_id": "request_id",
    "name": "name",
    "run_id": "run_id",
}


def check_max_results(max_results: int) -> int:
    """Validate a page size (1 .. 50000)."""
    if max_results < 1 or max_results > MAX_RESULTS_LIMIT:
        raise InvalidArgumentError(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be a positive "
            f"integer at most {MAX_RESULTS_LIMIT}."
        )
    return max_results


class _Cursor:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        """The next token without consuming it (None at the end)."""
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self, what: str) -> Token:
        """Consume the next token; ``what`` names the expectation in the error at the end."""
        token = self.peek()
        if token is None:
            raise InvalidArgumentError(f"Invalid filter string '{self.text}': expected {what} at the end")
        self.i += 1
        return token

    def error(self, message: str) -> InvalidArgumentError:
        """An error naming the whole filter string."""
        return InvalidArgumentError(f"Invalid filter string '{self.text}': {message}")


def _key(cur: _Cursor) -> tuple[TraceEntity, str]:
    token = cur.next("a key")
    if token.kind in (TokenKind.BACKTICKED, TokenKind.DOUBLE_QUOTED):
        return TraceEntity.ATTRIBUTE, token.text
    if token.kind is not TokenKind.WORD:
        raise cur.error(f"expected a key, got '{token.text}'")
    word = token.text
    head, dot, rest = word.partition(".")
    entity = _PREFIXES.get(head) if dot else None
    if entity is None:
        return TraceEntity.ATTRIBUTE, word
    nxt = cur.peek()
    if (
        (not rest or rest.endswith("."))
        and nxt is not None
        and nxt.kind
        in (
            TokenKind.BACKTICKED,
            TokenKind.DOUBLE_QUOTED,
        )
    ):
        cur.i += 1
        rest += nxt.text
    if not rest:
        raise cur.error(f"missing key after '{word}'")
    return entity, rest


def _operator(cur: _Cursor) -> str:
    token = cur.next("an operator")
    if token.kind is TokenKind.OPERATOR:
        return token.text
    text = token.text.upper()
    if token.kind is TokenKind.KEYWORD and text in ("LIKE", "ILIKE", "IN"):
        return text
    if token.kind is TokenKind.WORD and text == "RLIKE":
        return "RLIKE"
    if token.kind is TokenKind.KEYWORD and text == "NOT":
        if cur.next("IN").text.upper() != "IN":
            raise cur.error("expected IN after NOT")
        return "NOT IN"
    if token.kind is TokenKind.KEYWORD and text == "IS":
        nxt = cur.next("NULL")
        if nxt.text.upper() == "NOT":
            nxt = cur.next("NULL")
            if nxt.text.upper() != "NULL":
                raise cur.error("expected NULL after IS NOT")
            return "IS NOT NULL"
        if nxt.text.upper() != "NULL":
            raise cur.error("expected NULL after IS")
        return "IS NULL"
    raise cur.error(f"expected an operator, got '{token.text}'")


def _value(cur: _Cursor, op: str) -> str | float | tuple[str, ...] | None:
    if op in ("IS NULL", "IS NOT NULL"):
        return None
    if op in ("IN", "NOT IN"):
        if cur.next("(").kind is not TokenKind.LPAREN:
            raise cur.error(f"expected a parenthesised list after {op}")
        items: list[str] = []
        while True:
            token = cur.next("a value")
            if token.kind not in (TokenKind.SINGLE_QUOTED, TokenKind.DOUBLE_QUOTED, TokenKind.NUMBER):
                raise cur.error(f"expected a quoted value in the list, got '{token.text}'")
            items.append(token.text)
            sep = cur.next(") or ,")
            if sep.kind is TokenKind.RPAREN:
                return tuple(items)
            if sep.kind is not TokenKind.COMMA:
                raise cur.error(f"expected ',' or ')', got '{sep.text}'")
    token = cur.next("a value")
    if token.kind is TokenKind.NUMBER:
        return float(token.text)
    if token.kind in (TokenKind.SINGLE_QUOTED, TokenKind.DOUBLE_QUOTED):
        return token.text
    raise cur.error(f"expected a quoted string or a number, got '{token.text}'")


def _check(cur: _Cursor, entity: TraceEntity, key: str, op: str, value: object) -> TraceClause:
    if entity is TraceEntity.ATTRIBUTE:
        canonical = _ATTRIBUTE_ALIASES.get(key)
        if canonical is None:
            raise cur.error(
                f"Invalid attribute key '{key}'. Valid keys: {', '.join(sorted(set(_ATTRIBUTE_ALIASES)))}"
            )
        key = canonical
        if key in _NUMERIC:
            if op not in _COMPARE:
                raise cur.error(f"operator '{op}' is not supported for numeric attribute '{key}'")
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise cur.error(f"expected a number for '{key}', got '{value}'") from None
        elif key == "text":
            if op not in ("=", "LIKE", "ILIKE"):
                raise cur.error("attribute 'text' supports only LIKE, ILIKE and =")
        elif key == "prompt":
            if op != "=":
                raise cur.error("attribute 'prompt' supports only =")
        elif op in ("IN", "NOT IN"):
            if key not in _IN_KEYS:
                raise cur.error(f"operator {op} is not supported for attribute '{key}'")
        elif op not in _STRING_OPS:
            raise cur.error(f"operator '{op}' is not supported for attribute '{key}'")
        if key not in _NUMERIC and isinstance(value, float):
            value = _number_text(value)
    elif entity in (TraceEntity.TAG, TraceEntity.METADATA):
        if op not in _TAG_OPS:
            raise cur.error(f"operator '{op}' is not supported for {entity.value} '{key}'")
        if isinstance(value, float):
            value = _number_text(value)
    elif entity is TraceEntity.SPAN:
        if key in ("name", "type", "status"):
            if op not in (*_STRING_OPS, "IN", "NOT IN"):
                raise cur.error(f"operator '{op}' is not supported for span.{key}")
        elif key == "content":
            if op not in ("LIKE", "ILIKE"):
                raise cur.error("span.content supports only LIKE and ILIKE")
        elif key.startswith("attributes.") and len(key) > len("attributes."):
            if op not in ("=", "!=", "LIKE", "ILIKE", "RLIKE"):
                raise cur.error(f"operator '{op}' is not supported for span.{key}")
        else:
            raise cur.error(
                f"Invalid span key 'span.{key}'. Valid keys: span.name, span.type, span.status, "
                "span.content, span.attributes.<name>"
            )
        if isinstance(value, float) and not key.startswith("attributes."):
            value = _number_text(value)
    elif entity is TraceEntity.ISSUE:
        if key != "id":
            raise cur.error(f"Invalid issue attribute '{key}'. Supported attributes: id")
        if op != "=" or not isinstance(value, str):
            raise cur.error("issue.id supports only = with a quoted issue id")
    elif op in _COMPARE[2:]:
        # feedback/expectation: > >= < <= compare numeric values (booleans and strings never match)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise cur.error(f"expected a number for {entity.value}.{key} {op}, got '{value}'") from None
        if not isinstance(value, float) or not math.isfinite(value):
            raise cur.error(f"expected a finite number for {entity.value}.{key} {op}, got '{value}'")
    else:
        if op not in _TAG_OPS:
            raise cur.error(f"operator '{op}' is not supported for {entity.value}.{key}")
        if isinstance(value, float):
            value = _number_text(value)
    return TraceClause(entity, key, op, value)  # type: ignore[arg-type]


def _number_text(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def parse_trace_filter(filter_string: str | None) -> list[TraceClause]:
    """Parse a trace filter into its clauses (all joined by AND).

    Raises:
        InvalidArgumentError: bad syntax, ``OR``, an unknown key or an unsupported operator.
    """
    if not filter_string or not filter_string.strip():
        return []
    tokens = tokenize(filter_string)
    if any(t.kind is TokenKind.KEYWORD and t.text == "OR" for t in tokens):
        raise InvalidArgumentError("Invalid clause(s) in filter string: 'OR'")
    cur = _Cursor(filter_string, tokens)
    clauses: list[TraceClause] = []
    while True:
        entity, key = _key(cur)
        op = _operator(cur)
        value = _value(cur, op)
        clauses.append(_check(cur, entity, key, op, value))
        token = cur.peek()
        if token is None:
            return clauses
        if token.kind is TokenKind.KEYWORD and token.text == "AND":
            cur.i += 1
            continue
        raise cur.error(f"expected AND, got '{token.text}'")


def parse_trace_order_by(order_by: Sequence[str] | None) -> list[TraceOrderKey]:
    """Parse order-by items such as ``timestamp_ms DESC`` or ``attributes.name``.

    Raises:
        InvalidArgumentError: an unknown key or direction.
    """
    keys: list[TraceOrderKey] = []
    for item in order_by or ():
        parts = item.strip().split()
        if not parts or len(parts) > 2:
            raise InvalidArgumentError(f"Invalid order_by clause '{item}'")
        name = parts[0]
        for prefix in ("attributes.", "attribute.", "trace."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        name = name.strip("`")
        canonical = _ORDER_KEYS.get(name)
        if canonical is None:
            raise InvalidArgumentError(
                f"Invalid order_by key '{parts[0]}'. Valid keys: {', '.join(sorted(_ORDER_KEYS))}"
            )
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise InvalidArgumentError(f"Invalid order_by direction '{parts[1]}' in '{item}'")
        keys.append(TraceOrderKey(canonical, direction == "ASC"))
    return keys
