"""Datasets from pandas and numpy: digest, source, schema, profile, entity."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mltrail import data
from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import Dataset as DatasetEntity


def _frame(n: int = 5) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i64": np.arange(n, dtype=np.int64),
            "i32": np.arange(n, dtype=np.int32),
            "f64": np.linspace(0, 1, n),
            "f32": np.linspace(0, 1, n).astype(np.float32),
            "flag": [True, False] * (n // 2) + [True] * (n % 2),
            "text": [f"s{i}" for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n),
            "maybe": [1.0] + [None] * (n - 1),
        }
    )


def test_pandas_dataset_fields() -> None:
    df = _frame()
    ds = data.from_pandas(df, name="train", targets="flag")
    assert ds.name == "train" and ds.targets == "flag" and ds.df is df
    assert len(ds.digest) <= 36
    assert ds.schema == {
        "mlflow_colspec": [
            {"type": "long", "name": "i64", "required": True},
            {"type": "integer", "name": "i32", "required": True},
            {"type": "double", "name": "f64", "required": True},
            {"type": "float", "name": "f32", "required": True},
            {"type": "boolean", "name": "flag", "required": True},
            {"type": "string", "name": "text", "required": True},
            {"type": "datetime", "name": "when", "required": True},
            {"type": "double", "name": "maybe", "required": False},
        ]
    }
    assert ds.profile == {"num_rows": 5, "num_elements": 40}
    entity = ds.to_entity()
    assert isinstance(entity, DatasetEntity)
    assert entity.name == "train" and entity.digest == ds.digest and entity.source_type == "code"
    assert json.loads(entity.schema or "") == ds.schema
    assert json.loads(entity.profile or "") == ds.profile
    assert "mlflow.source.name" in json.loads(entity.source)["tags"]


def test_digest_is_stable_and_content_sensitive() -> None:
    a = data.from_pandas(_frame()).digest
    assert data.from_pandas(_frame()).digest == a
    changed = _frame()
    changed.loc[2, "f64"] = 99.0
    assert data.from_pandas(changed).digest != a
    renamed = _frame().rename(columns={"i64": "other"})
    assert data.from_pandas(renamed).digest != a
    assert data.from_pandas(_frame(6)).digest != a
    assert data.from_pandas(_frame(), digest="explicit").digest == "explicit"


def test_digest_of_a_big_frame_is_fast_and_sees_the_tail() -> None:
    n = 2_000_000
    df = pd.DataFrame({"a": np.arange(n), "b": np.random.default_rng(0).random(n)})
    start = time.perf_counter()
    digest = data.from_pandas(df).digest
    assert time.perf_counter() - start < 2.0
    df.loc[n - 1, "a"] = -1
    assert data.from_pandas(df).digest != digest


def test_unhashable_cells_still_get_a_digest_but_no_schema() -> None:
    df = pd.DataFrame({"lists": [[1, 2], [3]], "n": [1, 2]})
    ds = data.from_pandas(df)
    assert len(ds.digest) == 16
    assert ds.schema is None
    assert ds.to_entity().schema is None


@pytest.mark.parametrize(
    ("source", "source_type", "payload"),
    [
        ("s3://bucket/key.csv", "s3", {"uri": "s3://bucket/key.csv"}),
        ("https://example.com/d.csv", "http", {"url": "https://example.com/d.csv"}),
        ("/data/train.parquet", "local", {"uri": "/data/train.parquet"}),
        ("file:///data/train.parquet", "local", {"uri": "/data/train.parquet"}),
    ],
)
def test_sources(source: str, source_type: str, payload: dict[str, str]) -> None:
    ds = data.from_pandas(_frame(), source=source)
    assert ds.source_type == source_type
    assert json.loads(ds.to_entity().source) == payload


def test_relative_local_source_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ds = data.from_numpy(np.zeros(3), source="rel/data.npy")
    assert json.loads(ds.to_entity().source) == {"uri": str(tmp_path / "rel" / "data.npy")}


def test_numpy_dataset_fields() -> None:
    features = np.arange(12, dtype=np.float64).reshape(4, 3)
    targets = np.array([0, 1, 0, 1], dtype=np.int64)
    ds = data.from_numpy(features, targets=targets, name="np")
    assert ds.name == "np"
    spec = ds.schema["mlflow_tensorspec"]
    assert json.loads(spec["features"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}}
    ]
    assert json.loads(spec["targets"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]
    profile = ds.profile
    assert profile["num_rows"] == 4 and profile["num_elements"] == 12
    assert profile["features_shape"] == [4, 3] and profile["targets_size"] == 4
    assert data.from_numpy(features, targets=targets).digest == ds.digest
    assert data.from_numpy(features).digest != ds.digest
    assert data.from_numpy(features + 1, targets=targets).digest != ds.digest


def test_numpy_dict_features() -> None:
    ds = data.from_numpy({"b": np.zeros((2, 2)), "a": np.ones(2, dtype=np.int32)})
    specs = json.loads(ds.schema["mlflow_tensorspec"]["features"])
    assert [s["name"] for s in specs] == ["a", "b"]
    assert ds.profile["features_shape"] == {"a": [2], "b": [2, 2]}


def test_bad_inputs() -> None:
    with pytest.raises(InvalidArgumentError):
        data.from_pandas([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="Target column"):
        data.from_pandas(_frame(), targets="nope")
    with pytest.raises(InvalidArgumentError):
        data.from_numpy([1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        data.from_numpy({})
    with pytest.raises(InvalidArgumentError):
        data.from_pandas(_frame(), source=42)  # type: ignore[arg-type]
