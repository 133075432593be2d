"""The fluent API end to end on a SQLite file."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mltrail
from mltrail.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import Run, RunStatus


def test_run_context_manager_finishes_and_logs(fluent_api: TrackingClient) -> None:
    exp = mltrail.set_experiment("fluent")
    with mltrail.start_run(run_name="r1", tags={"k": "v"}, description="about") as run:
        assert mltrail.active_run() is run
        assert mltrail.log_param("lr", 0.01) == 0.01
        mltrail.log_params({"depth": 4})
        mltrail.set_tag("stage", "test")
        mltrail.set_tags({"a": 1})
        mltrail.delete_tag("a")
        for step in range(100):
            mltrail.log_metric("loss", 1.0 / (step + 1), step=step)
        mltrail.log_metrics({"acc": 0.5, "f1": 0.25}, step=3)
        mltrail.log_metric("sync", 1.0, synchronous=True)
    with mltrail.start_run() as other:
        mltrail.log_metric("elsewhere", 3.0, run_id=run.run_id)
        mltrail.log_metrics({"elsewhere2": 4.0}, run_id=run.run_id)
    assert fluent_api.get_run(other.run_id).data.metrics == {}
    assert mltrail.active_run() is None
    got = fluent_api.get_run(run.run_id)
    assert got.info.status == RunStatus.FINISHED and got.info.end_time is not None
    assert got.info.experiment_id == exp.experiment_id
    assert got.info.run_name == "r1"
    assert got.data.params == {"lr": "0.01", "depth": "4"}
    tags = got.data.tags
    assert tags["k"] == "v" and tags["stage"] == "test" and "a" not in tags
    assert tags["mlflow.note.content"] == "about"
    assert tags["mlflow.runName"] == "r1"
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.user"] and tags["mlflow.source.name"]
    assert len(fluent_api.get_metric_history(run.run_id, "loss")) == 100
    assert got.data.metrics["acc"] == 0.5 and got.data.metrics["sync"] == 1.0
    assert got.data.metrics["elsewhere"] == 3.0 and got.data.metrics["elsewhere2"] == 4.0
    last = mltrail.last_active_run()
    assert last is not None and last.info.run_id == other.run_id


def test_nested_runs_and_parent_tag(fluent_api: TrackingClient) -> None:
    with mltrail.start_run() as parent:
        with pytest.raises(InvalidStateError, match="already active"):
            mltrail.start_run()
        with mltrail.start_run(nested=True) as child:
            assert mltrail.active_run() is child
            mltrail.log_metric("m", 1.0)
        assert mltrail.active_run() is parent
    child_run = fluent_api.get_run(child.run_id)
    assert child_run.data.tags["mlflow.parentRunId"] == parent.run_id
    assert child_run.info.status == RunStatus.FINISHED
    assert child_run.data.metrics == {"m": 1.0}
    assert "mlflow.parentRunId" not in fluent_api.get_run(parent.run_id).data.tags


def test_explicit_parent_run_id(fluent_api: TrackingClient) -> None:
    with mltrail.start_run() as parent:
        pass
    with mltrail.start_run(parent_run_id=parent.run_id) as child:
        pass
    assert fluent_api.get_run(child.run_id).data.tags["mlflow.parentRunId"] == parent.run_id


def test_exception_marks_the_run_failed_and_keeps_its_data(fluent_api: TrackingClient) -> None:
    with pytest.raises(RuntimeError, match="boom"), mltrail.start_run() as run:
        mltrail.log_metric("before", 2.0)
        raise RuntimeError("boom")
    got = fluent_api.get_run(run.run_id)
    assert got.info.status == RunStatus.FAILED
    assert got.data.metrics == {"before": 2.0}
    assert mltrail.active_run() is None


def test_keyboard_interrupt_marks_the_run_killed(fluent_api: TrackingClient) -> None:
    with pytest.raises(KeyboardInterrupt), mltrail.start_run() as run:
        raise KeyboardInterrupt
    assert fluent_api.get_run(run.run_id).info.status == RunStatus.KILLED


def test_end_run_with_status_and_resume(fluent_api: TrackingClient) -> None:
    run = mltrail.start_run()
    mltrail.log_metric("m", 1.0, step=1)
    mltrail.end_run("KILLED")
    assert fluent_api.get_run(run.run_id).info.status == RunStatus.KILLED
    mltrail.end_run()  # nothing active: no-op
    with mltrail.start_run(run_id=run.run_id) as resumed:
        assert resumed.run_id == run.run_id
        assert fluent_api.get_run(run.run_id).info.status == RunStatus.RUNNING
        mltrail.log_metric("m", 2.0, step=2)
    got = fluent_api.get_run(run.run_id)
    assert got.info.status == RunStatus.FINISHED
    assert [m.value for m in fluent_api.get_metric_history(run.run_id, "m")] == [1.0, 2.0]
    with pytest.raises(InvalidArgumentError, match="belongs to experiment"):
        mltrail.start_run(run_id=run.run_id, experiment_id="12345")
    mltrail.delete_run(run.run_id)
    with pytest.raises(InvalidArgumentError, match="deleted"):
        mltrail.start_run(run_id=run.run_id)
    with pytest.raises(NotFoundError):
        mltrail.start_run(run_id="0" * 32)
    assert mltrail.active_run() is None


def test_set_experiment_rules(fluent_api: TrackingClient) -> None:
    created = mltrail.set_experiment("new-exp")
    assert fluent_api.get_experiment_by_name("new-exp").experiment_id == created.experiment_id
    again = mltrail.set_experiment(experiment_id=created.experiment_id)
    assert again.name == "new-exp"
    with pytest.raises(InvalidArgumentError):
        mltrail.set_experiment()
    with pytest.raises(InvalidArgumentError):
        mltrail.set_experiment("a", experiment_id="1")
    mltrail.delete_experiment(created.experiment_id)
    with pytest.raises(InvalidStateError, match="deleted"):
        mltrail.set_experiment("new-exp")
    with pytest.raises(InvalidStateError, match="deleted"):
        mltrail.set_experiment(experiment_id=created.experiment_id)
    assert fluent_api.get_experiment(created.experiment_id).lifecycle_stage.value == "deleted"
    assert mltrail.get_experiment_by_name("missing") is None
    exp_id = mltrail.create_experiment("made", tags={"t": "1"})
    assert mltrail.get_experiment(exp_id).tags == {"t": "1"}
    assert {e.name for e in mltrail.search_experiments()} >= {"Default", "made"}


def test_logging_without_a_run_starts_one(fluent_api: TrackingClient) -> None:
    mltrail.log_param("auto", 1)
    active = mltrail.active_run()
    assert active is not None
    assert fluent_api.get_run(active.run_id).data.params == {"auto": "1"}
    mltrail.end_run()


def test_artifacts_of_each_kind(fluent_api: TrackingClient, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = tmp_path / "f.txt"
    f.write_text("file")
    d = tmp_path / "d"
    d.mkdir()
    (d / "x.txt").write_text("x")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    with mltrail.start_run() as run:
        mltrail.log_artifact(str(f), "files")
        mltrail.log_artifacts(str(d), "dir")
        mltrail.log_text("text", "t.txt")
        mltrail.log_dict({"a": 1}, "d.json")
        mltrail.log_figure(fig, "fig.png")
        mltrail.log_image(np.zeros((2, 2, 3), dtype=np.uint8), "img.png")
        mltrail.log_image(np.zeros((2, 2), dtype=np.uint8), key="k", step=1)
        mltrail.log_table({"c": [1, 2]}, "table.json")
        uri = mltrail.get_artifact_uri("t.txt")
    plt.close(fig)
    dst = Path(fluent_api.download_artifacts(run.run_id, "", str(tmp_path / "dl")))
    assert (dst / "files" / "f.txt").read_text() == "file"
    assert (dst / "dir" / "x.txt").read_text() == "x"
    assert (dst / "t.txt").read_text() == "text"
    assert json.loads((dst / "d.json").read_text()) == {"a": 1}
    assert (dst / "fig.png").read_bytes().startswith(b"\x89PNG")
    assert (dst / "img.png").read_bytes().startswith(b"\x89PNG")
    assert len(list((dst / "images").glob("k+step+1+*.png"))) == 1
    assert json.loads((dst / "table.json").read_text()) == {"columns": ["c"], "data": [[1], [2]]}
    assert uri == f"{fluent_api.get_run(run.run_id).info.artifact_uri}/t.txt"


def test_log_input_records_datasets(fluent_api: TrackingClient) -> None:
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, 0.25, 0.0], "label": ["a", "b", "c"]})
    dataset = mltrail.data.from_pandas(df, source="s3://bucket/train.csv", name="train", targets="label")
    with mltrail.start_run() as run:
        mltrail.log_input(dataset, context="training", tags={"version": "2"})
        mltrail.log_input(mltrail.data.from_numpy(np.ones((4, 2))), context="eval")
    inputs = fluent_api.get_run(run.run_id).inputs.dataset_inputs
    by_name = {i.dataset.name: i for i in inputs}
    train = by_name["train"]
    assert train.dataset.digest == dataset.digest
    assert train.dataset.source_type == "s3"
    assert json.loads(train.dataset.source) == {"uri": "s3://bucket/train.csv"}
    assert json.loads(train.dataset.schema or "")["mlflow_colspec"][0] == {
        "type": "long",
        "name": "x",
        "required": True,
    }
    assert json.loads(train.dataset.profile or "") == {"num_rows": 3, "num_elements": 9}
    assert {(t.key, t.value) for t in train.tags} == {("mlflow.data.context", "training"), ("version", "2")}
    assert {(t.key, t.value) for t in by_name["dataset"].tags} == {("mlflow.data.context", "eval")}
    assert by_name["dataset"].dataset.source_type == "code"


def test_search_runs_to_dataframe_and_list(fluent_api: TrackingClient) -> None:
    exp = mltrail.set_experiment("searchable")
    ids = []
    for i in range(3):
        with mltrail.start_run(run_name=f"r{i}") as run:
            mltrail.log_metric("score", float(i))
            mltrail.log_param("i", i)
        ids.append(run.run_id)
    df = mltrail.search_runs(order_by=["metrics.score DESC"])
    assert isinstance(df, pd.DataFrame)
    assert list(df["run_id"]) == ids[::-1]
    for column in ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"):
        assert column in df.columns
    assert list(df["metrics.score"]) == [2.0, 1.0, 0.0]
    assert list(df["params.i"]) == ["2", "1", "0"]
    assert list(df["tags.mlflow.runName"]) == ["r2", "r1", "r0"]
    assert str(df["start_time"].dtype).startswith("datetime64") and df["start_time"].dt.tz is not None
    assert set(df["experiment_id"]) == {exp.experiment_id}
    runs = mltrail.search_runs(filter_string="metrics.score > 0.5", output_format="list")
    assert isinstance(runs, list) and all(isinstance(r, Run) for r in runs)
    assert {r.info.run_id for r in runs} == set(ids[1:])
    by_name = mltrail.search_runs(experiment_names=["searchable", "nope"], output_format="list")
    assert len(by_name) == 3
    everywhere = mltrail.search_runs(search_all_experiments=True, experiment_ids=None, output_format="list")
    assert {r.info.run_id for r in everywhere} >= set(ids)
    assert len(mltrail.search_runs(max_results=2, output_format="list")) == 2
    empty = mltrail.search_runs(experiment_ids=["0"])
    assert isinstance(empty, pd.DataFrame) and len(empty) == 0 and "run_id" in empty.columns
    assert len(mltrail.search_runs(run_view_type="all", output_format="list")) == 3
    assert mltrail.search_runs(run_view_type=2, output_format="list") == []
    with pytest.raises(InvalidArgumentError, match="run_view_type"):
        mltrail.search_runs(run_view_type="sideways")
    with pytest.raises(InvalidArgumentError):
        mltrail.search_runs(output_format="csv")  # type: ignore[call-overload]


def test_active_run_is_isolated_per_thread(fluent_api: TrackingClient) -> None:
    seen: dict[str, object] = {}
    with mltrail.start_run() as main_run:

        def worker() -> None:
            seen["before"] = mltrail.active_run()
            with mltrail.start_run() as thread_run:
                seen["inside"] = mltrail.active_run() is thread_run
                seen["thread_run"] = thread_run.run_id
            seen["after"] = mltrail.active_run()

        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert mltrail.active_run() is main_run
    assert seen["before"] is None and seen["inside"] is True and seen["after"] is None
    assert seen["thread_run"] != main_run.run_id


def test_active_run_follows_asyncio_tasks(fluent_api: TrackingClient) -> None:
    async def task(name: str) -> tuple[str, str | None, str | None]:
        with mltrail.start_run(run_name=name) as run:
            await asyncio.sleep(0.01)
            current = mltrail.active_run()
            mltrail.log_param("task", name)
            await asyncio.sleep(0.01)
            return run.run_id, current.run_id if current else None, name

    async def main() -> list[tuple[str, str | None, str | None]]:
        return await asyncio.gather(*(task(f"t{i}") for i in range(5)))

    results = asyncio.run(main())
    assert len({r[0] for r in results}) == 5
    for run_id, current, name in results:
        assert current == run_id
        assert fluent_api.get_run(run_id).data.params == {"task": name}
    assert mltrail.active_run() is None


def test_active_experiment_is_per_context(fluent_api: TrackingClient) -> None:
    exp = mltrail.set_experiment("ctx-exp")
    result: dict[str, str] = {}

    def worker() -> None:
        with mltrail.start_run() as run:
            result["exp"] = run.info.experiment_id

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert result["exp"] == "0"
    with mltrail.start_run() as run:
        assert run.info.experiment_id == exp.experiment_id


def test_tracking_uri_round_trip(fluent_api: TrackingClient, tracking_uri: str) -> None:
    assert mltrail.get_tracking_uri() == tracking_uri
    mltrail.flush()
