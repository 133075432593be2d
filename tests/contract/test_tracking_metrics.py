"""Tracking store contract: metric history, deduplication, latest values, NaN/inf, bulk sampling."""

from __future__ import annotations

import math

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import Metric
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run

MAX_DOUBLE = 1.7976931348623157e308


def _run(store: TrackingStore) -> str:
    return new_run(store, new_experiment(store)).info.run_id


def _points(page: list[Metric]) -> list[tuple[float, int, int]]:
    return [(m.value, m.timestamp, m.step) for m in page]


def test_history_order_and_dedup(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(
        run_id,
        metrics=[
            Metric("loss", 3.0, 30, 0),
            Metric("loss", 1.0, 10, 2),
            Metric("loss", 2.0, 10, 1),
            Metric("loss", 2.0, 10, 1),
            Metric("loss", 0.5, 10, 1),
        ],
    )
    tracking_store.log_metric(run_id, Metric("loss", 3.0, 30, 0))
    history = tracking_store.get_metric_history(run_id, "loss")
    assert history.next_page_token is None
    assert _points(history.items) == [(0.5, 10, 1), (2.0, 10, 1), (1.0, 10, 2), (3.0, 30, 0)]
    assert all(m.key == "loss" for m in history)
    assert tracking_store.get_metric_history(run_id, "unknown").items == []


def test_latest_value_is_greatest_step_timestamp_value(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_metric(run_id, Metric("m", 5.0, 100, 10))
    tracking_store.log_metric(run_id, Metric("m", 1.0, 200, 3))  # newer timestamp, older step
    assert tracking_store.get_run(run_id).data.metrics == {"m": 5.0}
    tracking_store.log_metric(run_id, Metric("m", 4.0, 50, 10))  # same step, older timestamp
    assert tracking_store.get_run(run_id).data.metrics == {"m": 5.0}
    tracking_store.log_metric(run_id, Metric("m", 6.0, 100, 10))  # same step and time, bigger value
    assert tracking_store.get_run(run_id).data.metrics == {"m": 6.0}
    tracking_store.log_metric(run_id, Metric("m", -1.0, 101, 10))  # same step, newer time
    latest = tracking_store.get_run(run_id).data.latest_metrics
    assert [(m.key, m.value, m.timestamp, m.step) for m in latest] == [("m", -1.0, 101, 10)]
    tracking_store.log_batch(run_id, metrics=[Metric("m", 9.0, 1, 11), Metric("m", 8.0, 1, 12)])
    assert tracking_store.get_run(run_id).data.metrics == {"m": 8.0}


def test_several_keys_in_one_batch(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(
        run_id, metrics=[Metric(k, float(i), i, i) for i in range(5) for k in ("a", "b/c", "d e")]
    )
    assert tracking_store.get_run(run_id).data.metrics == {"a": 4.0, "b/c": 4.0, "d e": 4.0}


def test_nan_and_infinity(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(
        run_id,
        metrics=[
            Metric("nan", math.nan, 1, 0),
            Metric("pinf", math.inf, 1, 0),
            Metric("ninf", -math.inf, 1, 0),
            Metric("big", 1e300, 1, 0),
            Metric("int", 3, 1, 0),
        ],
    )
    metrics = tracking_store.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["pinf"] == MAX_DOUBLE and metrics["ninf"] == -MAX_DOUBLE
    assert metrics["big"] == 1e300 and metrics["int"] == 3.0
    assert math.isnan(tracking_store.get_metric_history(run_id, "nan")[0].value)
    assert tracking_store.get_metric_history(run_id, "pinf")[0].value == MAX_DOUBLE


def test_full_double_precision(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    value = 0.1234567890123456789
    tracking_store.log_metric(run_id, Metric("p", value, 1, 0))
    assert tracking_store.get_run(run_id).data.metrics["p"] == value
    assert tracking_store.get_metric_history(run_id, "p")[0].value == value


def test_large_steps_and_timestamps(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_metric(run_id, Metric("m", 1.0, 2**62, -(2**40)))
    point = tracking_store.get_metric_history(run_id, "m")[0]
    assert (point.timestamp, point.step) == (2**62, -(2**40))


def test_history_paging(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, metrics=[Metric("m", float(i), i, i) for i in range(25)])
    values: list[float] = []
    token = None
    while True:
        page = tracking_store.get_metric_history(run_id, "m", max_results=10, page_token=token)
        assert len(page) <= 10
        values.extend(m.value for m in page)
        token = page.next_page_token
        if token is None:
            break
    assert values == [float(i) for i in range(25)]
    exact = tracking_store.get_metric_history(run_id, "m", max_results=25)
    assert len(exact) == 25 and exact.next_page_token is None
    with pytest.raises(InvalidArgumentError):
        tracking_store.get_metric_history(run_id, "m", max_results=0)
    with pytest.raises(InvalidArgumentError):
        tracking_store.get_metric_history(run_id, "m", max_results=5, page_token="%%%")


def test_history_of_unknown_run(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.get_metric_history("c" * 32, "m")


def test_bulk_interval_sampling(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    a = new_run(tracking_store, exp_id).info.run_id
    b = new_run(tracking_store, exp_id).info.run_id
    tracking_store.log_batch(a, metrics=[Metric("m", float(s), 1000 + s, s) for s in range(100)])
    tracking_store.log_batch(b, metrics=[Metric("m", float(s), 1000 + s, s) for s in range(0, 10)])
    points = tracking_store.get_metric_history_bulk_interval([a, b], "m", max_results=5)
    a_steps = [p.step for p in points if p.run_id == a]
    b_steps = [p.step for p in points if p.run_id == b]
    assert len(a_steps) == 5 and a_steps[0] == 0 and a_steps[-1] == 99
    assert a_steps == sorted(a_steps)
    assert len(b_steps) == 5 and b_steps[0] == 0 and b_steps[-1] == 9
    assert all(p.key == "m" and p.value == float(p.step) for p in points)

    everything = tracking_store.get_metric_history_bulk_interval([b], "m")
    assert [p.step for p in everything] == list(range(10))

    ranged = tracking_store.get_metric_history_bulk_interval(
        [a], "m", start_step=10, end_step=20, max_results=3
    )
    steps = [p.step for p in ranged]
    assert steps[0] == 10 and steps[-1] == 20 and len(steps) == 3


def test_bulk_interval_validation(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    bad_calls = [
        {"run_ids": []},
        {"run_ids": [run_id] * 101},
        {"run_ids": [run_id], "start_step": 1},
        {"run_ids": [run_id], "start_step": 5, "end_step": 1},
        {"run_ids": [run_id], "max_results": 0},
        {"run_ids": [run_id], "max_results": 2501},
    ]
    for kwargs in bad_calls:
        with pytest.raises(InvalidArgumentError):
            tracking_store.get_metric_history_bulk_interval(key="m", **kwargs)  # type: ignore[arg-type]
