"""Min/max-preserving downsampling of a metric's history for charts.

A series longer than ``max_points`` is cut into equal-width buckets along its x axis (step or
timestamp). Every bucket contributes the point holding its smallest value and the point holding
its largest value (one point when they coincide), plus its first NaN point if it has one, so
spikes and NaN gaps stay visible at any zoom level. The series' first and last points are always
kept, so a line spans the whole range. Ties go to the earliest point (by x, then the other
coordinate).

The bucket of a point is ``(x - lo) // width`` with the integer ``width = ceil((hi - lo + 1) /
buckets)``: exact integer arithmetic, so SQL stores evaluate the very same expression in the
database and hand the per-bucket extremes to :func:`select_points`, and every store returns the
same points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "MAX_POINTS_RANGE",
    "Bucket",
    "OrderKey",
    "SeriesPoint",
    "XAxis",
    "aggregate",
    "bucket_count",
    "bucket_of",
    "bucket_width",
    "coarsen",
    "downsample",
    "order_key",
    "select_points",
]

XAxis = Literal["step", "timestamp"]

MAX_POINTS_RANGE = (10, 10000)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point of a series; ``value`` may be NaN or ±inf."""

    step: int
    timestamp: int
    value: float

    @property
    def is_nan(self) -> bool:
        """Whether the value is NaN."""
        return math.isnan(self.value)


OrderKey = tuple[int, int, float, bool]


def order_key(point: SeriesPoint, x_axis: XAxis) -> OrderKey:
    """The x order of points: x, the other coordinate, then the value as SQL stores hold it
    (NaN as 0 with a flag), so every store breaks ties the same way."""
    nan = math.isnan(point.value)
    value = 0.0 if nan else point.value
    if x_axis == "step":
        return (point.step, point.timestamp, value, nan)
    return (point.timestamp, point.step, value, nan)


def _x(point: SeriesPoint, x_axis: XAxis) -> int:
    return point.step if x_axis == "step" else point.timestamp


@dataclass(frozen=True, slots=True)
class Bucket:
    """The extremes of one bucket: its lowest and highest non-NaN points and its first NaN point.

    ``low`` and ``high`` are None only when every point of the bucket is NaN.
    """

    index: int
    low: SeriesPoint | None
    high: SeriesPoint | None
    nan: SeriesPoint | None


def bucket_count(max_points: int) -> int:
    """How many buckets fit ``max_points``: two points each, plus the first and last points."""
    return max(1, (max_points - 2) // 2)


def bucket_width(lo: int, hi: int, buckets: int) -> int:
    """The x width of each of at most ``buckets`` buckets covering ``lo..hi`` (inclusive)."""
    return max(1, -(-(hi - lo + 1) // buckets))


def bucket_of(x: int, lo: int, width: int) -> int:
    """The bucket of ``x``: ``(x - lo) // width``, the expression SQL stores evaluate."""
    return (x - lo) // width


def _lower(a: SeriesPoint, b: SeriesPoint, x_axis: XAxis) -> SeriesPoint:
    """The point with the smaller value; on a tie the earlier one."""
    if a.value != b.value:
        return a if a.value < b.value else b
    return a if order_key(a, x_axis) <= order_key(b, x_axis) else b


def _higher(a: SeriesPoint, b: SeriesPoint, x_axis: XAxis) -> SeriesPoint:
    """The point with the larger value; on a tie the earlier one."""
    if a.value != b.value:
        return a if a.value > b.value else b
    return a if order_key(a, x_axis) <= order_key(b, x_axis) else b


def _earlier(a: SeriesPoint | None, b: SeriesPoint | None, x_axis: XAxis) -> SeriesPoint | None:
    if a is None or b is None:
        return a if b is None else b
    return a if order_key(a, x_axis) <= order_key(b, x_axis) else b


def _merge(a: Bucket, b: Bucket, index: int, x_axis: XAxis) -> Bucket:
    def pick(p: SeriesPoint | None, q: SeriesPoint | None, higher: bool) -> SeriesPoint | None:
        if p is None or q is None:
            return p if q is None else q
        return _higher(p, q, x_axis) if higher else _lower(p, q, x_axis)

    return Bucket(
        index, pick(a.low, b.low, False), pick(a.high, b.high, True), _earlier(a.nan, b.nan, x_axis)
    )


def aggregate(points: Iterable[SeriesPoint], x_axis: XAxis, lo: int, width: int) -> list[Bucket]:
    """The non-empty buckets of ``points`` (none before ``lo``), ordered by index."""
    found: dict[int, Bucket] = {}
    for p in points:
        index = bucket_of(_x(p, x_axis), lo, width)
        single = Bucket(index, None, None, p) if p.is_nan else Bucket(index, p, p, None)
        current = found.get(index)
        found[index] = single if current is None else _merge(current, single, index, x_axis)
    return [found[i] for i in sorted(found)]


def coarsen(buckets: Sequence[Bucket], x_axis: XAxis) -> list[Bucket]:
    """Merge buckets pairwise (``index // 2``): half as many buckets of twice the width."""
    merged: dict[int, Bucket] = {}
    for b in buckets:
        index = b.index // 2
        current = merged.get(index)
        moved = Bucket(index, b.low, b.high, b.nan)
        merged[index] = moved if current is None else _merge(current, moved, index, x_axis)
    return [merged[i] for i in sorted(merged)]


def _emit(buckets: Sequence[Bucket], ends: Sequence[SeriesPoint], x_axis: XAxis) -> list[SeriesPoint]:
    chosen: dict[OrderKey, SeriesPoint] = {}
    for b in buckets:
        for p in (b.low, b.high, b.nan):
            if p is not None:
                chosen[order_key(p, x_axis)] = p
    for p in ends:
        chosen[order_key(p, x_axis)] = p
    return [chosen[k] for k in sorted(chosen)]


def select_points(
    buckets: Sequence[Bucket], ends: Sequence[SeriesPoint], max_points: int, x_axis: XAxis
) -> list[SeriesPoint]:
    """The downsampled series: every bucket's extremes and the ``ends``, x-ordered, deduplicated.

    NaN points can push the count over ``max_points``; the buckets are then merged pairwise
    until the series fits (the extremes of merged buckets are still kept exactly).
    """
    current = list(buckets)
    points = _emit(current, ends, x_axis)
    while len(points) > max_points and len(current) > 1:
        current = coarsen(current, x_axis)
        points = _emit(current, ends, x_axis)
    return points


def downsample(
    points: Sequence[SeriesPoint], max_points: int, x_axis: XAxis
) -> tuple[list[SeriesPoint], bool]:
    """Downsample an in-memory series.

    Args:
        points: The series (any order).
        max_points: The most points to return (at least 4).
        x_axis: The axis buckets are cut along.

    Returns:
        The x-ordered points, and whether they were downsampled (False: all of them).
    """
    ordered = sorted(points, key=lambda p: order_key(p, x_axis))
    if len(ordered) <= max_points:
        return ordered, False
    lo, hi = _x(ordered[0], x_axis), _x(ordered[-1], x_axis)
    buckets = aggregate(ordered, x_axis, lo, bucket_width(lo, hi, bucket_count(max_points)))
    return select_points(buckets, (ordered[0], ordered[-1]), max_points, x_axis), True
