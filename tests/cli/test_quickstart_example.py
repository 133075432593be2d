"""examples/quickstart.py, run as a user would, and the bench smoke run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from mltrail import _plugins
from mltrail.config import Settings
from mltrail.db import dispose_database
from mltrail.tracking.entities import RunStatus

REPO = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    env["PYTHONPATH"] = str(REPO / "src")
    env["MPLBACKEND"] = "Agg"
    env.update(extra)
    return env


def test_quickstart_records_a_run_in_the_embedded_store(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    match = re.search(r"Recorded run ([0-9a-f]{32}) \(sgd-logistic\), status FINISHED", out)
    assert match, out
    run_id = match.group(1)
    assert "tracking URI: sqlite:///mltrail.db" in out
    assert "alpha = 0.001" in out
    assert re.search(r"val_loss = \d\.\d{4} \(step 39, 40 points\)", out)
    assert "dataset input: wine" in out and "context training" in out
    assert "figures/confusion_matrix.png" in out
    assert "reports/classification_report.txt" in out
    assert f"mltrail runs describe {run_id}" in out

    # The default store is a SQLite file in the working directory, artifacts beside it.
    db_uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    settings = Settings(tracking_uri=db_uri, artifact_root=str(tmp_path / "mltrail-artifacts"))
    store = _plugins.resolve_tracking_store(db_uri, settings)
    try:
        run = store.get_run(run_id)
        assert run.info.status == RunStatus.FINISHED
        assert store.get_experiment(run.info.experiment_id).name == "quickstart-wine"
        assert run.data.params["epochs"] == "40"
        assert run.data.tags["model_family"] == "linear"
        assert run.data.tags["mlflow.note.content"].startswith("SGD logistic regression")
        assert 0.8 < run.data.metrics["test_accuracy"] <= 1.0
        history = store.get_metric_history(run_id, "val_loss")
        assert [m.step for m in history.items] == list(range(40))
        [dataset_input] = run.inputs.dataset_inputs
        assert dataset_input.dataset.name == "wine"
        assert {(t.key, t.value) for t in dataset_input.tags} == {("mlflow.data.context", "training")}
        assert '"num_rows": 178' in (dataset_input.dataset.profile or "")
        repo = _plugins.resolve_artifact_repository(run.info.artifact_uri)
        report = repo.open_chunks("reports/classification_report.txt")
        assert b"class_0" in b"".join(report)
        png = b"".join(repo.open_chunks("figures/confusion_matrix.png"))
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert run.info.artifact_uri.startswith(str(tmp_path / "mltrail-artifacts"))
    finally:
        store.close()
        dispose_database(db_uri)


def test_quickstart_honours_mltrail_tracking_uri(tmp_path: Path) -> None:
    db_path = tmp_path / "elsewhere" / "runs.db"
    db_path.parent.mkdir()
    uri = f"sqlite:///{db_path}"
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "quickstart.py")],
        cwd=tmp_path,
        env=_env(MLTRAIL_TRACKING_URI=uri),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"tracking URI: {uri}" in proc.stdout
    assert db_path.exists()
    assert not (tmp_path / "mltrail.db").exists()


def test_bench_quick_smoke_without_mlflow() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "tracking_local.py"), "--quick", "--skip-mlflow"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("log_metric x2,000") and "pts/s" in line for line in lines)
    assert any(line.startswith("log_batch 20,000 points") for line in lines)
    assert any(line.startswith("search_runs over 1,000 runs") and "runs)" in line for line in lines)
