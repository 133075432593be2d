"""``mltrail.<flavor>.log_model``: a logged model per call, uploaded, finalized, linked to the run.

Every test runs against a SQLite store in ``tmp_path`` and against a live ``mltrail server`` whose
artifacts are proxied (``mlflow-artifacts:/``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.pyfunc
import mltrail.sklearn
from mltrail.errors import BackendError, InvalidArgumentError
from mltrail.models import ModelInfo
from mltrail.models.logging import upload_progress
from mltrail.models.model import Model
from mltrail.tracking.entities import ModelOutput
from mltrail.tracking.logged_models import LoggedModelStatus

from . import _logging_fixtures
from ._logging_fixtures import Backend

# The shared fixtures, made visible to pytest in this module.
backend = _logging_fixtures.backend
shared_server = _logging_fixtures.shared_server


class Doubler(mltrail.pyfunc.PythonModel):
    """Doubles a numeric column ``x``."""

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return (model_input["x"] * 2).to_numpy()


def _experiment() -> str:
    return mltrail.set_experiment(f"log-model-{uuid.uuid4().hex[:10]}").experiment_id


def _log_sklearn(
    logreg: LogisticRegression, iris: tuple[pd.DataFrame, pd.Series]
) -> tuple[ModelInfo, pd.DataFrame, Any]:
    features = iris[0].head(5)
    info = mltrail.sklearn.log_model(logreg, name="clf", input_example=features.head(2))
    return info, features, logreg.predict(features)


def _log_pyfunc(
    logreg: LogisticRegression, iris: tuple[pd.DataFrame, pd.Series]
) -> tuple[ModelInfo, pd.DataFrame, Any]:
    data = pd.DataFrame({"x": [1.0, 2.5, -3.0]})
    info = mltrail.pyfunc.log_model(name="doubler", python_model=Doubler(), input_example=data.head(1))
    return info, data, np.array([2.0, 5.0, -6.0])


def _log_torch(
    logreg: LogisticRegression, iris: tuple[pd.DataFrame, pd.Series]
) -> tuple[ModelInfo, np.ndarray, Any]:
    torch = pytest.importorskip("torch", reason="the pytorch flavor needs torch (mltrail[pytorch])")
    import mltrail.pytorch

    from ._tiny_models import tiny_net

    net = tiny_net()
    batch = np.random.default_rng(0).random((4, 4), dtype=np.float32)
    info = mltrail.pytorch.log_model(net, name="net", input_example=batch[:2])
    with torch.no_grad():
        expected = net(torch.from_numpy(batch)).numpy()
    return info, batch, expected


LOGGERS: dict[str, Callable[..., tuple[ModelInfo, Any, Any]]] = {
    "sklearn": _log_sklearn,
    "pyfunc": _log_pyfunc,
    "pytorch": _log_torch,
}


def _same(actual: Any, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("flavor", sorted(LOGGERS))
def test_log_model_creates_a_ready_model_linked_to_the_run(
    backend: Backend,
    flavor: str,
    logreg: LogisticRegression,
    iris: tuple[pd.DataFrame, pd.Series],
) -> None:
    experiment_id = _experiment()
    with mltrail.start_run() as run:
        info, data, expected = LOGGERS[flavor](logreg, iris)
    run_id = run.run_id

    assert info.model_uri == f"models:/{info.model_id}"
    assert info.model_id.startswith("m-")
    assert info.run_id == run_id
    assert "python_function" in info.flavors
    assert info.signature is not None

    model = backend.tracking.get_logged_model(info.model_id)
    assert model.status == LoggedModelStatus.READY
    assert model.source_run_id == run_id
    assert model.experiment_id == experiment_id
    assert model.name == info.name
    assert info.artifact_path == model.artifact_uri
    assert model.artifact_uri.endswith(f"/models/{info.model_id}/artifacts")
    if backend.kind == "server":
        assert model.artifact_uri.startswith("mlflow-artifacts:/")
    outputs = backend.tracking.get_run(run_id).outputs.model_outputs
    assert outputs == (ModelOutput(info.model_id, 0),)
    # MLflow 3 keeps the files only under the logged model: the run has no copy of its own.
    assert backend.tracking.list_artifacts(run_id) == []

    loaded_by_id = mltrail.pyfunc.load_model(info.model_uri, allow_pickle=flavor == "pyfunc")
    _same(loaded_by_id.predict(data), expected)
    assert loaded_by_id.metadata.model_id == info.model_id
    assert loaded_by_id.metadata.run_id == run_id
    assert loaded_by_id.metadata.artifact_path == model.artifact_uri
    loaded_by_run = mltrail.pyfunc.load_model(f"runs:/{run_id}/{info.name}", allow_pickle=flavor == "pyfunc")
    _same(loaded_by_run.predict(data), expected)


def test_native_sklearn_load_by_uri(
    backend: Backend, logreg: LogisticRegression, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    _experiment()
    with mltrail.start_run() as run:
        info, data, expected = _log_sklearn(logreg, iris)
    for uri in (info.model_uri, f"runs:/{run.run_id}/clf"):
        estimator = mltrail.sklearn.load_model(uri)
        assert isinstance(estimator, LogisticRegression)
        _same(estimator.predict(data), expected)


def test_params_tags_type_step_metrics_and_registration(
    backend: Backend, logreg: LogisticRegression, iris: tuple[pd.DataFrame, pd.Series]
) -> None:
    _experiment()
    registered = f"reg-{uuid.uuid4().hex[:10]}"
    with mltrail.start_run() as run:
        mltrail.log_param("C", 1.0)
        mltrail.log_metric("acc", 0.5, step=1)
        mltrail.log_metric("acc", 0.75, step=2)
        mltrail.flush()
        info = mltrail.sklearn.log_model(
            logreg,
            name="tuned",
            params={"max_iter": 500},
            tags={"team": "ml"},
            model_type="classifier",
            step=2,
            registered_model_name=registered,
        )
    model = backend.tracking.get_logged_model(info.model_id)
    assert model.params == {"C": "1.0", "max_iter": "500"}
    assert model.tags["team"] == "ml"
    assert model.tags["mlflow.user"]
    assert model.model_type == "classifier"
    assert [(m.key, m.value, m.step, m.run_id) for m in model.metrics] == [("acc", 0.75, 2, run.run_id)]
    assert backend.tracking.get_run(run.run_id).outputs.model_outputs == (ModelOutput(info.model_id, 2),)

    assert info.registered_model_version == "1"
    version = backend.registry.get_model_version(registered, "1")
    assert version.model_id == info.model_id
    assert version.run_id == run.run_id
    assert version.tags == {"team": "ml"}
    features = iris[0].head(4)
    _same(mltrail.pyfunc.load_model(f"models:/{registered}/1").predict(features), logreg.predict(features))


def test_without_a_run_the_model_goes_to_the_active_experiment(backend: Backend) -> None:
    experiment_id = _experiment()
    info = mltrail.pyfunc.log_model(name="free", python_model=Doubler())
    assert mltrail.active_run() is None
    assert info.run_id is None
    model = backend.tracking.get_logged_model(info.model_id)
    assert model.experiment_id == experiment_id
    assert model.source_run_id is None
    assert model.status == LoggedModelStatus.READY
    loaded = mltrail.pyfunc.load_model(info.model_uri, allow_pickle=True)
    _same(loaded.predict(pd.DataFrame({"x": [4.0]})), [8.0])


def test_explicit_client_and_artifact_path_alias(backend: Backend, tmp_path: Path) -> None:
    _experiment()
    with mltrail.start_run() as run:
        info = mltrail.pyfunc.log_model(
            artifact_path="old-style", python_model=Doubler(), client=backend.tracking
        )
    assert info.name == "old-style"
    assert backend.tracking.get_logged_model(info.model_id).source_run_id == run.run_id
    with pytest.raises(InvalidArgumentError, match="only one of name and artifact_path"):
        mltrail.pyfunc.log_model(name="a", artifact_path="b", python_model=Doubler())
    with pytest.raises(InvalidArgumentError, match="needs a python_model"):
        mltrail.pyfunc.log_model(name="none")
    with pytest.raises(InvalidArgumentError, match="Invalid model name"):
        mltrail.pyfunc.log_model(name="bad/name", python_model=Doubler())


def test_a_model_the_flavor_cannot_save_creates_no_logged_model(backend: Backend) -> None:
    experiment_id = _experiment()
    with mltrail.start_run(), pytest.raises(InvalidArgumentError):
        mltrail.sklearn.log_model(LogisticRegression(), name="bad", serialization_format="json")
    assert list(backend.tracking.search_logged_models([experiment_id])) == []


def test_a_failed_upload_marks_the_model_upload_failed(tmp_path: Path, backend: Backend) -> None:
    # The client writes a plain-path artifact location itself, server or not; a file there fails it.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the artifact root should be")
    experiment_id = mltrail.create_experiment(
        f"broken-{uuid.uuid4().hex[:8]}", artifact_location=str(blocker)
    )
    mltrail.set_experiment(experiment_id=experiment_id)
    with mltrail.start_run() as run, pytest.raises(BackendError):
        mltrail.pyfunc.log_model(name="doomed", python_model=Doubler())
    [model] = backend.tracking.search_logged_models([experiment_id])
    assert model.name == "doomed"
    assert model.status == LoggedModelStatus.UPLOAD_FAILED
    assert model.source_run_id == run.run_id
    assert backend.tracking.get_run(run.run_id).outputs.model_outputs == ()


def test_large_files_get_a_progress_bar_when_forced(
    backend: Backend, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _experiment()
    weights = tmp_path / "weights.bin"
    weights.write_bytes(bytes(range(256)) * 512)  # 128 KiB
    small = tmp_path / "notes.txt"
    small.write_text("tiny")
    with mltrail.start_run():
        with upload_progress(True, threshold=64 * 1024):
            info = mltrail.pyfunc.log_model(
                name="big",
                python_model=Doubler(),
                artifacts={"weights": str(weights), "notes": str(small)},
            )
        err = capsys.readouterr().err
        assert "weights.bin" in err
        assert "notes.txt" not in err
        mltrail.pyfunc.log_model(name="quiet", python_model=Doubler(), artifacts={"weights": str(weights)})
        assert "weights.bin" not in capsys.readouterr().err  # default: bars only on a terminal
    loaded = mltrail.pyfunc.load_model(info.model_uri, allow_pickle=True)
    local = Path(loaded.path)
    assert Model.load(local).model_id == info.model_id
    stored = sorted(p.name for p in local.rglob("weights.bin"))
    assert stored == ["weights.bin"]
    assert next(local.rglob("weights.bin")).read_bytes() == weights.read_bytes()
