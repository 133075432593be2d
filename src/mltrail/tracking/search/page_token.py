"""Offset page tokens: base64 of the JSON ``{"offset": N}`` (spec REST-TRACKING §0.6)."""

from __future__ import annotations

import base64
import binascii
import json

from mltrail.errors import InvalidArgumentError

__all__ = ["decode_page_token", "encode_page_token"]


def encode_page_token(offset: int) -> str:
    """The token of the page starting at ``offset``."""
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The offset a token points at (0 for no token).

    Raises:
        InvalidArgumentError: the token is not one this module made.
    """
    if not token:
        return 0
    try:
        data = json.loads(base64.b64decode(token.encode(), validate=True))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise InvalidArgumentError(f"Invalid page token, could not base64-decode: '{token}'") from exc
    offset = data.get("offset") if isinstance(data, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidArgumentError(f"Invalid page token, expected a non-negative offset: '{token}'")
    return offset
