"""Tracking store contract: runs (create, update, delete/restore, params, tags, run names)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import LifecycleStage, Metric, Param, RunStatus, RunTag
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run

RUN_NAME = "mlflow.runName"


def test_create_run(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run = tracking_store.create_run(
        exp_id, user_id="bob", start_time=12345, tags=[RunTag("a", "b")], run_name="r1"
    )
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.run_uuid == info.run_id
    assert info.experiment_id == exp_id
    assert (info.run_name, info.user_id, info.start_time, info.end_time) == ("r1", "bob", 12345, None)
    assert info.status is RunStatus.RUNNING
    assert info.lifecycle_stage is LifecycleStage.ACTIVE
    location = tracking_store.get_experiment(exp_id).artifact_location
    assert info.artifact_uri == f"{location}/{info.run_id}/artifacts"
    assert run.data.tags == {"a": "b", RUN_NAME: "r1"}
    fetched = tracking_store.get_run(info.run_id)
    assert fetched.info == info
    assert fetched.data.tags == {"a": "b", RUN_NAME: "r1"}
    assert fetched.data.params == {} and fetched.data.latest_metrics == ()
    assert fetched.inputs.dataset_inputs == () and fetched.outputs.model_outputs == ()


def test_run_in_default_experiment_and_user_default(tracking_store: TrackingStore) -> None:
    run = tracking_store.create_run("0", start_time=1)
    assert run.info.experiment_id == "0"
    assert run.info.user_id == ""


def test_run_name_from_tag(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run = tracking_store.create_run(exp_id, tags=[RunTag(RUN_NAME, "from-tag")])
    assert run.info.run_name == "from-tag"
    same = tracking_store.create_run(exp_id, tags=[RunTag(RUN_NAME, "n")], run_name="n")
    assert same.info.run_name == "n"
    with pytest.raises(InvalidArgumentError):
        tracking_store.create_run(exp_id, tags=[RunTag(RUN_NAME, "a")], run_name="b")


def test_generated_run_name(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    run = tracking_store.create_run(exp_id)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", run.info.run_name)
    assert tracking_store.get_run(run.info.run_id).data.tags[RUN_NAME] == run.info.run_name
    assert run.info.start_time is not None and run.info.start_time > 0


def test_create_run_bad_experiment(tracking_store: TrackingStore) -> None:
    with pytest.raises(InvalidArgumentError):
        tracking_store.create_run("")
    with pytest.raises(InvalidArgumentError):
        tracking_store.create_run("abc")
    with pytest.raises(NotFoundError):
        tracking_store.create_run("31337")


def test_get_unknown_run(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.get_run("0" * 32)


def test_update_run_info(tracking_store: TrackingStore) -> None:
    run = new_run(tracking_store, new_experiment(tracking_store), name="before")
    run_id = run.info.run_id
    info = tracking_store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=5000)
    assert (info.status, info.end_time, info.run_name) == (RunStatus.FINISHED, 5000, "before")
    info = tracking_store.update_run_info(run_id, run_name="after")
    assert (info.status, info.end_time, info.run_name) == (RunStatus.FINISHED, 5000, "after")
    fetched = tracking_store.get_run(run_id)
    assert fetched.info == info
    assert fetched.data.tags[RUN_NAME] == "after"
    info = tracking_store.update_run_info(run_id)
    assert info == fetched.info
    with pytest.raises(NotFoundError):
        tracking_store.update_run_info("f" * 32, status=RunStatus.FAILED)


def test_delete_restore_idempotent(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    tracking_store.delete_run(run_id)
    tracking_store.delete_run(run_id)
    assert tracking_store.get_run(run_id).info.lifecycle_stage is LifecycleStage.DELETED
    tracking_store.restore_run(run_id)
    tracking_store.restore_run(run_id)
    assert tracking_store.get_run(run_id).info.lifecycle_stage is LifecycleStage.ACTIVE
    for op in (tracking_store.delete_run, tracking_store.restore_run):
        with pytest.raises(NotFoundError):
            op("a" * 32)


def test_writes_to_deleted_run_rejected(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store), tags={"t": "v"}).info.run_id
    tracking_store.delete_run(run_id)
    writes: list[Callable[[], object]] = [
        lambda: tracking_store.log_metric(run_id, Metric("m", 1.0, 1)),
        lambda: tracking_store.log_param(run_id, Param("p", "v")),
        lambda: tracking_store.set_tag(run_id, RunTag("t", "w")),
        lambda: tracking_store.delete_tag(run_id, "t"),
        lambda: tracking_store.update_run_info(run_id, status=RunStatus.FINISHED),
        lambda: tracking_store.log_batch(run_id, metrics=[Metric("m", 1.0, 1)]),
        lambda: tracking_store.log_inputs(run_id, models=[]),
    ]
    for write in writes:
        with pytest.raises(InvalidArgumentError, match="must be in the 'active' state"):
            write()
    run = tracking_store.get_run(run_id)
    assert run.data.tags["t"] == "v" and run.data.latest_metrics == () and run.data.params == {}


def test_writes_to_unknown_run(tracking_store: TrackingStore) -> None:
    missing = "b" * 32
    with pytest.raises(NotFoundError):
        tracking_store.log_batch(missing, params=[Param("p", "v")])
    with pytest.raises(NotFoundError):
        tracking_store.delete_tag(missing, "t")
    with pytest.raises(NotFoundError):
        tracking_store.get_metric_history(missing, "m")


def test_params_are_immutable(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    tracking_store.log_param(run_id, Param("lr", "0.1"))
    tracking_store.log_param(run_id, Param("lr", "0.1"))
    tracking_store.log_batch(run_id, params=[Param("lr", "0.1"), Param("bs", "32")])
    with pytest.raises(InvalidArgumentError, match="Changing param values is not allowed"):
        tracking_store.log_param(run_id, Param("lr", "0.2"))
    assert tracking_store.get_run(run_id).data.params == {"lr": "0.1", "bs": "32"}


def test_param_keys_case_sensitive(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    tracking_store.log_batch(run_id, params=[Param("A", "1"), Param("a", "2")])
    assert tracking_store.get_run(run_id).data.params == {"A": "1", "a": "2"}


def test_tags_upsert_and_delete(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    tracking_store.set_tag(run_id, RunTag("k", "v1"))
    tracking_store.set_tag(run_id, RunTag("k", "v2"))
    tracking_store.set_tag(run_id, RunTag("empty", ""))
    tags = tracking_store.get_run(run_id).data.tags
    assert tags["k"] == "v2" and tags["empty"] == ""
    tracking_store.delete_tag(run_id, "k")
    assert "k" not in tracking_store.get_run(run_id).data.tags
    with pytest.raises(NotFoundError):
        tracking_store.delete_tag(run_id, "k")


def test_run_name_tag_renames_run(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store), name="first").info.run_id
    tracking_store.set_tag(run_id, RunTag(RUN_NAME, "second"))
    assert tracking_store.get_run(run_id).info.run_name == "second"
    tracking_store.log_batch(run_id, tags=[RunTag(RUN_NAME, "third")])
    run = tracking_store.get_run(run_id)
    assert run.info.run_name == "third" and run.data.tags[RUN_NAME] == "third"


def test_unicode_values_round_trip(tracking_store: TrackingStore) -> None:
    run_id = new_run(tracking_store, new_experiment(tracking_store)).info.run_id
    value = "héllo wörld ✓ 日本 😀"
    tracking_store.log_batch(run_id, params=[Param("p", value)], tags=[RunTag("t", value)])
    data = tracking_store.get_run(run_id).data
    assert data.params["p"] == value and data.tags["t"] == value


def test_list_deleted_and_purge(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    keep = new_run(tracking_store, exp_id).info.run_id
    gone = new_run(tracking_store, exp_id).info.run_id
    tracking_store.log_batch(
        gone, metrics=[Metric("m", 1.0, 1)], params=[Param("p", "v")], tags=[RunTag("t", "v")]
    )
    tracking_store.delete_run(gone)
    assert tracking_store.list_deleted_runs() == [gone]
    assert tracking_store.list_deleted_runs(older_than_ms=10**9) == []
    assert tracking_store.list_deleted_runs(older_than_ms=0) in ([gone], [])
    tracking_store.purge_run(gone)
    with pytest.raises(NotFoundError):
        tracking_store.get_run(gone)
    assert tracking_store.list_deleted_runs() == []
    assert tracking_store.get_run(keep).info.lifecycle_stage is LifecycleStage.ACTIVE
    with pytest.raises(NotFoundError):
        tracking_store.purge_run(gone)
