"""Tracking store contract: SearchRuns filters, ordering, view types and paging."""

from __future__ import annotations

import math

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import Metric, Param, RunStatus, RunTag, ViewType
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run


def _populate(store: TrackingStore) -> tuple[str, dict[str, str]]:
    """Three runs with distinct metrics, params, tags and attributes; returns ids by name."""
    exp_id = new_experiment(store)
    ids: dict[str, str] = {}
    specs = [
        ("alpha", 100, {"acc": 0.9, "loss": 0.1}, {"model": "cnn", "lr": "0.1"}, {"team": "Vision"}),
        ("beta", 200, {"acc": 0.5, "loss": 0.4}, {"model": "rnn", "lr": "0.01"}, {"team": "nlp"}),
        ("gamma", 300, {"acc": 0.7}, {"model": "CNN-large"}, {}),
    ]
    for name, start, metrics, params, tags in specs:
        run = new_run(store, exp_id, start_time=start, name=name, tags=tags)
        store.log_batch(
            run.info.run_id,
            metrics=[Metric(k, v, 1, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
        )
        ids[name] = run.info.run_id
    store.update_run_info(ids["beta"], status=RunStatus.FINISHED, end_time=250)
    return exp_id, ids


def _names(store: TrackingStore, exp_id: str, filter_string: str = "", **kwargs: object) -> list[str]:
    page = store.search_runs([exp_id], filter_string, **kwargs)  # type: ignore[arg-type]
    return [r.info.run_name for r in page]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("", {"alpha", "beta", "gamma"}),
        ("metrics.acc > 0.6", {"alpha", "gamma"}),
        ("metrics.acc >= 0.7", {"alpha", "gamma"}),
        ("metrics.acc < 0.7", {"beta"}),
        ("metrics.acc <= 0.7", {"beta", "gamma"}),
        ("metrics.acc = 0.5", {"beta"}),
        ("metrics.acc != 0.5", {"alpha", "gamma"}),
        ("metrics.loss > 0", {"alpha", "beta"}),
        ("metric.loss != 0.1", {"beta"}),
        ("params.model = 'cnn'", {"alpha"}),
        ("params.model != 'cnn'", {"beta", "gamma"}),
        ("params.model LIKE 'cnn%'", {"alpha"}),
        ("params.model ILIKE 'cnn%'", {"alpha", "gamma"}),
        ('param.lr = "0.01"', {"beta"}),
        ("params.lr IS NULL", {"gamma"}),
        ("params.lr IS NOT NULL", {"alpha", "beta"}),
        ("parameters.`model` = 'rnn'", {"beta"}),
        ("tags.team = 'nlp'", {"beta"}),
        ("tags.team != 'nlp'", {"alpha"}),
        ("tags.team LIKE 'V%'", {"alpha"}),
        ("tags.team LIKE 'v%'", set()),
        ("tags.team ILIKE 'v%'", {"alpha"}),
        ("tags.team IS NULL", {"gamma"}),
        ("tags.\"mlflow.runName\" = 'gamma'", {"gamma"}),
        ("tag.`mlflow.runName` ILIKE '%A'", {"alpha", "beta", "gamma"}),
        ("attributes.run_name = 'alpha'", {"alpha"}),
        ("run_name != 'alpha'", {"beta", "gamma"}),
        ("attributes.run_name LIKE '%mm%'", {"gamma"}),
        ("attr.run_name ILIKE 'BETA'", {"beta"}),
        ("attributes.`Run name` = 'beta'", {"beta"}),
        ("attributes.status = 'FINISHED'", {"beta"}),
        ("status != 'FINISHED'", {"alpha", "gamma"}),
        ("attributes.user_id = 'alice'", {"alpha", "beta", "gamma"}),
        ("attributes.start_time > 150", {"beta", "gamma"}),
        ("attributes.start_time >= 300", {"gamma"}),
        ("start_time < 200", {"alpha"}),
        ("start_time <= 200", {"alpha", "beta"}),
        ("start_time = 100", {"alpha"}),
        ("start_time != 100", {"beta", "gamma"}),
        ("attributes.created > 250", {"gamma"}),
        ("attributes.end_time = 250", {"beta"}),
        ("attributes.end_time > 0", {"beta"}),
        ("attributes.artifact_uri LIKE '%/artifacts'", {"alpha", "beta", "gamma"}),
        ("metrics.acc > 0.6 AND params.model = 'cnn' and tags.team = 'Vision'", {"alpha"}),
        ("metrics.acc > 0.6 AND params.model = 'rnn'", set()),
    ],
)
def test_filters(tracking_store: TrackingStore, filter_string: str, expected: set[str]) -> None:
    exp_id, _ = _populate(tracking_store)
    assert set(_names(tracking_store, exp_id, filter_string)) == expected


def test_run_id_filters(tracking_store: TrackingStore) -> None:
    exp_id, ids = _populate(tracking_store)
    assert _names(tracking_store, exp_id, f"attributes.run_id = '{ids['beta']}'") == ["beta"]
    found = set(_names(tracking_store, exp_id, f"attributes.run_id IN ('{ids['alpha']}', '{ids['gamma']}')"))
    assert found == {"alpha", "gamma"}
    assert _names(tracking_store, exp_id, f"run_id NOT IN ('{ids['alpha']}', '{ids['gamma']}')") == ["beta"]


@pytest.mark.parametrize(
    "filter_string",
    [
        "metrics.acc > 0.5 OR metrics.acc < 0.2",
        "params.model = cnn",
        "params.lr = 0.1",
        "metrics.acc = 'high'",
        "metrics.acc LIKE '%'",
        "params.model > 'a'",
        "attributes.start_time = 'x'",
        "attributes.bogus = 'x'",
        "nope.key = 'x'",
        "metrics.acc IS NULL",
        "attributes.status IS NULL",
        "dataset.bogus = 'x'",
        "metrics.acc >",
        "metrics.acc > 1 metrics.loss > 2",
        "tags.t = 'unterminated",
        "(metrics.acc > 1)",
    ],
)
def test_bad_filters(tracking_store: TrackingStore, filter_string: str) -> None:
    exp_id = new_experiment(tracking_store)
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_runs([exp_id], filter_string)


def test_or_message(tracking_store: TrackingStore) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid clause\\(s\\) in filter string: 'OR'"):
        tracking_store.search_runs(["0"], "metrics.a > 1 or metrics.b > 1")


def test_metric_filter_needs_the_metric(tracking_store: TrackingStore) -> None:
    exp_id, _ = _populate(tracking_store)
    assert set(_names(tracking_store, exp_id, "metrics.loss != 99")) == {"alpha", "beta"}


def test_nan_metric_in_filters_and_order(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    for name, value in (("one", 1.0), ("nan", math.nan), ("two", 2.0), ("none", None)):
        run_id = new_run(tracking_store, exp_id, name=name).info.run_id
        if value is not None:
            tracking_store.log_metric(run_id, Metric("m", value, 1, 0))
    assert set(_names(tracking_store, exp_id, "metrics.m > 0")) == {"one", "two"}
    assert set(_names(tracking_store, exp_id, "metrics.m != 1")) == {"two", "nan"}
    assert _names(tracking_store, exp_id, order_by=["metrics.m ASC"]) == ["one", "two", "nan", "none"]
    assert _names(tracking_store, exp_id, order_by=["metrics.m DESC"]) == ["two", "one", "nan", "none"]


def test_default_order(tracking_store: TrackingStore) -> None:
    exp_id, _ = _populate(tracking_store)
    assert _names(tracking_store, exp_id) == ["gamma", "beta", "alpha"]
    tied = [new_run(tracking_store, exp_id, start_time=50, name=f"tie{i}").info.run_id for i in range(3)]
    runs = tracking_store.search_runs([exp_id])
    assert [r.info.run_id for r in runs][-3:] == sorted(tied)


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.acc"], ["beta", "gamma", "alpha"]),
        (["metrics.acc DESC"], ["alpha", "gamma", "beta"]),
        (["metrics.loss ASC"], ["alpha", "beta", "gamma"]),
        (["metrics.loss DESC"], ["beta", "alpha", "gamma"]),
        (["params.lr"], ["beta", "alpha", "gamma"]),
        (["params.lr desc"], ["alpha", "beta", "gamma"]),
        (["params.model"], ["gamma", "alpha", "beta"]),
        (["tags.team ASC"], ["alpha", "beta", "gamma"]),
        (["tags.team DESC"], ["beta", "alpha", "gamma"]),
        (["attributes.run_name DESC"], ["gamma", "beta", "alpha"]),
        (["run_name"], ["alpha", "beta", "gamma"]),
        (["start_time"], ["alpha", "beta", "gamma"]),
        (["attributes.start_time DESC"], ["gamma", "beta", "alpha"]),
        (["attributes.status", "run_name DESC"], ["beta", "gamma", "alpha"]),
        (["end_time DESC"], ["beta", "gamma", "alpha"]),
        (["end_time ASC"], ["beta", "gamma", "alpha"]),
        (["tags.`mlflow.runName` DESC"], ["gamma", "beta", "alpha"]),
    ],
)
def test_order_by(tracking_store: TrackingStore, order_by: list[str], expected: list[str]) -> None:
    exp_id, _ = _populate(tracking_store)
    assert _names(tracking_store, exp_id, order_by=order_by) == expected


@pytest.mark.parametrize(
    "order_by", [["metrics.acc", "metrics.acc DESC"], ["bogus"], ["metrics.acc sideways"], [""]]
)
def test_bad_order_by(tracking_store: TrackingStore, order_by: list[str]) -> None:
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_runs(["0"], order_by=order_by)


def test_view_types_and_experiments(tracking_store: TrackingStore) -> None:
    exp_a, ids = _populate(tracking_store)
    exp_b = new_experiment(tracking_store)
    other = new_run(tracking_store, exp_b, name="other").info.run_id
    tracking_store.delete_run(ids["beta"])
    assert set(_names(tracking_store, exp_a)) == {"alpha", "gamma"}
    assert _names(tracking_store, exp_a, run_view_type=ViewType.DELETED_ONLY) == ["beta"]
    assert set(_names(tracking_store, exp_a, run_view_type=ViewType.ALL)) == {"alpha", "beta", "gamma"}
    both = tracking_store.search_runs([exp_a, exp_b])
    assert {r.info.run_id for r in both} == {ids["alpha"], ids["gamma"], other}
    assert tracking_store.search_runs([]).items == []
    assert tracking_store.search_runs([]).next_page_token is None


def test_results_carry_full_data(tracking_store: TrackingStore) -> None:
    exp_id, ids = _populate(tracking_store)
    tracking_store.log_metric(ids["alpha"], Metric("acc", 0.95, 2, 1))
    (alpha,) = tracking_store.search_runs([exp_id], "attributes.run_name = 'alpha'")
    assert alpha.data.metrics == {"acc": 0.95, "loss": 0.1}
    assert alpha.data.params == {"model": "cnn", "lr": "0.1"}
    assert alpha.data.tags == {"team": "Vision", "mlflow.runName": "alpha"}
    assert alpha == tracking_store.get_run(ids["alpha"])


def test_paging_visits_every_run_once(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    expected = set()
    for i in range(57):
        # Only five distinct start times and metric values: ties must still page exactly.
        run = new_run(tracking_store, exp_id, start_time=1000 + i % 5, name=f"r{i}")
        tracking_store.log_batch(
            run.info.run_id, metrics=[Metric("m", float(i % 3), 1)], tags=[RunTag("g", str(i % 4))]
        )
        expected.add(run.info.run_id)
    for order_by in (None, ["metrics.m DESC"], ["tags.g", "start_time ASC"]):
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            page = tracking_store.search_runs([exp_id], max_results=10, order_by=order_by, page_token=token)
            seen.extend(r.info.run_id for r in page)
            pages += 1
            token = page.next_page_token
            if token is None:
                break
        assert pages == 6
        assert len(seen) == 57 and set(seen) == expected
    with pytest.raises(InvalidArgumentError):
        tracking_store.search_runs([exp_id], page_token="garbage!")


def test_exact_page_has_no_token(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    for _ in range(4):
        new_run(tracking_store, exp_id)
    first = tracking_store.search_runs([exp_id], max_results=2)
    assert len(first) == 2 and first.next_page_token is not None
    second = tracking_store.search_runs([exp_id], max_results=2, page_token=first.next_page_token)
    assert len(second) == 2 and second.next_page_token is None
