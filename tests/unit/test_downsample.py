"""The pure min/max-preserving bucketing of metric series (``mltrail.tracking.downsample``)."""

from __future__ import annotations

import math
import random

import pytest

from mltrail.tracking.downsample import (
    SeriesPoint,
    aggregate,
    bucket_count,
    bucket_of,
    bucket_width,
    coarsen,
    downsample,
    order_key,
    select_points,
)


def _series(values: list[float], start: int = 0) -> list[SeriesPoint]:
    return [SeriesPoint(start + i, 1000 + 10 * i, v) for i, v in enumerate(values)]


def test_short_series_come_back_whole_and_ordered() -> None:
    points = _series([3.0, 1.0, 2.0])
    shuffled = [points[2], points[0], points[1]]
    out, downsampled = downsample(shuffled, 10, "step")
    assert out == points
    assert downsampled is False


def test_exactly_max_points_is_not_downsampled() -> None:
    points = _series([float(i) for i in range(10)])
    out, downsampled = downsample(points, 10, "step")
    assert out == points and not downsampled


def test_bucket_arithmetic_is_integer_floor_division() -> None:
    assert bucket_count(10) == 4
    assert bucket_count(1000) == 499
    # 0..99 (100 values) in at most 4 buckets: width 25.
    assert bucket_width(0, 99, 4) == 25
    assert [bucket_of(x, 0, 25) for x in (0, 24, 25, 99)] == [0, 0, 1, 3]
    # A width never drops below 1, and negative x work relative to lo.
    assert bucket_width(5, 5, 10) == 1
    assert bucket_of(-3, -10, 4) == 1
    # Huge spans stay exact (no floating point).
    lo, hi = -(2**62), 2**62
    width = bucket_width(lo, hi, 499)
    assert bucket_of(hi, lo, width) == 498


def test_every_bucket_keeps_its_min_and_max() -> None:
    rng = random.Random(7)
    values = [rng.gauss(0, 1) for _ in range(5000)]
    points = _series(values)
    out, downsampled = downsample(points, 100, "step")
    assert downsampled and len(out) <= 100
    width = bucket_width(0, 4999, bucket_count(100))
    kept = set(out)
    for b in range(0, 5000, width):
        chunk = points[b : b + width]
        assert min(chunk, key=lambda p: p.value) in kept
        assert max(chunk, key=lambda p: p.value) in kept
    # The ends are always there and the output is x-ordered.
    assert out[0] == points[0] and out[-1] == points[-1]
    assert out == sorted(out, key=lambda p: order_key(p, "step"))


def test_a_spike_survives_any_budget() -> None:
    values = [0.0] * 100_000
    values[54_321] = 1e9
    values[77_777] = -1e9
    out, _ = downsample(_series(values), 10, "step")
    assert SeriesPoint(54_321, 1000 + 543_210, 1e9) in out
    assert SeriesPoint(77_777, 1000 + 777_770, -1e9) in out
    assert len(out) <= 10


def test_ties_go_to_the_earliest_point() -> None:
    points = _series([5.0] * 40)
    out, downsampled = downsample(points, 10, "step")
    assert downsampled
    # 4 buckets of width 10; a flat bucket contributes one point: its first.
    assert [p.step for p in out] == [0, 10, 20, 30, 39]


def test_nan_points_stay_visible_and_do_not_count_as_extremes() -> None:
    values = [float(i % 5) for i in range(200)]
    values[7] = math.nan
    values[150] = math.nan
    out, _ = downsample(_series(values), 20, "step")
    nan_steps = [p.step for p in out if p.is_nan]
    assert nan_steps == [7, 150]
    finite = [p.value for p in out if not p.is_nan]
    assert min(finite) == 0.0 and max(finite) == 4.0
    assert len(out) <= 20


def test_nan_overflow_coarsens_buckets_but_keeps_extremes() -> None:
    # Every other point is NaN: three candidates per bucket do not fit two per bucket.
    values = [math.nan if i % 2 else float(i) for i in range(1000)]
    out, _ = downsample(_series(values), 10, "step")
    assert len(out) <= 10
    assert out[0].step == 0 and out[-1].step == 999
    assert any(p.is_nan for p in out)
    assert max(p.value for p in out if not p.is_nan) == 998.0


def test_all_nan_bucket_contributes_its_first_nan() -> None:
    buckets = aggregate(_series([math.nan, math.nan, 1.0, 2.0]), "step", 0, 2)
    first = buckets[0]
    assert first.index == 0 and first.low is None and first.high is None
    assert first.nan is not None and first.nan.step == 0 and first.nan.is_nan
    assert buckets[1].low == SeriesPoint(2, 1020, 1.0)
    assert buckets[1].high == SeriesPoint(3, 1030, 2.0)


def test_timestamp_axis_buckets_by_time_and_orders_by_time() -> None:
    # Steps go backwards while time goes forwards: the order follows the chosen axis.
    points = [SeriesPoint(100 - i, 5000 + i, float(i % 3)) for i in range(50)]
    out, downsampled = downsample(points, 10, "timestamp")
    assert downsampled
    assert [p.timestamp for p in out] == sorted(p.timestamp for p in out)
    assert out[0].timestamp == 5000 and out[-1].timestamp == 5049
    by_step, _ = downsample(points, 10, "step")
    assert [p.step for p in by_step] == sorted(p.step for p in by_step)


def test_coarsen_merges_pairs_and_keeps_extremes() -> None:
    points = _series([1.0, 9.0, -4.0, 2.0, 7.0, 0.5, 3.0, 3.0])
    buckets = aggregate(points, "step", 0, 1)
    merged = coarsen(buckets, "step")
    assert [b.index for b in merged] == [0, 1, 2, 3]
    assert merged[0].low == points[0] and merged[0].high == points[1]
    assert merged[1].low == points[2] and merged[1].high == points[3]
    twice = coarsen(merged, "step")
    assert twice[0].low == points[2] and twice[0].high == points[1]


def test_select_points_respects_max_points() -> None:
    points = _series([math.nan if i % 3 == 0 else float(i) for i in range(300)])
    buckets = aggregate(points, "step", 0, bucket_width(0, 299, bucket_count(12)))
    out = select_points(buckets, (points[0], points[-1]), 12, "step")
    assert len(out) <= 12
    assert out[0].step == 0 and out[0].is_nan and out[-1] == points[-1]


@pytest.mark.parametrize("max_points", [10, 11, 57, 1000])
def test_random_series_fit_their_budget(max_points: int) -> None:
    rng = random.Random(max_points)
    points = [
        SeriesPoint(rng.randint(-100, 100_000), rng.randint(0, 10**12), rng.choice([rng.random(), math.nan]))
        for _ in range(20_000)
    ]
    out, downsampled = downsample(points, max_points, "step")
    assert downsampled and 2 <= len(out) <= max_points
    keys = [order_key(p, "step") for p in out]
    assert keys == sorted(set(keys))
