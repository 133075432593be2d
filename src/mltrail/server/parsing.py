"""Request parsing of MLflow's wire protocol (spec REST-TRACKING §0.2).

Each RPC declares its request as a :class:`Message` of typed :class:`Field` objects (a small
stand-in for the protobuf descriptor). :func:`parse_request` reads GET query strings (repeated
parameters, ``true``/``false`` booleans, JSON-body fallback when there is no query string) and
JSON bodies (content-type rule for POST/PUT, double-encoded strings, snake_case and lowerCamel
names with conflict detection, int64 as numbers or strings, enums by name or number, NaN and
±Infinity strings) into a plain dict keyed by the snake_case field names, and enforces required
fields with MLflow's message. Every failure is an ``InvalidArgumentError`` (400).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.wire import decode_double, loads

__all__ = [
    "NOT_PLAIN",
    "Field",
    "Kind",
    "Message",
    "check_content_type",
    "parse_json_body",
    "parse_object",
    "parse_query",
    "parse_request",
    "required_message",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class Kind(enum.Enum):
    """Scalar and composite field types of the protocol."""

    STRING = "string"
    INT64 = "int64"
    INT32 = "int32"
    DOUBLE = "double"
    BOOL = "bool"
    ENUM = "enum"
    MESSAGE = "message"


@dataclass(frozen=True)
class Message:
    """A request (or nested) message: its name and fields.

    Args:
        name: The proto message name.
        fields: Its fields.
        build: For a nested message: turns the parsed fields of each item into the object the
            endpoint works with (an entity, say), so items need no second pass.
        shortcut: For a nested message with ``build``: parses and builds one item in a single
            step when it has the plain shape clients send, returning :data:`NOT_PLAIN` for
            anything else (which then takes the general parser). It must give exactly what
            ``build`` gives for the parsed item.
    """

    name: str
    fields: tuple[Field, ...]
    build: Callable[[dict[str, Any]], Any] | None = None
    shortcut: Callable[[Any], Any] | None = None
    _lookup: dict[str, Field] = field(init=False, repr=False, compare=False)
    required: tuple[Field, ...] = field(init=False, repr=False, compare=False)
    _plain: dict[str, _Converter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lookup: dict[str, Field] = {}
        for f in self.fields:
            lookup[f.name] = f
            lookup[f.json_name] = f
        object.__setattr__(self, "_lookup", lookup)
        object.__setattr__(self, "required", tuple(f for f in self.fields if f.required))
        object.__setattr__(self, "_plain", {f.name: _plain_converter(f) for f in self.fields})

    def field_for(self, key: str) -> Field | None:
        """The field named ``key`` in either spelling, or None."""
        return self._lookup.get(key)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message.

    Args:
        name: The proto (snake_case) name.
        kind: Its type.
        repeated: A list of values.
        required: Missing (absent or ``""``) is a 400 with MLflow's message.
        enum_values: For ``Kind.ENUM``: name → number.
        message: For ``Kind.MESSAGE``: the nested message.
    """

    name: str
    kind: Kind
    repeated: bool = False
    required: bool = False
    enum_values: Mapping[str, int] = field(default_factory=dict)
    message: Message | None = None

    @property
    def json_name(self) -> str:
        """The lowerCamel spelling (``run_uuid`` → ``runUuid``)."""
        head, *rest = self.name.split("_")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)


def required_message(path: str) -> str:
    """MLflow's text for a missing required field."""
    return (
        f"Missing value for required parameter '{path}'. "
        "See the API docs for more information about request parameters."
    )


class _FieldError(Exception):
    """A bad or missing value deep in a request; the path is assembled while it propagates.

    ``parts`` collects path pieces from the innermost outwards (``timestamp``, ``[0]``,
    ``metrics``), so no path string is built unless something is wrong.
    """

    def __init__(self, value: Any = None, expected: str | None = None) -> None:
        super().__init__(expected)
        self.value = value
        self.expected = expected  # None: a required field is missing
        self.parts: list[str] = []

    def to_error(self, prefix: str = "") -> InvalidArgumentError:
        path = prefix
        for part in reversed(self.parts):
            path = f"{path}{part}" if part.startswith("[") or not path else f"{path}.{part}"
        if self.expected is None:
            return InvalidArgumentError(required_message(path))
        return InvalidArgumentError(
            f"Invalid value {self.value!r} for parameter '{path}' supplied: expected {self.expected}."
        )


def _integer(value: Any, low: int, high: int) -> int:
    if type(value) is int:
        result = value
    elif isinstance(value, bool):
        raise _FieldError(value, "an integer")
    elif isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer()):
        result = int(value)
    elif isinstance(value, str):
        try:
            result = int(value.strip())
        except ValueError:
            raise _FieldError(value, "an integer") from None
    else:
        raise _FieldError(value, "an integer")
    if not low <= result <= high:
        raise _FieldError(value, "an integer in range")
    return result


def _scalar(f: Field, value: Any, *, from_query: bool = False) -> Any:
    """Convert one JSON (or query-string) value of a non-message field; None means "unset"."""
    kind = f.kind
    if kind is Kind.STRING:
        if type(value) is str:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _FieldError(value, "a string")
    if kind is Kind.DOUBLE:
        if type(value) is float:
            return value
        if type(value) is int:
            return float(value)
        try:
            return decode_double(value)
        except InvalidArgumentError:
            raise _FieldError(value, "a number") from None
    if kind is Kind.INT64:
        return _integer(value, _INT64_MIN, _INT64_MAX)
    if kind is Kind.INT32:
        return _integer(value, _INT32_MIN, _INT32_MAX)
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _FieldError(value, "'true' or 'false'")
    if kind is Kind.ENUM:
        # Unknown names or numbers read as "not set", as MLflow's parser does.
        if isinstance(value, str):
            if value in f.enum_values:
                return value
            if from_query and value.lstrip("-").isdigit():
                value = int(value)
            else:
                return None
        if isinstance(value, int) and not isinstance(value, bool):
            for name, number in f.enum_values.items():
                if number == value:
                    return name
            return None
        raise _FieldError(value, "an enum name or number")
    raise AssertionError(f"unhandled kind {kind}")  # pragma: no cover


def _value(f: Field, value: Any) -> Any:
    if f.kind is Kind.MESSAGE:
        if not isinstance(value, Mapping):
            raise _FieldError(value, "an object")
        assert f.message is not None
        parsed = _parse(value, f.message)
        build = f.message.build
        return parsed if build is None else build(parsed)
    return _scalar(f, value)


# The plain path: requests as MLflow's clients send them (snake_case names, values of the exact
# JSON type) are parsed by one converter per field, with no per-field dispatch on the kind. Any
# other value makes the converter answer NOT_PLAIN and the whole request is parsed again by
# _parse, which implements every rule and builds the error messages; both give the same result.
NOT_PLAIN: Any = object()
"""What a plain-path converter (or a message's ``shortcut``) returns for a value it does not take."""
_Converter = Callable[[Any], Any]


def _plain_string(value: Any) -> Any:
    return value if type(value) is str else NOT_PLAIN


def _plain_double(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        return value
    return float(value) if kind is int else NOT_PLAIN


def _plain_integer(low: int, high: int) -> _Converter:
    def convert(value: Any) -> Any:
        return value if type(value) is int and low <= value <= high else NOT_PLAIN

    return convert


def _not_plain(value: Any) -> Any:
    return NOT_PLAIN


def _plain_message(message: Message) -> _Converter:
    build, shortcut = message.build, message.shortcut

    def convert(value: Any) -> Any:
        if shortcut is not None:
            done = shortcut(value)
            if done is not NOT_PLAIN:
                return done
        if type(value) is not dict:
            return NOT_PLAIN
        parsed = _parse_plain(value, message)
        if parsed is None:
            return NOT_PLAIN
        return parsed if build is None else build(parsed)

    return convert


def _plain_repeated(item: _Converter) -> _Converter:
    def convert(value: Any) -> Any:
        if type(value) is not list:
            return NOT_PLAIN
        items = [item(v) for v in value]
        # An identity scan: ``in`` would call each built item's __eq__.
        for parsed in items:
            if parsed is NOT_PLAIN:
                return NOT_PLAIN
        return items

    return convert


def _plain_converter(f: Field) -> _Converter:
    single: _Converter
    if f.kind is Kind.STRING:
        single = _plain_string
    elif f.kind is Kind.DOUBLE:
        single = _plain_double
    elif f.kind is Kind.INT64:
        single = _plain_integer(_INT64_MIN, _INT64_MAX)
    elif f.kind is Kind.INT32:
        single = _plain_integer(_INT32_MIN, _INT32_MAX)
    elif f.kind is Kind.MESSAGE and f.message is not None:
        single = _plain_message(f.message)
    else:
        single = _not_plain  # enums and booleans have several spellings: the full parser reads them
    return _plain_repeated(single) if f.repeated else single


def _parse_plain(obj: dict[str, Any], message: Message) -> dict[str, Any] | None:
    """``_parse``'s result for a plain object, or None when the object needs the full parser."""
    result: dict[str, Any] = {}
    plain = message._plain
    lookup = message._lookup
    for key, value in obj.items():
        convert = plain.get(key)
        if convert is None:
            if key in lookup:
                return None  # the lowerCamel spelling: conflicts are checked by _parse
            continue
        if value is None:
            continue
        parsed = convert(value)
        if parsed is NOT_PLAIN:
            return None
        result[key] = parsed
    for f in message.required:
        present = result.get(f.name)
        if present is None or present == "" or (f.repeated and not present):
            return None
    return result


def _parse(obj: Mapping[str, Any], message: Message) -> dict[str, Any]:
    """Parse one object and check its required fields; raises ``_FieldError`` or a conflict."""
    if type(obj) is dict:
        parsed = _parse_plain(obj, message)
        if parsed is not None:
            return parsed
    return _parse_full(obj, message)


def _parse_full(obj: Mapping[str, Any], message: Message) -> dict[str, Any]:
    result: dict[str, Any] = {}
    seen: dict[str, str] = {}
    lookup = message._lookup
    for key, value in obj.items():
        f = lookup.get(key)
        if f is None:
            continue  # unknown keys are ignored, as protobuf-JSON does
        name = f.name
        if name in seen:
            raise InvalidArgumentError(
                f"Message type '{message.name}' has conflicting fields: "
                f"'{seen[name]}' and '{key}' both set field '{name}'."
            )
        seen[name] = key
        if value is None:
            continue
        try:
            if f.repeated:
                if not isinstance(value, list):
                    raise _FieldError(value, "a list")
                items = []
                for index, item in enumerate(value):
                    try:
                        parsed = _value(f, item)
                    except _FieldError as exc:
                        exc.parts.append(f"[{index}]")
                        raise
                    if parsed is not None:
                        items.append(parsed)
                result[name] = items
            else:
                parsed = _value(f, value)
                if parsed is not None:
                    result[name] = parsed
        except _FieldError as exc:
            exc.parts.append(name)
            raise
    for f in message.required:
        present = result.get(f.name)
        if present is None or present == "" or (f.repeated and not present):
            error = _FieldError()
            error.parts.append(f.name)
            raise error
    return result


def parse_object(obj: Mapping[str, Any], message: Message, *, path: str = "") -> dict[str, Any]:
    """Parse a JSON object as ``message``, enforcing required fields at every level.

    Args:
        obj: The decoded JSON object.
        message: Its declared type.
        path: The location of ``obj`` in the request, prefixed to paths in error messages.

    Returns:
        The present fields by snake_case name (repeated fields as lists; unset fields absent).

    Raises:
        InvalidArgumentError: a value has the wrong type, a required field is missing (absent
            or ``""``), or a field is given in both spellings.
    """
    try:
        return _parse(obj, message)
    except _FieldError as exc:
        raise exc.to_error(path) from None


def parse_json_body(raw: bytes, message: Message) -> dict[str, Any]:
    """Parse a JSON request body; empty means ``{}``, a JSON string holding JSON is unwrapped."""
    if not raw.strip():
        return parse_object({}, message)
    body = loads(raw)
    if isinstance(body, str):
        body = loads(body) if body.strip() else {}
    if not isinstance(body, Mapping):
        raise InvalidArgumentError("The request body must be a JSON object.")
    return parse_object(body, message)


def parse_query(params: Iterable[tuple[str, str]], message: Message) -> dict[str, Any]:
    """Parse GET query parameters (repeated fields by repeating the parameter).

    Nested messages cannot be expressed in a query string and are ignored.
    """
    grouped: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}
    for key, value in params:
        f = message.field_for(key)
        if f is None or f.kind is Kind.MESSAGE:
            continue
        if spelled.setdefault(f.name, key) != key:
            raise InvalidArgumentError(
                f"Message type '{message.name}' has conflicting fields: "
                f"'{spelled[f.name]}' and '{key}' both set field '{f.name}'."
            )
        grouped.setdefault(f.name, []).append(value)
    result: dict[str, Any] = {}
    for name, values in grouped.items():
        f = message.field_for(name)
        assert f is not None
        try:
            if f.repeated:
                converted = [_scalar(f, v, from_query=True) for v in values]
                result[name] = [v for v in converted if v is not None]
            else:
                parsed = _scalar(f, values[-1], from_query=True)
                if parsed is not None:
                    result[name] = parsed
        except _FieldError as exc:
            exc.parts.append(name)
            raise exc.to_error() from None
    for f in message.required:
        present = result.get(f.name)
        if present is None or present == "" or (f.repeated and not present):
            raise InvalidArgumentError(required_message(f.name))
    return result


def check_content_type(method: str, content_type: str | None) -> None:
    """POST and PUT must send ``application/json`` (parameters after ``;`` are ignored)."""
    if method not in ("POST", "PUT"):
        return
    if not content_type:
        raise InvalidArgumentError("Bad Request. Content-Type header is missing.")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise InvalidArgumentError(
            f"Bad Request. Content-Type must be one of ['application/json'], got '{content_type}'."
        )


async def parse_request(request: Request, message: Message) -> dict[str, Any]:
    """Read and parse one RPC request per spec §0.2 (GET: query string; others: JSON body)."""
    method = request.method
    if method == "GET" and request.url.query:
        return parse_query(request.query_params.multi_items(), message)
    check_content_type(method, request.headers.get("content-type"))
    return parse_json_body(await request.body(), message)
