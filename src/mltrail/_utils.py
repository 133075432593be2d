"""Small helpers with no dependencies beyond the standard library."""

from __future__ import annotations

import time

__all__ = ["now_ms"]


def now_ms() -> int:
    """Milliseconds since the Unix epoch, the unit of every timestamp in mltrail."""
    return time.time_ns() // 1_000_000
