"""MLflow's own client (MlflowClient and the fluent API) against a live mltrail server: tracking."""

from __future__ import annotations

import math
import time

import pytest

pytestmark = pytest.mark.integration

mlflow = pytest.importorskip("mlflow", reason="the compatibility tests drive the real mlflow client")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunStatus, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from tests.compat.conftest import unique  # noqa: E402


def test_experiments_lifecycle(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    name = unique()
    experiment_id = client.create_experiment(name, tags={"team": "ml"})
    experiment = client.get_experiment(experiment_id)
    assert experiment.name == name
    assert experiment.tags["team"] == "ml"
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment_id}"
    by_name = client.get_experiment_by_name(name)
    assert by_name is not None and by_name.experiment_id == experiment_id
    assert client.get_experiment_by_name(unique()) is None

    client.set_experiment_tag(experiment_id, "stage", "dev")
    new_name = unique("renamed")
    client.rename_experiment(experiment_id, new_name)
    assert client.get_experiment(experiment_id).name == new_name
    assert client.get_experiment(experiment_id).tags["stage"] == "dev"

    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"


def test_search_experiments_with_filter_and_paging(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    marker = unique("paged")
    ids = [client.create_experiment(f"{marker}-{i}") for i in range(5)]
    seen: list[str] = []
    token = None
    while True:
        page = client.search_experiments(
            filter_string=f"name LIKE '{marker}-%'", order_by=["name ASC"], max_results=2, page_token=token
        )
        seen.extend(e.experiment_id for e in page)
        token = page.token
        if not token:
            break
    assert seen == ids
    found = mlflow.search_experiments(filter_string=f"name = '{marker}-3'")
    assert [e.experiment_id for e in found] == [ids[3]]


def test_client_runs_params_metrics_tags(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(unique())
    run = client.create_run(experiment_id, run_name="client-run", tags={"kind": "client"})
    run_id = run.info.run_id
    assert run.info.status == "RUNNING" and run.info.run_name == "client-run"

    client.log_param(run_id, "lr", 0.01)
    client.log_metric(run_id, "loss", 1.5, step=0)
    client.log_metric(run_id, "loss", 0.5, step=1)
    client.log_metric(run_id, "odd", float("nan"))
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("acc", 0.1 * i, now, i) for i in range(5)],
        params=[Param("layers", "3")],
        tags=[RunTag("batch", "yes")],
    )
    client.set_tag(run_id, "temp", "x")
    client.delete_tag(run_id, "temp")
    client.set_terminated(run_id, status="FINISHED")

    fetched = client.get_run(run_id)
    assert fetched.info.status == "FINISHED" and fetched.info.end_time is not None
    assert fetched.data.params == {"lr": "0.01", "layers": "3"}
    assert fetched.data.metrics["loss"] == 0.5
    assert math.isnan(fetched.data.metrics["odd"])
    assert fetched.data.metrics["acc"] == pytest.approx(0.4)
    assert fetched.data.tags["kind"] == "client" and fetched.data.tags["batch"] == "yes"
    assert "temp" not in fetched.data.tags
    history = client.get_metric_history(run_id, "acc")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [1.5, 0.5]


def test_fluent_api_runs(tracking_uri: str) -> None:
    name = unique("fluent")
    experiment = mlflow.set_experiment(name)
    with mlflow.start_run(run_name="fluent-run") as run:
        mlflow.log_params({"alpha": 0.5, "beta": "b"})
        for step in range(3):
            mlflow.log_metrics({"score": step * 2.0, "other": 1.0}, step=step)
        mlflow.set_tags({"stage": "test"})
    fetched = mlflow.get_run(run.info.run_id)
    assert fetched.info.experiment_id == experiment.experiment_id
    assert fetched.info.status == "FINISHED"
    assert fetched.info.run_name == "fluent-run"
    assert fetched.data.params == {"alpha": "0.5", "beta": "b"}
    assert fetched.data.metrics == {"score": 4.0, "other": 1.0}
    assert fetched.data.tags["stage"] == "test"

    with pytest.raises(RuntimeError), mlflow.start_run() as failing:
        raise RuntimeError("boom")
    assert mlflow.get_run(failing.info.run_id).info.status == "FAILED"


def test_search_runs_filters_order_and_paging(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(unique())
    run_ids = []
    for i in range(6):
        run = client.create_run(experiment_id, run_name=f"r{i}")
        client.log_metric(run.info.run_id, "score", float(i))
        client.log_param(run.info.run_id, "parity", "even" if i % 2 == 0 else "odd")
        run_ids.append(run.info.run_id)

    ordered = client.search_runs([experiment_id], "params.parity = 'even'", order_by=["metrics.score DESC"])
    assert [r.info.run_id for r in ordered] == [run_ids[4], run_ids[2], run_ids[0]]

    seen: list[str] = []
    token = None
    while True:
        page = client.search_runs([experiment_id], "metrics.score >= 1", max_results=2, page_token=token)
        seen.extend(r.info.run_id for r in page)
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(run_ids[1:])

    frame = mlflow.search_runs(experiment_ids=[experiment_id], filter_string="attributes.run_name = 'r3'")
    assert list(frame["run_id"]) == [run_ids[3]]
    assert frame["metrics.score"].iloc[0] == 3.0


def test_deleted_and_restored_runs(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    experiment_id = client.create_experiment(unique())
    keep = client.create_run(experiment_id).info.run_id
    gone = client.create_run(experiment_id).info.run_id
    client.delete_run(gone)
    assert client.get_run(gone).info.lifecycle_stage == "deleted"
    active = {r.info.run_id for r in client.search_runs([experiment_id])}
    deleted = {
        r.info.run_id for r in client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    }
    assert active == {keep} and deleted == {gone}
    client.restore_run(gone)
    assert {r.info.run_id for r in client.search_runs([experiment_id])} == {keep, gone}


def test_update_run_name_and_status(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    client.update_run(run_id, status="KILLED", name="renamed")
    info = client.get_run(run_id).info
    assert info.status == RunStatus.to_string(RunStatus.KILLED)
    assert info.run_name == "renamed"
    assert client.get_run(run_id).data.tags["mlflow.runName"] == "renamed"


def test_error_cases_raise_mlflow_exceptions(tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    with pytest.raises(MlflowException) as missing:
        client.get_run("0" * 32)
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    name = unique()
    client.create_experiment(name)
    with pytest.raises(MlflowException) as duplicate:
        client.create_experiment(name)
    assert duplicate.value.error_code == "RESOURCE_ALREADY_EXISTS"

    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    client.log_param(run_id, "p", "1")
    with pytest.raises(MlflowException) as changed:
        client.log_param(run_id, "p", "2")
    assert changed.value.error_code == "INVALID_PARAMETER_VALUE"

    client.delete_run(run_id)
    with pytest.raises(MlflowException) as inactive:
        client.log_metric(run_id, "m", 1.0)
    assert inactive.value.error_code == "INVALID_PARAMETER_VALUE"

    with pytest.raises(MlflowException) as bad_filter:
        client.search_runs(["0"], "metrics.a > 1 OR metrics.b < 2")
    assert bad_filter.value.error_code == "INVALID_PARAMETER_VALUE"
