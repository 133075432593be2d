"""Cheap client-side checks of metric points, so one bad key cannot spoil a background batch.

The store validates again; these checks only catch, at call time, what would otherwise fail a
whole batch of queued points later.
"""

from __future__ import annotations

import math
import numbers
import posixpath
import re

from mltrail.errors import InvalidArgumentError

__all__ = ["MAX_KEY_LENGTH", "check_metric_key", "metric_value"]

MAX_KEY_LENGTH = 250
_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_valid_keys: set[str] = set()
_MAX_CACHED_KEYS = 100_000


def check_metric_key(key: str) -> str:
    """Return ``key`` if it is a valid metric key (spec REST-TRACKING §0.7), else raise.

    Raises:
        InvalidArgumentError: empty, too long, bad characters, or a path that normalises differently.
    """
    if key in _valid_keys:
        return key
    if not isinstance(key, str) or not key:
        raise InvalidArgumentError(f"Invalid metric key {key!r}: a non-empty string is required")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgumentError(
            f"Invalid metric key {key[:40]!r}...: longer than {MAX_KEY_LENGTH} characters"
        )
    if not _KEY_RE.match(key):
        raise InvalidArgumentError(
            f"Invalid metric key {key!r}: only alphanumerics, '_', '-', '.', ' ', ':' and '/' are allowed"
        )
    normalised = posixpath.normpath(key)
    if normalised != key or normalised == "." or normalised.startswith(("..", "/")):
        raise InvalidArgumentError(
            f"Invalid metric key {key!r}: it must not be an unnormalised or absolute path"
        )
    if len(_valid_keys) < _MAX_CACHED_KEYS:
        _valid_keys.add(key)
    return key


def metric_value(value: object) -> float:
    """``value`` as a float; NaN and ±inf pass, booleans and non-numbers are rejected.

    Raises:
        InvalidArgumentError: the value is not a real number.
    """
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy scalars are numbers.Real; anything else (str, None, bool) is a caller error.
        raise InvalidArgumentError(f"Invalid metric value {value!r}: a number is required")
    result = float(value)
    if math.isnan(result):
        return math.nan
    return result
