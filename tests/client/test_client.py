"""TrackingClient against a SQLite file: experiments, runs, params, metrics, tags, search."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mltrail.config import Settings
from mltrail.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    MltrailError,
    NotFoundError,
)
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import LifecycleStage, Metric, Param, RunStatus, RunTag, ViewType
from tests.support.fake_store import FakeTrackingStore


def test_experiment_lifecycle(client: TrackingClient) -> None:
    exp_id = client.create_experiment("exp", tags={"team": "ml", "n": 3})
    exp = client.get_experiment(exp_id)
    assert exp.name == "exp" and exp.tags == {"team": "ml", "n": "3"}
    assert client.get_experiment_by_name("exp").experiment_id == exp_id
    with pytest.raises(AlreadyExistsError):
        client.create_experiment("exp")
    client.rename_experiment(exp_id, "exp2")
    client.set_experiment_tag(exp_id, "k", 1)
    assert client.get_experiment(exp_id).tags["k"] == "1"
    client.delete_experiment_tag(exp_id, "k")
    assert "k" not in client.get_experiment(exp_id).tags
    names = {e.name for e in client.search_experiments()}
    assert "exp2" in names
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == LifecycleStage.DELETED
    assert "exp2" not in {e.name for e in client.search_experiments()}
    assert "exp2" in {e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)}
    with pytest.raises(InvalidStateError):
        client.rename_experiment(exp_id, "exp3")
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    with pytest.raises(NotFoundError):
        client.get_experiment_by_name("nope")


def test_run_lifecycle_and_data(client: TrackingClient) -> None:
    exp_id = client.create_experiment("runs")
    run = client.create_run(exp_id, run_name="first", tags={"mlflow.user": "alice", "x": 1})
    run_id = run.info.run_id
    assert run.info.status == RunStatus.RUNNING
    assert run.info.user_id == "alice"
    assert run.info.run_name == "first"
    assert run.data.tags["x"] == "1"

    assert client.log_param(run_id, "lr", 0.1) == 0.1
    client.log_params(run_id, {"layers": 3, "act": "relu"})
    with pytest.raises(InvalidArgumentError):
        client.log_param(run_id, "lr", 0.2)
    client.set_tag(run_id, "stage", "dev")
    client.set_tags(run_id, {"a": 1, "b": True})
    client.delete_tag(run_id, "a")
    with pytest.raises(NotFoundError):
        client.delete_tag(run_id, "a")
    client.log_metric(run_id, "loss", 0.5, step=1, timestamp=1000)
    client.log_metric(run_id, "loss", 0.25, step=2, timestamp=2000, synchronous=True)
    client.log_metrics(run_id, {"acc": 0.9, "f1": float("nan")}, step=2)

    got = client.get_run(run_id)
    assert got.data.params == {"lr": "0.1", "layers": "3", "act": "relu"}
    assert got.data.tags["stage"] == "dev" and got.data.tags["b"] == "True" and "a" not in got.data.tags
    assert got.data.metrics["loss"] == 0.25 and got.data.metrics["acc"] == 0.9
    assert math.isnan(got.data.metrics["f1"])
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")] == [(1, 0.5), (2, 0.25)]

    info = client.update_run(run_id, name="renamed")
    assert info.run_name == "renamed"
    info = client.set_terminated(run_id, "FAILED", end_time=5000)
    assert info.status == RunStatus.FAILED and info.end_time == 5000
    with pytest.raises(InvalidArgumentError):
        client.update_run(run_id, status="BOGUS")

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    with pytest.raises(InvalidArgumentError):
        client.set_tag(run_id, "k", "v")
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("", 1.0),
        ("../x", 1.0),
        ("/abs", 1.0),
        ("bad!key", 1.0),
        ("k" * 251, 1.0),
        ("k", "1.0"),
        ("k", None),
        ("k", True),
    ],
)
def test_bad_metrics_fail_at_call_time_even_when_queued(
    client: TrackingClient, key: str, value: object
) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(InvalidArgumentError):
        client.log_metric(run_id, key, value)  # type: ignore[arg-type]
    client.flush()
    assert client.get_run(run_id).data.metrics == {}


def test_log_batch_splits_over_the_protocol_limits(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    metrics = [Metric("m", float(i), 1000 + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(250)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(150)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    run = client.get_run(run_id)
    assert len(run.data.params) == 250
    assert sum(1 for k in run.data.tags if k.startswith("t")) == 150
    assert len(client.get_metric_history(run_id, "m")) == 2500


def test_search_runs_returns_a_page(client: TrackingClient) -> None:
    exp_id = client.create_experiment("search")
    ids = []
    for i in range(5):
        run_id = client.create_run(exp_id, start_time=1000 + i).info.run_id
        client.log_metric(run_id, "score", float(i))
        ids.append(run_id)
    page = client.search_runs([exp_id], "metrics.score >= 2", order_by=["metrics.score DESC"])
    assert [r.info.run_id for r in page] == [ids[4], ids[3], ids[2]]
    first = client.search_runs([exp_id], max_results=2)
    assert len(first) == 2 and first.next_page_token
    rest = client.search_runs([exp_id], max_results=10, page_token=first.next_page_token)
    assert {r.info.run_id for r in first} | {r.info.run_id for r in rest} == set(ids)


def test_flush_reraises_a_background_failure(client: TrackingClient) -> None:
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    client.log_metric(run_id, "loss", 1.0)  # queued: fails in the background
    with pytest.raises(InvalidArgumentError, match="active"):
        client.flush()
    client.flush()  # reported once


def test_background_failure_surfaces_on_close(settings: Settings) -> None:
    client = TrackingClient(settings=settings)
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    client.log_metric(run_id, "loss", 1.0)
    with pytest.raises(MltrailError):
        client.close()


def test_close_writes_queued_points(settings: Settings) -> None:
    slow = settings.model_copy(update={"flush_interval": 60.0})
    with TrackingClient(settings=slow) as client:
        run_id = client.create_run("0").info.run_id
        for i in range(10):
            client.log_metric(run_id, "m", float(i), step=i)
    with TrackingClient(settings=settings) as reader:
        assert len(reader.get_metric_history(run_id, "m")) == 10


def test_synchronous_settings_write_immediately(tmp_path: Path) -> None:
    store = FakeTrackingStore(str(tmp_path))
    client = TrackingClient(settings=Settings(async_logging=False), store=store)
    run_id = client.create_run("0").info.run_id
    client.log_metric(run_id, "m", 1.0)
    assert store.batches == [(run_id, 1)]
    assert client._batcher._thread is None
    client.log_metric(run_id, "m", 2.0, synchronous=False)
    assert store.batches == [(run_id, 1)]
    client.flush()
    assert store.batches == [(run_id, 1), (run_id, 1)]
    client.close()
    assert store.closed


def test_no_thread_before_first_queued_point(tmp_path: Path) -> None:
    client = TrackingClient(settings=Settings(), store=FakeTrackingStore(str(tmp_path)))
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", 1)
    assert client._batcher._thread is None
    client.log_metric(run_id, "m", 1.0)
    assert client._batcher._thread is not None
    client.close()


def test_default_uri_comes_from_settings(tracking_uri: str, artifact_root: Path) -> None:
    with TrackingClient(settings=Settings(tracking_uri=tracking_uri, artifact_root=str(artifact_root))) as c:
        assert c.tracking_uri == tracking_uri
        assert c.get_experiment("0").name == "Default"


def test_unknown_scheme_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="Unsupported tracking URI"):
        TrackingClient("nosuch://x")
