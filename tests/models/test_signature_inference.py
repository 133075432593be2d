"""Signature inference from each input kind, from params and from ``predict`` type hints."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Optional, TypedDict

import numpy as np
import pandas as pd
import pydantic
import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.models.schema import Array, ColSpec, DataType, Map, Object, Property, Schema, TensorSpec
from mltrail.models.signature import (
    infer_params_schema,
    infer_schema,
    infer_signature,
    signature_from_type_hints,
)


def test_dataframe_columns() -> None:
    frame = pd.DataFrame(
        {
            "i": np.array([1, 2], dtype=np.int64),
            "i32": np.array([1, 2], dtype=np.int32),
            "f": [1.5, 2.5],
            "f32": np.array([1, 2], dtype=np.float32),
            "s": ["x", "y"],
            "b": [True, False],
            "d": pd.to_datetime(["2020-01-01", "2021-01-01"]),
            "bin": [b"a", b"b"],
            "l": [[1, 2], [3]],
            "o": [{"k": 1}, {"k": 2}],
            "n": [1.0, None],
        }
    )
    schema = infer_schema(frame)
    assert list(schema) == [
        ColSpec(DataType.long, "i"),
        ColSpec(DataType.integer, "i32"),
        ColSpec(DataType.double, "f"),
        ColSpec(DataType.float, "f32"),
        ColSpec(DataType.string, "s"),
        ColSpec(DataType.boolean, "b"),
        ColSpec(DataType.datetime, "d"),
        ColSpec(DataType.binary, "bin"),
        ColSpec(Array(DataType.long), "l"),
        ColSpec(Object((Property("k", DataType.long),)), "o"),
        ColSpec(DataType.double, "n", required=False),
    ]


def test_series_is_one_column_named_like_the_series() -> None:
    assert list(infer_schema(pd.Series([1, 2]))) == [ColSpec(DataType.long)]
    assert (
        infer_schema(pd.Series([1, 2], name="p")).to_json()
        == '[{"type": "long", "name": "p", "required": true}]'
    )


def test_numpy_array_is_a_tensor_with_variable_batch() -> None:
    assert list(infer_schema(np.zeros((2, 3), dtype=np.float32))) == [TensorSpec("float32", (-1, 3))]


def test_dict_of_arrays_is_named_tensors() -> None:
    schema = infer_schema({"a": np.array([1, 2]), "b": np.array([[1.0]])})
    assert schema.to_json() == (
        '[{"name": "a", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}, '
        '{"name": "b", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 1]}}]'
    )


def test_dict_and_lists_match_mlflow() -> None:
    assert infer_schema({"a": "x", "b": [1, 2]}).to_json() == (
        '[{"type": "string", "name": "a", "required": true}, '
        '{"type": "array", "items": {"type": "long"}, "name": "b", "required": true}]'
    )
    assert infer_schema(["hi"]).to_json() == '[{"type": "string", "required": true}]'
    assert infer_schema("hi").to_json() == '[{"type": "string", "required": true}]'
    assert infer_schema([{"a": "x", "b": 1}]).to_json() == (
        '[{"type": "string", "name": "a", "required": true}, {"type": "long", "name": "b", "required": true}]'
    )


def test_list_of_dicts_marks_keys_missing_somewhere_optional() -> None:
    schema = infer_schema([{"a": 1, "b": "x"}, {"a": 2}])
    assert list(schema) == [ColSpec(DataType.long, "a"), ColSpec(DataType.string, "b", required=False)]


def test_mixed_numbers_widen_and_mixed_kinds_fail() -> None:
    assert list(infer_schema([1, 2.5])) == [ColSpec(DataType.double)]
    with pytest.raises(InvalidArgumentError, match="Cannot infer one type"):
        infer_schema([1, "x"])


@pytest.mark.parametrize("bad", [[], {}, object(), np.array([object()])])
def test_uninferable_data(bad: Any) -> None:
    with pytest.raises(InvalidArgumentError):
        infer_schema(bad)


def test_params_schema_matches_mlflow() -> None:
    params = {"k": 3, "f": 1.5, "s": "x", "b": True, "arr": [1, 2], "dt": np.datetime64("2020-01-01")}
    assert infer_params_schema(params).to_json() == (
        '[{"name": "k", "default": 3, "shape": null, "type": "long"}, '
        '{"name": "f", "default": 1.5, "shape": null, "type": "double"}, '
        '{"name": "s", "default": "x", "shape": null, "type": "string"}, '
        '{"name": "b", "default": true, "shape": null, "type": "boolean"}, '
        '{"name": "arr", "default": [1, 2], "shape": [-1], "type": "long"}, '
        '{"name": "dt", "default": "2020-01-01", "shape": null, "type": "datetime"}]'
    )
    assert (
        infer_params_schema({"when": dt.datetime(2024, 1, 2, 3, 4)}).to_dict()[0]["default"]
        == "2024-01-02T03:04:00"
    )


def test_params_schema_rejects_nested_values() -> None:
    with pytest.raises(InvalidArgumentError, match="list of scalars"):
        infer_params_schema({"x": [1, "a"]})
    with pytest.raises(InvalidArgumentError, match="unsupported type"):
        infer_params_schema({"x": {"a": 1}})


def test_infer_signature_combines_parts() -> None:
    signature = infer_signature(pd.DataFrame({"a": [1]}), np.array([0.5]), {"k": 1})
    assert signature.to_dict() == {
        "inputs": '[{"type": "long", "name": "a", "required": true}]',
        "outputs": '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]',
        "params": '[{"name": "k", "default": 1, "shape": null, "type": "long"}]',
    }
    assert infer_signature(["a"]).outputs is None


class Message(pydantic.BaseModel):
    role: str
    content: str
    weight: float | None = None


class Row(TypedDict):
    text: str
    score: float


class Hinted:
    def list_str(self, model_input: list[str], params: dict[str, Any] | None = None) -> list[str]:
        return model_input

    def with_context(self, context: Any, model_input: list[dict[str, int]]) -> list[int]:
        return []

    def messages(self, model_input: list[Message]) -> list[Optional[str]]:  # noqa: UP045
        return []

    def typed(self, model_input: list[Row]) -> list[Any]:
        return []

    def frame(self, model_input: pd.DataFrame) -> pd.DataFrame:
        return model_input

    def none(self, model_input):  # type: ignore[no-untyped-def]
        return model_input

    def unsupported(self, model_input: list[complex]) -> list[str]:
        return []


def test_type_hints_list_of_str_matches_mlflow() -> None:
    signature = signature_from_type_hints(Hinted().list_str)
    assert signature is not None
    assert signature.to_dict() == {
        "inputs": '[{"type": "string", "required": true}]',
        "outputs": '[{"type": "string", "required": true}]',
        "params": None,
    }


def test_type_hints_nested_pydantic_and_typed_dict() -> None:
    hinted = Hinted()
    with_context = signature_from_type_hints(hinted.with_context)
    assert with_context is not None and with_context.inputs == Schema([ColSpec(Map(DataType.long))])
    messages = signature_from_type_hints(hinted.messages)
    assert messages is not None and messages.inputs is not None
    assert json.loads(messages.inputs.to_json()) == [
        {
            "type": "object",
            "properties": {
                "content": {"type": "string", "required": True},
                "role": {"type": "string", "required": True},
                "weight": {"type": "double", "required": False},
            },
            "required": True,
        }
    ]
    assert messages.outputs == Schema([ColSpec(DataType.string, required=False)])
    typed = signature_from_type_hints(hinted.typed)
    assert typed is not None and typed.inputs == Schema(
        [ColSpec(Object((Property("text", DataType.string), Property("score", DataType.double))))]
    )


def test_non_list_hints_give_no_signature_and_unsupported_ones_fail() -> None:
    assert signature_from_type_hints(Hinted().frame) is None
    assert signature_from_type_hints(Hinted().none) is None
    with pytest.raises(InvalidArgumentError, match="cannot be turned into a schema"):
        signature_from_type_hints(Hinted().unsupported)
