"""Tracking store contract: the web UI's reads (series, run counts, run groups, column keys).

Every backend must give exactly what the contract-level defaults of
:mod:`mltrail.tracking.ui_views` compute from ``get_metric_history`` and ``search_runs``; SQL
stores compute them in the database, so these tests compare both on the same data.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking import ui_views
from mltrail.tracking.downsample import XAxis
from mltrail.tracking.entities import Metric, Param, RunStatus, ViewType
from mltrail.tracking.store.base import TrackingStore
from mltrail.tracking.ui_views import MAX_DOUBLE, MetricAggregate, MetricSeries
from tests.contract._helpers import new_experiment, new_run


def _log(store: TrackingStore, run_id: str, points: list[Metric]) -> None:
    for start in range(0, len(points), 1000):
        store.log_batch(run_id, metrics=points[start : start + 1000])


def _noisy_run(store: TrackingStore, exp_id: str, seed: int, n: int = 1500) -> str:
    """A run whose ``loss`` has ties, repeated steps, NaN, ±inf and out-of-order time."""
    rng = random.Random(seed)
    run_id = new_run(store, exp_id).info.run_id
    points = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.02:
            value = math.nan
        elif kind < 0.03:
            value = rng.choice([math.inf, -math.inf])
        elif kind < 0.3:
            value = float(rng.randint(0, 3))
        else:
            value = rng.gauss(0, 1)
        points.append(Metric("loss", value, 10_000 + rng.randint(0, 4000), rng.randint(-20, 900)))
    _log(store, run_id, points)
    return run_id


def _shape(series: list[MetricSeries]) -> list[tuple[Any, ...]]:
    return [
        (
            s.run_id,
            s.metric_key,
            s.total_points,
            s.downsampled,
            [(p.step, p.timestamp, "nan" if math.isnan(p.value) else p.value) for p in s.points],
        )
        for s in series
    ]


@pytest.mark.parametrize("x_axis", ["step", "timestamp"])
def test_series_equal_the_reference_computation(tracking_store: TrackingStore, x_axis: XAxis) -> None:
    exp_id = new_experiment(tracking_store)
    runs = [_noisy_run(tracking_store, exp_id, seed) for seed in (1, 2)]
    cases: list[tuple[int, int | None, int | None]] = [
        (10, None, None),
        (11, None, None),
        (101, None, None),
        (1000, None, None),
        (2000, None, None),
        (10, 100, 400) if x_axis == "step" else (10, 11_000, 12_500),
        (50, 0, 0) if x_axis == "step" else (50, 12_000, 12_000),
        (10, 500, 100),
    ]
    for max_points, x_min, x_max in cases:
        got = tracking_store.get_metric_series(runs, ["loss", "absent"], max_points, x_axis, x_min, x_max)
        want = ui_views.metric_series_from_history(
            tracking_store, runs, ["loss", "absent"], max_points, x_axis, x_min, x_max
        )
        assert _shape(got) == _shape(want), (max_points, x_min, x_max)
        for s in got:
            assert len(s.points) <= max_points


def test_series_keep_every_bucket_extreme(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run_id = new_run(tracking_store, exp_id).info.run_id
    values = [math.sin(i / 50) for i in range(3000)]
    values[1234] = 50.0
    values[2345] = -50.0
    values[99] = math.nan
    _log(tracking_store, run_id, [Metric("m", v, 1000 + i, i) for i, v in enumerate(values)])
    [series] = tracking_store.get_metric_series([run_id], ["m"], max_points=100)
    assert series.total_points == 3000 and series.downsampled
    assert len(series.points) <= 100
    steps = [p.step for p in series.points]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 2999
    assert 1234 in steps and 2345 in steps and 99 in steps
    by_step = {p.step: p.value for p in series.points}
    assert by_step[1234] == 50.0 and by_step[2345] == -50.0 and math.isnan(by_step[99])
    width = math.ceil(3000 / 49)
    for start in range(0, 3000, width):
        chunk = [v for v in values[start : start + width] if not math.isnan(v)]
        kept = [p.value for p in series.points if start <= p.step < start + width and not math.isnan(p.value)]
        assert min(chunk) in kept and max(chunk) in kept


def test_short_series_come_back_whole(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run_id = new_run(tracking_store, exp_id).info.run_id
    points = [Metric("acc", 0.5, 100, 2), Metric("acc", math.nan, 90, 1), Metric("acc", math.inf, 80, 3)]
    _log(tracking_store, run_id, points)
    [series] = tracking_store.get_metric_series([run_id], ["acc"])
    assert series.total_points == 3 and not series.downsampled
    assert [p.step for p in series.points] == [1, 2, 3]
    assert math.isnan(series.points[0].value)
    # Stores keep a logged infinity as the largest double.
    assert series.points[2].value == MAX_DOUBLE
    [by_time] = tracking_store.get_metric_series([run_id], ["acc"], x_axis="timestamp")
    assert [p.timestamp for p in by_time.points] == [80, 90, 100]
    [ranged] = tracking_store.get_metric_series([run_id], ["acc"], x_min=2, x_max=3)
    assert [p.step for p in ranged.points] == [2, 3] and ranged.total_points == 2


def test_series_order_and_missing_keys(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    a = new_run(tracking_store, exp_id).info.run_id
    b = new_run(tracking_store, exp_id).info.run_id
    tracking_store.log_batch(b, metrics=[Metric("x", 1.0, 1, 0)])
    got = tracking_store.get_metric_series([b, a, b], ["x", "y", "x"])
    assert [(s.run_id, s.metric_key, s.total_points) for s in got] == [
        (b, "x", 1),
        (b, "y", 0),
        (a, "x", 0),
        (a, "y", 0),
    ]


def test_series_errors(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run_id = new_run(tracking_store, exp_id).info.run_id
    with pytest.raises(NotFoundError):
        tracking_store.get_metric_series([run_id, "f" * 32], ["x"])
    with pytest.raises(InvalidArgumentError, match="max_points"):
        tracking_store.get_metric_series([run_id], ["x"], max_points=9)
    with pytest.raises(InvalidArgumentError, match="max_points"):
        tracking_store.get_metric_series([run_id], ["x"], max_points=10001)
    with pytest.raises(InvalidArgumentError, match="x_axis"):
        tracking_store.get_metric_series([run_id], ["x"], x_axis="wall")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="100 run_id"):
        tracking_store.get_metric_series([f"{i:032x}" for i in range(101)], ["x"])
    with pytest.raises(InvalidArgumentError, match="50 metric_key"):
        tracking_store.get_metric_series([run_id], [f"k{i}" for i in range(51)])


def _populate(store: TrackingStore) -> tuple[str, dict[str, str]]:
    exp_id = new_experiment(store)
    specs: list[tuple[str, dict[str, float], dict[str, str]]] = [
        ("a", {"loss": 0.5, "acc": 0.9}, {"lr": "0.1", "opt": "adam"}),
        ("b", {"loss": 0.25, "acc": math.nan}, {"lr": "0.1", "opt": "sgd"}),
        ("c", {"loss": 1.0}, {"lr": "0.01", "opt": "adam"}),
        ("d", {"loss": math.inf}, {"lr": "0.001"}),
        ("e", {"acc": 0.1}, {}),
        ("f", {"loss": 2.0}, {"lr": "0.01"}),
    ]
    ids = {}
    for name, metrics, params in specs:
        run_id = new_run(store, exp_id, name=name).info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric(k, v, 5, 1) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        ids[name] = run_id
    store.update_run_info(ids["a"], status=RunStatus.FINISHED, end_time=10)
    store.delete_run(ids["f"])
    return exp_id, ids


def test_count_runs_matches_search(tracking_store: TrackingStore) -> None:
    exp_id, _ = _populate(tracking_store)
    other = new_experiment(tracking_store)
    new_run(tracking_store, other)
    for filter_string in ("", "metrics.loss > 0.3", "params.lr = '0.1'", "attributes.status = 'FINISHED'"):
        for view in ViewType:
            want = len(tracking_store.search_runs([exp_id], filter_string, view).items)
            assert tracking_store.count_runs([exp_id], filter_string, view) == want, (filter_string, view)
    assert tracking_store.count_runs([exp_id, other]) == 6
    assert tracking_store.count_runs([]) == 0


def test_count_and_group_reject_bad_filters_like_search(tracking_store: TrackingStore) -> None:
    exp_id, _ = _populate(tracking_store)
    with pytest.raises(InvalidArgumentError) as searched:
        tracking_store.search_runs([exp_id], "metrics.loss >> 1")
    with pytest.raises(InvalidArgumentError) as counted:
        tracking_store.count_runs([exp_id], "metrics.loss >> 1")
    with pytest.raises(InvalidArgumentError) as grouped:
        tracking_store.group_runs([exp_id], "params.lr", filter_string="metrics.loss >> 1")
    assert str(counted.value) == str(searched.value) == str(grouped.value)


def _expected_groups(store: TrackingStore, exp_id: str, group_by: str, keys: list[str], **kw: Any) -> Any:
    """The groups computed in plain Python from ``search_runs``."""
    runs = store.search_runs([exp_id], max_results=1000, **kw).items
    kind, _, key = group_by.partition(".")
    values: dict[str | None, list[Any]] = {}
    for run in runs:
        if kind == "params":
            v = run.data.params.get(key)
        elif kind == "tags":
            v = run.data.tags.get(key)
        else:
            v = str(getattr(run.info, key))
        values.setdefault(v, []).append(run)
    out = []
    for v in sorted(values, key=lambda x: (x is None, x or "")):
        metrics = {}
        for k in keys:
            latest = [m.value for r in values[v] for m in r.data.latest_metrics if m.key == k]
            latest = [x for x in latest if not math.isnan(x)]
            metrics[k] = latest
        out.append((v, len(values[v]), metrics))
    return out


def _check_aggregate(agg: MetricAggregate, values: list[float]) -> None:
    assert agg.count == len(values)
    if not values:
        assert agg.mean is None and agg.min is None and agg.max is None
        return
    assert agg.min == min(values) and agg.max == max(values)
    finite = [v for v in values if abs(v) < MAX_DOUBLE]
    if len(finite) == len(values):
        assert agg.mean == pytest.approx(sum(values) / len(values))
    else:
        assert agg.mean == math.inf


@pytest.mark.parametrize(
    ("group_by", "kw"),
    [
        ("params.lr", {}),
        ("params.opt", {"filter_string": "metrics.loss < 1.5"}),
        ("attributes.status", {}),
        ("tags.mlflow.runName", {}),
        ("params.lr", {"run_view_type": ViewType.ALL}),
    ],
)
def test_group_runs_match_a_python_computation(
    tracking_store: TrackingStore, group_by: str, kw: dict[str, Any]
) -> None:
    exp_id, _ = _populate(tracking_store)
    result = tracking_store.group_runs([exp_id], group_by, ["loss", "acc", "absent"], **kw)
    expected = _expected_groups(tracking_store, exp_id, group_by, ["loss", "acc", "absent"], **kw)
    assert [(g.value, g.run_count) for g in result.groups] == [(v, n) for v, n, _ in expected]
    assert result.total_runs == sum(n for _, n, _ in expected)
    assert not result.truncated
    for group, (_, _, metrics) in zip(result.groups, expected, strict=True):
        assert set(group.metrics) == {"loss", "acc", "absent"}
        for key, values in metrics.items():
            _check_aggregate(group.metrics[key], values)


def test_group_runs_values_and_order(tracking_store: TrackingStore) -> None:
    exp_id, _ = _populate(tracking_store)
    result = tracking_store.group_runs([exp_id], "params.lr", ["loss"])
    assert [(g.value, g.run_count) for g in result.groups] == [
        ("0.001", 1),
        ("0.01", 1),
        ("0.1", 2),
        (None, 1),
    ]
    lr01 = result.groups[2].metrics["loss"]
    assert (lr01.count, lr01.mean, lr01.min, lr01.max) == (2, 0.375, 0.25, 0.5)
    # A logged infinity makes the group's mean infinite; min and max keep the stored value.
    inf = result.groups[0].metrics["loss"]
    assert inf.count == 1 and inf.mean == math.inf and inf.max == MAX_DOUBLE
    assert result.total_runs == 5
    by_status = tracking_store.group_runs([exp_id], "attributes.status")
    assert [(g.value, g.run_count) for g in by_status.groups] == [("FINISHED", 1), ("RUNNING", 4)]
    by_experiment = tracking_store.group_runs([exp_id], "attributes.experiment_id")
    assert [(g.value, g.run_count) for g in by_experiment.groups] == [(exp_id, 5)]
    assert tracking_store.group_runs([], "params.lr").groups == []


def test_group_runs_rejects_bad_keys(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    for bad in ("lr", "metrics.loss", "attributes.password", "params."):
        with pytest.raises(InvalidArgumentError, match="group_by"):
            tracking_store.group_runs([exp_id], bad)
    with pytest.raises(InvalidArgumentError, match="100 metric_keys"):
        tracking_store.group_runs([exp_id], "params.lr", [f"m{i}" for i in range(101)])


def test_experiment_columns(tracking_store: TrackingStore) -> None:
    exp_id, _ = _populate(tracking_store)
    other = new_experiment(tracking_store)
    run = new_run(tracking_store, other).info.run_id
    tracking_store.log_batch(run, metrics=[Metric("other_metric", 1.0, 1, 0)], params=[Param("other_p", "1")])
    columns = tracking_store.get_experiment_columns([exp_id])
    assert columns.params == ["lr", "opt"]
    assert columns.metrics == ["acc", "loss"]
    assert columns.tags == ["mlflow.runName"]
    both = tracking_store.get_experiment_columns([exp_id, other])
    assert both.params == ["lr", "opt", "other_p"]
    assert both.metrics == ["acc", "loss", "other_metric"]
    # Deleted runs do not count.
    tracking_store.delete_run(run)
    assert tracking_store.get_experiment_columns([other]).params == []
    assert tracking_store.get_experiment_columns([]).params == []


def test_series_follow_points_logged_after_a_read(tracking_store: TrackingStore) -> None:
    # A reduced series may be remembered between reads; a point added later must still show.
    exp_id = new_experiment(tracking_store)
    run_id = _noisy_run(tracking_store, exp_id, seed=7)
    before = tracking_store.get_metric_series([run_id], ["loss"], 100)[0]
    assert before.downsampled
    assert _shape(tracking_store.get_metric_series([run_id], ["loss"], 100)) == _shape([before])
    tracking_store.log_batch(run_id, metrics=[Metric("loss", 1e6, 12_000, 750)])
    after = tracking_store.get_metric_series([run_id], ["loss"], 100)[0]
    assert after.total_points == before.total_points + 1
    assert 1e6 in {p.value for p in after.points}
    assert _shape([after]) != _shape([before])
