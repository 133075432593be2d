"""Keyset paging of trace search: page tokens that remember where the last page ended.

With an ``OFFSET``, page ``n`` re-reads and re-filters every row of the pages before it, so paging
through a large result costs time quadratic in its size. When the order is by timestamp alone
(the default, newest first, or ``timestamp_ms`` either way; the trace id breaks ties in the same
direction), the token also carries the last row's ``(request_time, trace_id)`` and the next page
starts right after it through the ``(experiment_id, request_time, trace_id)`` index. The token
keeps the offset too, so it stays a valid offset token (spec TRACING §3: opaque base64 of a JSON
object with ``offset``), and any other order pages by offset as before.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from mltrail.db.schema_tracing import trace_info
from mltrail.errors import InvalidArgumentError
from mltrail.tracing.search import TraceOrderKey
from mltrail.tracking.search import decode_page_token

__all__ = ["Cursor", "after_clause", "decode_token", "encode_token", "keyset_ascending"]

Cursor = tuple[int, str]
"""The ``(request_time, trace_id)`` of the last trace of a page."""


def keyset_ascending(keys: Sequence[TraceOrderKey]) -> bool | None:
    """The direction of a keyset-pageable order, or None when the order needs offset paging."""
    if not keys:
        return False
    if len(keys) == 1 and keys[0].key == "timestamp_ms":
        return keys[0].ascending
    return None


def encode_token(offset: int, cursor: Cursor | None) -> str:
    """The token of the page that starts at ``offset``, right after ``cursor`` when given."""
    data: dict[str, Any] = {"offset": offset}
    if cursor is not None:
        data["after"] = [cursor[0], cursor[1]]
    return base64.b64encode(json.dumps(data).encode()).decode()


def decode_token(token: str | None) -> tuple[int, Cursor | None]:
    """The offset and the cursor (None when absent) of a page token.

    Raises:
        InvalidArgumentError: the token is not one :func:`encode_token` or an offset token made.
    """
    offset = decode_page_token(token)
    if not token:
        return offset, None
    try:
        after = json.loads(base64.b64decode(token.encode(), validate=True)).get("after")
    except (binascii.Error, ValueError, UnicodeError) as exc:  # pragma: no cover - checked above
        raise InvalidArgumentError(f"Invalid page token: '{token}'") from exc
    if after is None:
        return offset, None
    if (
        not isinstance(after, list)
        or len(after) != 2
        or isinstance(after[0], bool)
        or not isinstance(after[0], int)
        or not isinstance(after[1], str)
    ):
        raise InvalidArgumentError(f"Invalid page token, malformed cursor: '{token}'")
    return offset, (after[0], after[1])


def after_clause(
    cursor: tuple[Any, Any],
    ascending: bool,
    time_column: sa.ColumnElement[Any] = trace_info.c.request_time,
    id_column: sa.ColumnElement[Any] = trace_info.c.trace_id,
) -> sa.ColumnElement[bool]:
    """Rows strictly after ``cursor`` in ``(time, id)`` order of the given direction.

    The cursor holds a :data:`Cursor`'s values, or bound parameters standing for them.

    The columns default to ``trace_info``'s; a search driven by the tag index passes the copies
    in ``trace_tags``. The plain bound on the time column is implied by the rest; it is there so
    that the database starts its index range at the cursor instead of filtering the entries of
    every earlier page.
    """
    request_time, trace_id = cursor
    if ascending:
        return sa.and_(
            time_column >= request_time,
            sa.or_(time_column > request_time, sa.and_(time_column == request_time, id_column > trace_id)),
        )
    return sa.and_(
        time_column <= request_time,
        sa.or_(time_column < request_time, sa.and_(time_column == request_time, id_column < trace_id)),
    )
