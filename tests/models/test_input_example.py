"""input_example.json and serving_input_example.json for each example kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.models.input_example import load_input_example, load_input_example_params, save_input_example
from mltrail.models.model import Model


def _save(tmp_path: Path, example: Any) -> tuple[Model, Any, Any]:
    model = Model()
    save_input_example(model, example, tmp_path)
    return (
        model,
        json.loads((tmp_path / "input_example.json").read_text()),
        json.loads((tmp_path / "serving_input_example.json").read_text()),
    )


def test_dataframe_example(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "s": ["x", "y"]})
    model, stored, serving = _save(tmp_path, frame)
    assert model.saved_input_example_info == {
        "artifact_path": "input_example.json",
        "serving_input_path": "serving_input_example.json",
        "type": "dataframe",
        "pandas_orient": "split",
    }
    assert stored == {"columns": ["a", "s"], "data": [[1, "x"], [2, "y"]]}
    assert serving == {"dataframe_split": stored}
    assert (tmp_path / "serving_input_example.json").read_text().startswith('{\n  "dataframe_split"')
    pd.testing.assert_frame_equal(load_input_example(model, tmp_path), frame)


def test_ndarray_example(tmp_path: Path) -> None:
    model, stored, serving = _save(tmp_path, np.zeros((2, 2)))
    assert model.saved_input_example_info is not None
    assert model.saved_input_example_info["type"] == "ndarray"
    assert stored == [[0.0, 0.0], [0.0, 0.0]]
    assert serving == {"inputs": stored}
    np.testing.assert_array_equal(load_input_example(model, tmp_path), np.zeros((2, 2)))


@pytest.mark.parametrize("example", [["hi"], {"a": "x", "b": [1, 2]}, "text"])
def test_json_examples(tmp_path: Path, example: Any) -> None:
    model, stored, serving = _save(tmp_path, example)
    assert model.saved_input_example_info is not None
    assert model.saved_input_example_info["type"] == "json_object"
    assert stored == example
    assert serving == {"inputs": example}
    assert load_input_example(model, tmp_path) == example
    assert load_input_example_params(model, tmp_path) is None


def test_example_with_params(tmp_path: Path) -> None:
    model, stored, serving = _save(tmp_path, (pd.DataFrame({"a": [1]}), {"k": 1}))
    assert model.saved_input_example_info is not None
    assert model.saved_input_example_info["params"] == "true"
    assert stored == {"inputs": {"columns": ["a"], "data": [[1]]}, "params": {"k": 1}}
    assert serving == {"dataframe_split": {"columns": ["a"], "data": [[1]]}, "params": {"k": 1}}
    assert load_input_example(model, tmp_path).to_dict("list") == {"a": [1]}
    assert load_input_example_params(model, tmp_path) == {"k": 1}


def test_model_without_example(tmp_path: Path) -> None:
    assert load_input_example(Model(), tmp_path) is None


def test_unsupported_example(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="Unsupported input example type"):
        save_input_example(Model(), object(), tmp_path)
