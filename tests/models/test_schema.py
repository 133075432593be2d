"""Schema JSON: the exact strings MLflow stores, parsed and written back unchanged."""

from __future__ import annotations

import json

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

# Written by MLflow 3.17.2 (infer_signature on a DataFrame with these column kinds).
MLFLOW_INPUTS = (
    '[{"type": "long", "name": "a", "required": true}, {"type": "double", "name": "b", "required": true}, '
    '{"type": "string", "name": "s", "required": true}, {"type": "boolean", "name": "t", "required": true}, '
    '{"type": "datetime", "name": "d", "required": true}, '
    '{"type": "binary", "name": "bin", "required": true}, '
    '{"type": "array", "items": {"type": "long"}, "name": "l", "required": true}, {"type": "object", '
    '"properties": {"k": {"type": "long", "required": true}}, "name": "o", "required": true}]'
)
MLFLOW_TENSOR = '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]'
MLFLOW_NAMED_TENSOR = '[{"name": "a", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
MLFLOW_PARAMS = (
    '[{"name": "k", "default": 3, "shape": null, "type": "long"}, {"name": "arr", "default": [1, 2], '
    '"shape": [-1], "type": "long"}, '
    '{"name": "dt", "default": "2020-01-01", "shape": null, "type": "datetime"}]'
)


@pytest.mark.parametrize("text", [MLFLOW_INPUTS, MLFLOW_TENSOR, MLFLOW_NAMED_TENSOR])
def test_mlflow_schema_json_round_trips_byte_for_byte(text: str) -> None:
    assert Schema.from_json(text).to_json() == text


def test_mlflow_params_json_round_trips_byte_for_byte() -> None:
    assert ParamSchema.from_json(MLFLOW_PARAMS).to_json() == MLFLOW_PARAMS


def test_parsed_column_types() -> None:
    schema = Schema.from_json(MLFLOW_INPUTS)
    specs = {s.name: s for s in schema}
    assert specs["a"] == ColSpec(DataType.long, "a")
    assert specs["l"] == ColSpec(Array(DataType.long), "l")
    assert specs["o"] == ColSpec(Object((Property("k", DataType.long),)), "o")
    assert schema.input_names() == ["a", "b", "s", "t", "d", "bin", "l", "o"]
    assert not schema.is_tensor_spec()


def test_map_any_and_optional_columns() -> None:
    schema = Schema([ColSpec(Map(DataType.string), "m"), ColSpec(AnyType(), "x", required=False)])
    assert json.loads(schema.to_json()) == [
        {"type": "map", "values": {"type": "string"}, "name": "m", "required": True},
        {"type": "any", "name": "x", "required": False},
    ]
    assert schema.required_input_names() == ["m"]
    assert Schema.from_json(schema.to_json()) == schema


def test_object_properties_are_sorted_by_name() -> None:
    obj = Object((Property("z", DataType.string), Property("a", DataType.long, required=False)))
    assert list(obj.to_dict()["properties"]) == ["a", "z"]


def test_integer_names_written_by_mlflow_are_read_as_strings() -> None:
    schema = Schema.from_json('[{"type": "string", "name": 0, "required": true}]')
    assert schema.input_names() == ["0"]


def test_tensor_spec() -> None:
    schema = Schema.from_json(MLFLOW_TENSOR)
    assert schema.is_tensor_spec()
    assert schema.inputs[0] == TensorSpec("float64", (-1, 2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[{"type": "complex", "name": "a"}]', "Unknown schema type"),
        ("not json", "Malformed schema JSON"),
        ('{"type": "long"}', "must be a list"),
        ("[]", "at least one"),
        ('[{"type": "long", "name": "a"}, {"type": "long"}]', "all named or all unnamed"),
        (
            '[{"type": "long", "name": "a"}, {"name": "b", "type": "tensor", '
            '"tensor-spec": {"dtype": "int8", "shape": [-1]}}]',
            "cannot mix",
        ),
    ],
)
def test_malformed_schemas_are_rejected(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Schema.from_json(text)


def test_param_schema_rejects_duplicates_and_unknown_types() -> None:
    with pytest.raises(InvalidArgumentError, match="Duplicate"):
        ParamSchema([ParamSpec("a", DataType.long, 1), ParamSpec("a", DataType.long, 2)])
    with pytest.raises(InvalidArgumentError, match="Unknown param type"):
        ParamSchema.from_json('[{"name": "a", "default": 1, "shape": null, "type": "complex"}]')


def test_signature_dict_holds_json_strings() -> None:
    signature = ModelSignature(
        inputs=Schema.from_json(MLFLOW_TENSOR), params=ParamSchema.from_json(MLFLOW_PARAMS)
    )
    as_dict = signature.to_dict()
    assert as_dict == {"inputs": MLFLOW_TENSOR, "outputs": None, "params": MLFLOW_PARAMS}
    assert ModelSignature.from_dict(as_dict) == signature
