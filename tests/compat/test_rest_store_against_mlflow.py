"""mltrail's ``RestTrackingStore`` against a real ``mlflow server``: the protocol works both ways.

Starting MLflow's server takes tens of seconds here, so this module carries the ``slow`` mark.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mltrail.config import Settings
from mltrail.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    NotImplementedFeatureError,
)
from mltrail.tracking.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.tracking.store.rest import RestTrackingStore
from tests.support.live_server import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

pytest.importorskip("mlflow", reason="needs MLflow's server")


@pytest.fixture(scope="module")
def mlflow_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        [
            mlflow_bin,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--artifacts-destination",
            str(workdir / "artifacts"),
        ],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, (workdir / "server.log").read_text(errors="replace")
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not start within 180 s")
        yield url
    finally:
        # `mlflow server` runs uvicorn workers in its process group; stop the whole group.
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def test_rest_store_round_trip_and_errors(mlflow_url: str) -> None:
    store = RestTrackingStore(mlflow_url, Settings(http_max_retries=0))
    try:
        experiment_id = store.create_experiment("from-mltrail", tags=[("a", "b")])
        assert store.get_experiment(experiment_id).tags == {"a": "b"}
        run = store.create_run(
            experiment_id, user_id="u", start_time=5, tags=[RunTag("t", "v")], run_name="nm"
        )
        run_id = run.info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric("m", math.nan, 1, 0), Metric("m", 2.0, 2, 1)],
            params=[Param("p", "1")],
            tags=[RunTag("k", "v")],
        )
        context = (InputTag("mlflow.data.context", "train"),)
        store.log_inputs(run_id, datasets=[DatasetInput(Dataset("d", "dg", "local", "{}"), context)])

        fetched = store.get_run(run_id)
        assert fetched.info.run_name == "nm" and fetched.info.start_time == 5
        assert fetched.data.metrics == {"m": 2.0}
        assert fetched.data.params == {"p": "1"}
        assert fetched.inputs.dataset_inputs[0].dataset.name == "d"
        history = store.get_metric_history(run_id, "m").items
        assert math.isnan(history[0].value) and history[1].value == 2.0
        sampled = store.get_metric_history_bulk_interval([run_id], "m")
        assert {m.run_id for m in sampled} == {run_id}
        info = store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=10)
        assert info.status is RunStatus.FINISHED and info.end_time == 10
        assert len(store.search_runs([experiment_id], "metrics.m > 1", ViewType.ALL, 10)) == 1
        assert store.search_datasets([experiment_id])[0].context == "train"

        with pytest.raises(NotFoundError):
            store.get_run("0" * 32)
        with pytest.raises(AlreadyExistsError):
            store.create_experiment("from-mltrail")
        with pytest.raises(InvalidArgumentError):
            store.log_param(run_id, Param("p", "2"))
        with pytest.raises(NotImplementedFeatureError):
            store.purge_run(run_id)
        store.delete_experiment(experiment_id)
        with pytest.raises(InvalidStateError):
            store.rename_experiment(experiment_id, "other")
    finally:
        store.close()
