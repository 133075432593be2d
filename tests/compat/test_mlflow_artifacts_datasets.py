"""MLflow's own client against a live mltrail server: artifacts through the proxy and datasets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

mlflow = pytest.importorskip("mlflow", reason="the compatibility tests drive the real mlflow client")
pd = pytest.importorskip("pandas")
from mlflow import MlflowClient  # noqa: E402

from tests.compat.conftest import unique  # noqa: E402


def test_artifacts_through_the_proxy(tracking_uri: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "nested" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "nested" / "b.json").write_text('{"b": 1}')
    (src / "nested" / "deeper" / "c.bin").write_bytes(bytes(range(256)) * 1000)
    single = tmp_path / "single.txt"
    single.write_text("one file")

    mlflow.set_experiment(unique("artifacts"))
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="copies")
        mlflow.log_artifacts(str(src), artifact_path="tree")
        mlflow.log_text("some text", "notes/readme.md")
        mlflow.log_dict({"k": [1, 2]}, "config.json")
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

    client = MlflowClient(tracking_uri)
    top = {f.path: f.is_dir for f in client.list_artifacts(run_id)}
    assert top == {"single.txt": False, "copies": True, "tree": True, "notes": True, "config.json": False}
    # The client lists the parent of the URI and prefixes the entries with the last segment.
    nested = mlflow.artifacts.list_artifacts(artifact_uri=f"{run.info.artifact_uri}/tree/nested")
    assert {(f.path, f.is_dir) for f in nested} == {
        ("nested/b.json", False),
        ("nested/deeper", True),
    }

    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="tree", dst_path=str(tmp_path / "dl")
    )
    assert Path(local, "a.txt").read_text() == "alpha"
    assert Path(local, "nested", "b.json").read_text() == '{"b": 1}'
    assert Path(local, "nested", "deeper", "c.bin").read_bytes() == bytes(range(256)) * 1000
    text = mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.md")
    assert text == "some text"
    assert json.loads(Path(client.download_artifacts(run_id, "config.json", str(tmp_path))).read_text()) == {
        "k": [1, 2]
    }


def test_datasets_are_logged_and_searchable(tracking_uri: str) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0.0, 1.0, 0.0]})
    dataset = mlflow.data.from_pandas(frame, name=unique("ds"), targets="y")
    experiment = mlflow.set_experiment(unique("datasets"))
    with mlflow.start_run() as with_data:
        mlflow.log_input(dataset, context="training")
    with mlflow.start_run():
        pass

    run = mlflow.get_run(with_data.info.run_id)
    inputs = run.inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == dataset.name
    assert inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"

    client = MlflowClient(tracking_uri)
    found = client.search_runs([experiment.experiment_id], f"dataset.name = '{dataset.name}'")
    assert [r.info.run_id for r in found] == [with_data.info.run_id]
    found = client.search_runs([experiment.experiment_id], "dataset.context = 'training'")
    assert [r.info.run_id for r in found] == [with_data.info.run_id]
