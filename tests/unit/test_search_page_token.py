"""Offset page tokens."""

from __future__ import annotations

import base64
import json

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.search import decode_page_token, encode_page_token


def test_round_trip_and_wire_format() -> None:
    assert decode_page_token(encode_page_token(1234)) == 1234
    assert json.loads(base64.b64decode(encode_page_token(1))) == {"offset": 1}
    assert decode_page_token("eyJvZmZzZXQiOiAxfQ==") == 1


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_offset_zero(token: str | None) -> None:
    assert decode_page_token(token) == 0


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "eyJvZmZzZXQiOiAxfQ",  # bad padding
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"offset": -1}').decode(),
        base64.b64encode(b'{"offset": "3"}').decode(),
        base64.b64encode(b'{"offset": true}').decode(),
        base64.b64encode(b'{"other": 1}').decode(),
        base64.b64encode(b"\xff\xfe").decode(),
    ],
)
def test_garbage_rejected(token: str) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid page token"):
        decode_page_token(token)
