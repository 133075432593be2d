"""The MLmodel file: sorted keys, MLflow's key set, unknown keys preserved."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mltrail import __version__
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.model import MLFLOW_FORMAT_VERSION, Model
from mltrail.models.schema import ColSpec, DataType, ModelSignature, Schema

MLFLOW_WRITTEN = """\
artifact_path: model
databricks_runtime: '15.4'
flavors:
  python_function:
    loader_module: mlflow.pyfunc.model
    python_model: python_model.pkl
    python_version: 3.11.7
future_key:
  nested: [1, 2]
is_signature_from_type_hint: false
mlflow_version: 3.17.2
model_id: null
model_size_bytes: 1335
model_uuid: b74b2f33f2874438911927d2e13d75e8
prompts: null
run_id: 0123456789abcdef
signature:
  inputs: '[{"type": "long", "name": "a", "required": true}]'
  outputs: null
  params: null
type_hint_from_example: false
utc_time_created: '2026-11-27 14:32:12.590014'
"""


def test_reads_mlflow_file_and_keeps_unknown_keys() -> None:
    model = Model.from_yaml(MLFLOW_WRITTEN)
    assert model.run_id == "0123456789abcdef"
    assert model.artifact_path == "model"
    assert model.model_size_bytes == 1335
    assert model.mltrail_version is None
    assert model.signature == ModelSignature(inputs=Schema([ColSpec(DataType.long, "a")]))
    assert model.extras == {"databricks_runtime": "15.4", "future_key": {"nested": [1, 2]}}
    assert yaml.safe_load(model.to_yaml()) == yaml.safe_load(MLFLOW_WRITTEN)


def test_new_model_writes_sorted_keys_and_versions(tmp_path: Path) -> None:
    model = Model().add_flavor("python_function", loader_module="mltrail.pyfunc.model")
    model.save(tmp_path)
    text = (tmp_path / "MLmodel").read_text()
    top_keys = [line.split(":")[0] for line in text.splitlines() if line and not line.startswith(" ")]
    assert top_keys == sorted(top_keys)
    data = yaml.safe_load(text)
    assert data["mlflow_version"] == MLFLOW_FORMAT_VERSION
    assert data["mltrail_version"] == __version__
    assert data["model_id"] is None
    assert "run_id" not in data and "artifact_path" not in data
    assert len(data["model_uuid"]) == 32
    assert Model.load(tmp_path).to_dict() == model.to_dict()


def test_flavor_conf_errors_name_the_flavors() -> None:
    model = Model().add_flavor("sklearn", pickled_model="model.skops")
    assert model.flavor_conf("sklearn") == {"pickled_model": "model.skops"}
    with pytest.raises(NotFoundError, match=r"has no 'pytorch' flavor .*sklearn"):
        model.flavor_conf("pytorch")


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="No MLmodel file"):
        Model.load(tmp_path)
    (tmp_path / "MLmodel").write_text("- a list\n")
    with pytest.raises(InvalidArgumentError, match="YAML mapping"):
        Model.load(tmp_path)
    (tmp_path / "MLmodel").write_text("flavors: [1]\n")
    with pytest.raises(InvalidArgumentError, match="flavors"):
        Model.load(tmp_path / "MLmodel")
