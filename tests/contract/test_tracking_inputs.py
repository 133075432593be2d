"""Tracking store contract: dataset inputs, model inputs/outputs, dataset search filters."""

from __future__ import annotations

import pytest

from mltrail.tracking.entities import Dataset, DatasetInput, DatasetSummary, InputTag, ModelInput, ModelOutput
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run

CONTEXT = "mlflow.data.context"


def _input(name: str, digest: str, context: str | None = None) -> DatasetInput:
    tags = (InputTag(CONTEXT, context),) if context else ()
    return DatasetInput(Dataset(name, digest, "local", f"file:///{name}", '{"cols": 1}', None), tags)


def test_log_inputs_and_read_back(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    tracking_store.log_inputs(
        run_id,
        datasets=[_input("train", "d1", "training"), _input("eval", "d2")],
        models=[ModelInput("m-" + "1" * 32)],
    )
    tracking_store.log_outputs(run_id, [ModelOutput("m-" + "2" * 32, step=7)])
    run = tracking_store.get_run(run_id)
    inputs = sorted(run.inputs.dataset_inputs, key=lambda d: d.dataset.name)
    assert [d.dataset.name for d in inputs] == ["eval", "train"]
    assert inputs[1].tags == (InputTag(CONTEXT, "training"),)
    assert inputs[1].dataset == Dataset("train", "d1", "local", "file:///train", '{"cols": 1}', None)
    assert inputs[0].tags == ()
    assert run.inputs.model_inputs == (ModelInput("m-" + "1" * 32),)
    assert run.outputs.model_outputs == (ModelOutput("m-" + "2" * 32, 7),)


def test_inputs_deduplicated(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    a = new_run(tracking_store, exp_id).info.run_id
    b = new_run(tracking_store, exp_id).info.run_id
    tracking_store.log_inputs(a, datasets=[_input("ds", "d1", "train")])
    tracking_store.log_inputs(a, datasets=[_input("ds", "d1", "train")])
    tracking_store.log_inputs(b, datasets=[_input("ds", "d1", "eval"), _input("ds", "d2", "eval")])
    tracking_store.log_inputs(a, models=[ModelInput("m-x"), ModelInput("m-x")])
    assert len(tracking_store.get_run(a).inputs.dataset_inputs) == 1
    assert len(tracking_store.get_run(a).inputs.model_inputs) == 1
    assert len(tracking_store.get_run(b).inputs.dataset_inputs) == 2
    summaries = tracking_store.search_datasets([exp_id])
    assert sorted(summaries, key=lambda s: (s.digest, s.context or "")) == [
        DatasetSummary(exp_id, "ds", "d1", "eval"),
        DatasetSummary(exp_id, "ds", "d1", "train"),
        DatasetSummary(exp_id, "ds", "d2", "eval"),
    ]


def test_search_datasets_scoped_to_experiments(tracking_store: TrackingStore) -> None:
    exp_a = new_experiment(tracking_store)
    exp_b = new_experiment(tracking_store)
    tracking_store.log_inputs(new_run(tracking_store, exp_a).info.run_id, datasets=[_input("a", "1")])
    tracking_store.log_inputs(new_run(tracking_store, exp_b).info.run_id, datasets=[_input("b", "2", "test")])
    assert tracking_store.search_datasets([exp_a]) == [DatasetSummary(exp_a, "a", "1", None)]
    assert {s.name for s in tracking_store.search_datasets([exp_a, exp_b])} == {"a", "b"}
    assert tracking_store.search_datasets([]) == []


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("dataset.name = 'mnist'", {"r1", "r2"}),
        ("datasets.name != 'mnist'", {"r2", "r3"}),
        ("dataset.name LIKE 'mn%'", {"r1", "r2"}),
        ("dataset.name ILIKE 'MN%'", {"r1", "r2"}),
        ("dataset.name IN ('cifar', 'nope')", {"r2", "r3"}),
        ("dataset.name NOT IN ('mnist')", {"r2", "r3"}),
        ("dataset.digest = 'd1'", {"r1"}),
        ("dataset.digest IN ('d2', 'd3')", {"r2", "r3"}),
        ("dataset.context = 'train'", {"r1", "r2"}),
        ("dataset.context != 'train'", {"r2", "r3"}),
        ("dataset.context LIKE 'ev%'", {"r3"}),
        ("dataset.context IN ('eval')", {"r3"}),
        ("dataset.name = 'mnist' AND dataset.context = 'train'", {"r1", "r2"}),
    ],
)
def test_dataset_search_filters(
    tracking_store: TrackingStore, filter_string: str, expected: set[str]
) -> None:
    exp_id = new_experiment(tracking_store)
    runs = {name: new_run(tracking_store, exp_id, name=name).info.run_id for name in ("r1", "r2", "r3", "r4")}
    tracking_store.log_inputs(runs["r1"], datasets=[_input("mnist", "d1", "train")])
    tracking_store.log_inputs(
        runs["r2"], datasets=[_input("mnist", "d2", "train"), _input("cifar", "d9", "test")]
    )
    tracking_store.log_inputs(runs["r3"], datasets=[_input("cifar", "d3", "eval")])
    found = {r.info.run_name for r in tracking_store.search_runs([exp_id], filter_string)}
    assert found == expected


def test_purge_removes_inputs(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run_id = new_run(tracking_store, exp_id).info.run_id
    tracking_store.log_inputs(run_id, datasets=[_input("ds", "d", "train")], models=[ModelInput("m-1")])
    tracking_store.log_outputs(run_id, [ModelOutput("m-2", 1)])
    tracking_store.delete_run(run_id)
    tracking_store.purge_run(run_id)
    assert tracking_store.list_deleted_runs() == []
    assert tracking_store.search_datasets([exp_id]) == []
