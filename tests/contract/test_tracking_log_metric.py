"""Tracking store contract: ``log_metric`` keeps every rule of ``log_batch`` for its one point.

SQL stores write a single point in fewer statements than a batch (one on PostgreSQL); these
tests pin that the shortcut stores, rejects and updates exactly as a batch of one would.
"""

from __future__ import annotations

import math

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import Metric
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run


def _run(store: TrackingStore) -> str:
    return new_run(store, new_experiment(store)).info.run_id


def test_unknown_and_deleted_runs_are_rejected(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError, match="Run with id=0123 not found"):
        tracking_store.log_metric("0123", Metric("m", 1.0, 1, 0))
    run_id = _run(tracking_store)
    tracking_store.delete_run(run_id)
    with pytest.raises(InvalidArgumentError, match="must be in the 'active' state"):
        tracking_store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    tracking_store.restore_run(run_id)
    assert tracking_store.get_metric_history(run_id, "m").items == []
    tracking_store.log_metric(run_id, Metric("m", 1.0, 1, 0))
    assert [m.value for m in tracking_store.get_metric_history(run_id, "m")] == [1.0]


def test_single_points_update_history_and_latest_like_a_batch(tracking_store: TrackingStore) -> None:
    one, batch = _run(tracking_store), _run(tracking_store)
    points = [
        Metric("m", 2.0, 10, 1),
        Metric("m", math.nan, 10, 2),
        Metric("m", 2.0, 10, 1),  # an exact duplicate is skipped
        Metric("m", 5.0, 5, 2),  # same step, older timestamp: not the latest
        Metric("m", math.inf, 20, 0),
        Metric("n", -0.5, 1, -3),
    ]
    for point in points:
        tracking_store.log_metric(one, point)
        tracking_store.log_batch(batch, metrics=[point])

    def history(run_id: str, key: str) -> list[tuple[str, int, int]]:
        return [(repr(m.value), m.timestamp, m.step) for m in tracking_store.get_metric_history(run_id, key)]

    assert history(one, "m") == history(batch, "m")
    assert len(history(one, "m")) == 4
    latest_one = tracking_store.get_run(one).data.latest_metrics
    latest_batch = tracking_store.get_run(batch).data.latest_metrics
    shape = [(m.key, repr(m.value), m.timestamp, m.step) for m in latest_one]
    assert shape == [(m.key, repr(m.value), m.timestamp, m.step) for m in latest_batch]
    assert shape == [("m", "nan", 10, 2), ("n", "-0.5", 1, -3)]


def test_invalid_points_are_rejected_before_anything_is_stored(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    with pytest.raises(InvalidArgumentError):
        tracking_store.log_metric(run_id, Metric("bad/../key", 1.0, 1, 0))
    with pytest.raises(InvalidArgumentError):
        tracking_store.log_metric(run_id, Metric("m", 1.0, -1, 0))
    assert tracking_store.get_run(run_id).data.metrics == {}
