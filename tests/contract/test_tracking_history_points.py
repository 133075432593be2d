"""Tracking store contract: ``get_metric_history_points``, the bare-tuple read of a metric history.

A store either opts out (None, e.g. the REST store) or returns exactly the pages of
``get_metric_history`` as ``(value, timestamp, step)`` tuples, with the same paging tokens.
"""

from __future__ import annotations

import math

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import Metric
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run

SQL_KINDS = ("sqlite", "postgresql", "mysql")


def _same(a: tuple[float, int, int], b: tuple[float, int, int]) -> bool:
    both_nan = math.isnan(a[0]) and math.isnan(b[0])
    return (both_nan or a[0] == b[0]) and a[1:] == b[1:]


def test_points_match_the_metric_history(tracking_store: TrackingStore, store_kind: str) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    values = [math.nan, 0.25, -1e300, math.inf, 7.0, 0.5, math.nan, -math.inf]
    tracking_store.log_batch(
        run_id, metrics=[Metric("m", v, 100 - (i % 3), i // 2) for i, v in enumerate(values)]
    )
    tracking_store.log_metric(run_id, Metric("other", 1.0, 1, 0))
    points = tracking_store.get_metric_history_points(run_id, "m")
    if points is None:
        assert store_kind not in SQL_KINDS
        return
    history = tracking_store.get_metric_history(run_id, "m")
    assert points.next_page_token is None
    expected = [(m.value, m.timestamp, m.step) for m in history.items]
    assert len(points.items) == len(expected) == len(values)
    assert all(_same(p, e) for p, e in zip(points.items, expected, strict=True))
    assert sum(math.isnan(p[0]) for p in points.items) == 2
    assert all(type(p[1]) is int and type(p[2]) is int and type(p[0]) is float for p in points.items)

    seen: list[tuple[float, int, int]] = []
    token: str | None = None
    while True:
        page = tracking_store.get_metric_history_points(run_id, "m", max_results=3, page_token=token)
        entity_page = tracking_store.get_metric_history(run_id, "m", max_results=3, page_token=token)
        assert page is not None
        assert page.next_page_token == entity_page.next_page_token
        assert len(page.items) <= 3
        seen.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    assert all(_same(p, e) for p, e in zip(seen, expected, strict=True)) and len(seen) == len(expected)

    empty = tracking_store.get_metric_history_points(run_id, "missing")
    assert empty is not None and empty.items == [] and empty.next_page_token is None


def test_points_errors(tracking_store: TrackingStore, store_kind: str) -> None:
    if store_kind not in SQL_KINDS:
        assert tracking_store.get_metric_history_points("0" * 32, "m") is None
        return
    with pytest.raises(NotFoundError):
        tracking_store.get_metric_history_points("0" * 32, "m")
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    with pytest.raises(InvalidArgumentError):
        tracking_store.get_metric_history_points(run_id, "m", max_results=0)
    with pytest.raises(InvalidArgumentError):
        tracking_store.get_metric_history_points(run_id, "m", page_token="not-a-token")
