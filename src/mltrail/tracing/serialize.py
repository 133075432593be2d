"""Safe, size-capped JSON capture of any Python object for span inputs, outputs and attributes.

Capturing must never fail a user's call: objects orjson cannot encode are turned into something
it can (pydantic models are dumped, sets become lists, bytes are summarised, anything else falls
back to ``str``), and text past the size cap is cut with a note saying how much was cut.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

__all__ = ["DEFAULT_MAX_CHARS", "decode_attribute", "jsonable", "model_data", "to_json"]

DEFAULT_MAX_CHARS = 1_000_000
"""Default cap on the JSON text captured for one value (characters)."""

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
_TRUNCATED = "...[truncated {n} chars]"


def model_data(dump: Any) -> Any:
    """The JSON data of a pydantic model, given its bound ``model_dump``.

    Serializer warnings are off: generic models of client libraries (openai's
    ``ParsedChatCompletion[T]``) hold values their declared field types do not describe, and
    recording a value must not print warnings in the user's program.
    """
    try:
        return dump(mode="json", warnings=False)
    except TypeError:  # a model_dump without pydantic v2's keywords
        return dump(mode="json")


def _fallback(obj: Any) -> Any:
    """Turn one object orjson cannot encode into something it can."""
    dump = getattr(obj, "model_dump", None)
    if callable(dump) and not isinstance(obj, type):
        try:
            return model_data(dump)
        except Exception:
            return str(obj)
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, bytes | bytearray | memoryview):
        return f"<{len(obj)} bytes>"
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict) and not isinstance(obj, type):
        try:
            return to_dict()
        except Exception:
            return str(obj)
    return str(obj)


def to_json(
    value: Any,
    max_chars: int = DEFAULT_MAX_CHARS,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """Encode ``value`` as JSON text, never raising, at most about ``max_chars`` long.

    Args:
        value: Any object.
        max_chars: Cap on the text; longer text is cut and becomes a JSON string ending
            with a ``...[truncated N chars]`` note.
        default: Called first for objects orjson cannot encode (e.g. to replace attachments);
            it returns the replacement, or ``NotImplemented`` to use the generic fallback.

    Returns:
        JSON text.
    """
    hook = _fallback
    if default is not None:

        def hook(obj: Any) -> Any:
            replaced = default(obj)
            return _fallback(obj) if replaced is NotImplemented else replaced

    try:
        text = orjson.dumps(value, default=hook, option=_OPTIONS).decode()
    except Exception:
        try:
            text = orjson.dumps(str(value)).decode()
        except Exception:
            text = '"<unserializable>"'
    if len(text) > max_chars:
        cut = text[:max_chars]
        text = orjson.dumps(cut + _TRUNCATED.format(n=len(text) - max_chars)).decode()
    return text


def jsonable(value: Any, max_chars: int = DEFAULT_MAX_CHARS) -> Any:
    """``value`` as plain JSON data (dicts, lists, str, numbers), via :func:`to_json`."""
    return orjson.loads(to_json(value, max_chars))


def decode_attribute(value: Any) -> Any:
    """The native value of an attribute stored as JSON text; other values are returned as they are.

    Tuples (OTel's sequence attributes) become lists.
    """
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value
