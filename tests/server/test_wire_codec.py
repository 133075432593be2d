"""``mltrail.tracking.wire``: entities ↔ MLflow protobuf-JSON, and the server's artifact-root mapping."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError
from mltrail.server.deps import ServerContext
from mltrail.server.settings import ServerSettings
from mltrail.tracking import wire
from mltrail.tracking.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from mltrail.tracking.store.sql import SqlTrackingStore


def _run() -> Run:
    return Run(
        info=RunInfo(
            "r" * 32, "7", "name", "u", RunStatus.FINISHED, 10, 20, "mlflow-artifacts:/7/r/artifacts"
        ),
        data=RunData(
            latest_metrics=(Metric("m", math.inf, 5, 2), Metric("n", 0.0, 0, 0)),
            params={"p": "1"},
            tags={"t": "2"},
        ),
        inputs=RunInputs(
            dataset_inputs=(
                DatasetInput(Dataset("d", "x1", "local", "{}", schema="{}"), (InputTag("k", "v"),)),
            ),
            model_inputs=(ModelInput("m-1"),),
        ),
        outputs=RunOutputs(model_outputs=(ModelOutput("m-2", 3),)),
    )


def test_double_encoding() -> None:
    assert wire.encode_double(math.nan) == "NaN"
    assert wire.encode_double(math.inf) == "Infinity"
    assert wire.encode_double(-math.inf) == "-Infinity"
    assert wire.encode_double(1.5) == 1.5
    assert math.isnan(wire.decode_double("NaN"))
    assert wire.decode_double("-Infinity") == -math.inf
    assert wire.decode_double(3) == 3.0
    with pytest.raises(InvalidArgumentError):
        wire.decode_double(True)
    with pytest.raises(InvalidArgumentError):
        wire.decode_double("nope")


def test_run_round_trip_and_shape() -> None:
    run = _run()
    body = wire.run_to_dict(run)
    assert body["info"]["status"] == "FINISHED"
    assert body["info"]["run_uuid"] == body["info"]["run_id"]
    assert body["data"]["metrics"][0] == {"key": "m", "value": "Infinity", "timestamp": 5, "step": 2}
    assert body["data"]["metrics"][1] == {"key": "n", "value": 0.0, "timestamp": 0, "step": 0}
    assert body["inputs"]["dataset_inputs"][0] == {
        "tags": [{"key": "k", "value": "v"}],
        "dataset": {"name": "d", "digest": "x1", "source_type": "local", "source": "{}", "schema": "{}"},
    }
    decoded = wire.run_from_dict(wire.loads(wire.dumps(body)))
    assert decoded == run


def test_unset_fields_are_omitted_and_empty_messages_kept() -> None:
    info = RunInfo("a" * 32, "1", "n", "", RunStatus.RUNNING, None, None, "file:///x")
    body = wire.run_to_dict(Run(info))
    assert "start_time" not in body["info"] and "end_time" not in body["info"]
    assert body["info"]["user_id"] == ""
    assert body["data"] == {} and body["inputs"] == {} and body["outputs"] == {}


def test_experiment_round_trip_and_lenient_decoding() -> None:
    experiment = Experiment("3", "e", "s3://b/3", LifecycleStage.DELETED, 1, 2, {"k": "v"})
    assert wire.experiment_from_dict(wire.experiment_to_dict(experiment)) == experiment
    # int64 sent as strings (protobuf-JSON from other servers) and missing optional fields.
    decoded = wire.experiment_from_dict({"experiment_id": "4", "name": "x", "creation_time": "17"})
    assert decoded.creation_time == 17 and decoded.lifecycle_stage is LifecycleStage.ACTIVE
    assert wire.run_status_from_wire(3) is RunStatus.FINISHED


def test_metric_run_id_only_when_asked() -> None:
    metric = Metric("m", 1.0, 1, 1, run_id="r1", model_id="m-1")
    assert "run_id" not in wire.metric_to_dict(metric, with_run_id=False)
    assert wire.metric_to_dict(metric)["run_id"] == "r1"
    assert wire.metric_to_dict(metric)["model_id"] == "m-1"


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mlflow-artifacts:/1/r/artifacts", "1/r/artifacts"),
        ("mlflow-artifacts:/", ""),
        ("mlflow-artifacts://host:5000/2/r/artifacts", "2/r/artifacts"),
        ("http://h:5000/api/2.0/mlflow-artifacts/artifacts/3/r/artifacts", "3/r/artifacts"),
        ("https://h/prefix/api/2.0/mlflow-artifacts/artifacts/4", "4"),
        ("s3://bucket/5/r/artifacts", None),
        ("/local/5/r/artifacts", None),
        ("http://h/not/the/proxy", None),
    ],
)
def test_proxied_roots_map_to_destination_paths(tmp_path: Path, uri: str, expected: str | None) -> None:
    settings = ServerSettings(backend_store_uri="sqlite://", artifacts_destination=str(tmp_path))
    store = SqlTrackingStore(f"sqlite:///{tmp_path / 'db.sqlite'}", "mlflow-artifacts:/")
    try:
        context = ServerContext(settings=settings, tracking_settings=Settings(), store=store)
        assert context.proxied_path(uri) == expected
        with pytest.raises(InvalidArgumentError):
            context.proxied_path("mlflow-artifacts:/1/../../etc")
    finally:
        store.close()
