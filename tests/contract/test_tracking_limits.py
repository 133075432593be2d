"""Tracking store contract: validation limits of spec §0.7, truncation, atomic batch rejection."""

from __future__ import annotations

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run
from tests.contract.conftest import OpenStore
from tests.support.stores import StoreOptions


def _run(store: TrackingStore) -> str:
    return new_run(store, new_experiment(store)).info.run_id


@pytest.mark.parametrize(
    "key",
    ["", "a" * 251, "bad!char", "semi;colon", "a/../b", "/leading", "./x", ".", "a//b", "..", "tab\tkey"],
)
def test_bad_keys_rejected_for_every_kind(tracking_store: TrackingStore, key: str) -> None:
    run_id = _run(tracking_store)
    for batch in (
        {"metrics": [Metric(key, 1.0, 1)]},
        {"params": [Param(key, "v")]},
        {"tags": [RunTag(key, "v")]},
    ):
        with pytest.raises(InvalidArgumentError):
            tracking_store.log_batch(run_id, **batch)
    run = tracking_store.get_run(run_id)
    assert run.data.params == {} and run.data.latest_metrics == ()


@pytest.mark.parametrize("key", ["a" * 250, "with space", "dots.and-dash_", "slash/ok", "colon:ok", "ünï"])
def test_good_keys_accepted(tracking_store: TrackingStore, key: str) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(
        run_id, metrics=[Metric(key, 1.0, 1)], params=[Param(key, "v")], tags=[RunTag(key, "v")]
    )
    run = tracking_store.get_run(run_id)
    assert run.data.metrics == {key: 1.0} and run.data.params == {key: "v"} and run.data.tags[key] == "v"


def test_bad_key_message_names_path(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    with pytest.raises(InvalidArgumentError, match=r"params\[1\]\.key"):
        tracking_store.log_batch(run_id, params=[Param("ok", "v"), Param("bad!", "v")])


def test_metric_value_and_timestamp_rules(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    for bad in (
        Metric("m", True, 1),
        Metric("m", "1.0", 1),  # type: ignore[arg-type]
        Metric("m", 1.0, -1),
        Metric("m", 1.0, 1, 2**63),
    ):
        with pytest.raises(InvalidArgumentError):
            tracking_store.log_metric(run_id, bad)
    assert tracking_store.get_run(run_id).data.latest_metrics == ()


@pytest.mark.parametrize(
    ("metrics", "params", "tags"),
    [(1001, 0, 0), (0, 101, 0), (0, 0, 101), (900, 100, 1), (1000, 1, 0)],
)
def test_batch_size_limits(tracking_store: TrackingStore, metrics: int, params: int, tags: int) -> None:
    run_id = _run(tracking_store)
    with pytest.raises(InvalidArgumentError, match="at most"):
        tracking_store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, i) for i in range(metrics)],
            params=[Param(f"p{i}", "v") for i in range(params)],
            tags=[RunTag(f"t{i}", "v") for i in range(tags)],
        )
    run = tracking_store.get_run(run_id)
    assert run.data.latest_metrics == () and run.data.params == {}


def test_maximal_batch_accepted(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(
        run_id,
        metrics=[Metric("m", float(i), i, i) for i in range(800)],
        params=[Param(f"p{i}", "v") for i in range(100)],
        tags=[RunTag(f"t{i}", "v") for i in range(100)],
    )
    run = tracking_store.get_run(run_id)
    assert len(run.data.params) == 100 and len(run.data.tags) == 101 and run.data.metrics == {"m": 799.0}
    assert len(tracking_store.get_metric_history(run_id, "m")) == 800


def test_duplicate_param_keys_in_batch(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    with pytest.raises(InvalidArgumentError, match="Duplicate parameter keys"):
        tracking_store.log_batch(run_id, params=[Param("p", "1"), Param("p", "1")])
    assert tracking_store.get_run(run_id).data.params == {}


def test_rejected_batch_stores_nothing(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_param(run_id, Param("fixed", "1"))
    with pytest.raises(InvalidArgumentError):
        tracking_store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 1)],
            params=[Param("new", "x"), Param("fixed", "2")],
            tags=[RunTag("t", "v")],
        )
    with pytest.raises(InvalidArgumentError):
        tracking_store.log_batch(
            run_id, metrics=[Metric("ok", 1.0, 1), Metric("bad key!", 1.0, 1)], tags=[RunTag("t2", "v")]
        )
    run = tracking_store.get_run(run_id)
    assert run.data.params == {"fixed": "1"}
    assert run.data.latest_metrics == ()
    assert "t" not in run.data.tags and "t2" not in run.data.tags
    assert tracking_store.get_metric_history(run_id, "m").items == []


def test_long_values_truncated_by_default(tracking_store: TrackingStore) -> None:
    run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, params=[Param("p", "x" * 7000)], tags=[RunTag("t", "y" * 9000)])
    data = tracking_store.get_run(run_id).data
    assert data.params["p"] == "x" * 6000
    assert data.tags["t"] == "y" * 8000
    tracking_store.log_batch(run_id, params=[Param("q", "z" * 6000)], tags=[RunTag("u", "w" * 8000)])
    data = tracking_store.get_run(run_id).data
    assert data.params["q"] == "z" * 6000 and data.tags["u"] == "w" * 8000


def test_long_values_rejected_without_truncation(open_tracking_store: OpenStore) -> None:
    store = open_tracking_store(StoreOptions(truncate_long_values=False))
    run_id = _run(store)
    with pytest.raises(InvalidArgumentError, match="exceeds the maximum length"):
        store.log_param(run_id, Param("p", "x" * 6001))
    with pytest.raises(InvalidArgumentError, match="exceeds the maximum length"):
        store.set_tag(run_id, RunTag("t", "y" * 8001))
    store.log_batch(run_id, params=[Param("p", "x" * 6000)], tags=[RunTag("t", "y" * 8000)])
    data = store.get_run(run_id).data
    assert data.params["p"] == "x" * 6000 and data.tags["t"] == "y" * 8000


def _dataset(**overrides: str) -> DatasetInput:
    fields = {"name": "ds", "digest": "abc", "source_type": "local", "source": "file:///data"}
    fields.update(overrides)
    return DatasetInput(Dataset(**fields))


@pytest.mark.parametrize(
    "dataset",
    [
        _dataset(name="n" * 501),
        _dataset(digest="d" * 37),
        _dataset(source="s" * 65536),
        _dataset(name=""),
        DatasetInput(Dataset("ds", "abc", "local", "src"), (InputTag("k" * 256, "v"),)),
        DatasetInput(Dataset("ds", "abc", "local", "src"), (InputTag("k", "v" * 501),)),
    ],
)
def test_dataset_limits(tracking_store: TrackingStore, dataset: DatasetInput) -> None:
    run_id = _run(tracking_store)
    with pytest.raises(InvalidArgumentError):
        tracking_store.log_inputs(run_id, datasets=[dataset])
    assert tracking_store.get_run(run_id).inputs.dataset_inputs == ()


def test_search_runs_max_results_limits(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    for bad in (0, -5, 50001):
        with pytest.raises(InvalidArgumentError):
            tracking_store.search_runs([exp_id], max_results=bad)
    assert tracking_store.search_runs([exp_id], max_results=50000).items == []
