"""Schema enforcement at predict time: missing inputs, safe conversions, clear errors."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from mltrail.errors import BadRequestError, InvalidArgumentError
from mltrail.models.enforcement import enforce_params, enforce_schema
from mltrail.models.schema import (
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

COLUMNS = Schema(
    [
        ColSpec(DataType.long, "a"),
        ColSpec(DataType.double, "b"),
        ColSpec(DataType.string, "s", required=False),
    ]
)


def test_missing_required_column_names_it_and_the_extras() -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"Model is missing inputs \['b'\]\. .*extra inputs: \['x'\]"
    ):
        enforce_schema(pd.DataFrame({"a": [1], "x": [2]}), COLUMNS)


def test_optional_columns_may_be_absent_and_extras_are_dropped() -> None:
    out = enforce_schema(pd.DataFrame({"b": [1.0], "a": [1], "extra": ["z"]}), COLUMNS)
    assert list(out.columns) == ["a", "b"]


def test_safe_conversions_apply() -> None:
    out = enforce_schema(pd.DataFrame({"a": np.array([1], dtype=np.int32), "b": [2]}), COLUMNS)
    assert out["a"].dtype == np.int64
    assert out["b"].dtype == np.float64
    assert out["b"].tolist() == [2.0]


def test_lossy_conversion_is_a_bad_request() -> None:
    with pytest.raises(BadRequestError, match=r"column 'a'. Can not safely convert float64 to int64"):
        enforce_schema(pd.DataFrame({"a": [1.5], "b": [1.0]}), COLUMNS)


def test_strings_must_be_strings() -> None:
    with pytest.raises(BadRequestError, match="column 's'"):
        enforce_schema(pd.DataFrame({"a": [1], "b": [1.0], "s": [3]}), COLUMNS)


def test_required_column_with_missing_values() -> None:
    with pytest.raises(InvalidArgumentError, match="'b' is required but has missing values"):
        enforce_schema(pd.DataFrame({"a": [1, 2], "b": [1.0, None]}), COLUMNS)


def test_dict_list_and_records_inputs_become_frames() -> None:
    assert enforce_schema({"a": 1, "b": 2.0}, COLUMNS).to_dict("list") == {"a": [1], "b": [2.0]}
    assert enforce_schema({"a": [1, 2], "b": [1.0, 2.0]}, COLUMNS).shape == (2, 2)
    assert enforce_schema([{"a": 1, "b": 1.0}, {"a": 2, "b": 3.0}], COLUMNS)["a"].tolist() == [1, 2]
    strings = enforce_schema(["x", "y"], Schema([ColSpec(DataType.string)]))
    assert strings.iloc[:, 0].tolist() == ["x", "y"]


def test_object_typed_integers_convert_when_exact() -> None:
    out = enforce_schema(pd.DataFrame({"a": pd.Series([1, 2], dtype=object), "b": [1.0, 2.0]}), COLUMNS)
    assert out["a"].dtype == np.int64


def test_unnamed_schema_checks_column_count() -> None:
    schema = Schema([ColSpec(DataType.double), ColSpec(DataType.double)])
    with pytest.raises(InvalidArgumentError, match="declares 2 unnamed input"):
        enforce_schema(np.array([1.0, 2.0]), schema)
    out = enforce_schema(np.array([[1.0, 2.0, 3.0]]), schema)
    assert out.shape == (1, 2)


def test_datetime_columns_parse_strings() -> None:
    out = enforce_schema({"when": ["2024-01-01"]}, Schema([ColSpec(DataType.datetime, "when")]))
    assert str(out["when"].dtype).startswith("datetime64")
    with pytest.raises(BadRequestError, match="'when'"):
        enforce_schema({"when": ["not a date"]}, Schema([ColSpec(DataType.datetime, "when")]))


def test_nested_types() -> None:
    schema = Schema(
        [
            ColSpec(Array(DataType.long), "l"),
            ColSpec(Object((Property("k", DataType.string),)), "o"),
            ColSpec(Map(DataType.double), "m"),
        ]
    )
    good = {"l": [[1, 2], [3]], "o": [{"k": "v"}, {"k": "w"}], "m": [{"x": 1.0}, {}]}
    assert enforce_schema(good, schema).shape == (2, 3)
    with pytest.raises(BadRequestError, match="'l' expects long"):
        enforce_schema({"l": [["a"]], "o": [{"k": "v"}], "m": [{}]}, schema)
    with pytest.raises(InvalidArgumentError, match=r"missing required properties \['k'\]"):
        enforce_schema({"l": [[1]], "o": [{}], "m": [{}]}, schema)
    with pytest.raises(BadRequestError, match="not in the schema"):
        enforce_schema({"l": [[1]], "o": [{"k": "v", "z": 1}], "m": [{}]}, schema)
    with pytest.raises(BadRequestError, match="'m' expects objects"):
        enforce_schema({"l": [[1]], "o": [{"k": "v"}], "m": [3]}, schema)


def test_single_tensor_dtype_and_shape() -> None:
    schema = Schema([TensorSpec("float64", (-1, 2))])
    out = enforce_schema(np.array([[1, 2]], dtype=np.int32), schema)
    assert out.dtype == np.float64
    assert enforce_schema(pd.DataFrame({"x": [1.0], "y": [2.0]}), schema).shape == (1, 2)
    with pytest.raises(BadRequestError, match=r"Shape of input \(1, 3\)"):
        enforce_schema(np.zeros((1, 3)), schema)
    with pytest.raises(BadRequestError, match="dtype of input float64 does not match expected dtype int8"):
        enforce_schema(np.zeros((1, 2)), Schema([TensorSpec("int8", (-1, 2))]))


def test_named_tensors() -> None:
    schema = Schema([TensorSpec("int64", (-1,), "a"), TensorSpec("float32", (-1, 1), "b")])
    out = enforce_schema({"a": [1, 2], "b": np.zeros((2, 1), dtype=np.float32)}, schema)
    assert set(out) == {"a", "b"} and out["a"].dtype == np.int64
    with pytest.raises(InvalidArgumentError, match=r"Model is missing inputs \['b'\]"):
        enforce_schema({"a": [1]}, schema)


PARAMS = ParamSchema(
    [
        ParamSpec("k", DataType.long, 3),
        ParamSpec("temperature", DataType.double, 0.5),
        ParamSpec("stops", DataType.string, ["\n"], (-1,)),
        ParamSpec("when", DataType.datetime, "2024-01-01T00:00:00"),
    ]
)


def test_params_defaults_and_conversions() -> None:
    out = enforce_params({"temperature": 1, "stops": ["a", "b"], "when": "2025-02-03T04:05:06"}, PARAMS)
    assert out is not None
    assert out["k"] == 3
    assert out["temperature"] == 1.0 and isinstance(out["temperature"], float)
    assert out["stops"] == ["a", "b"]
    assert out["when"].year == 2025
    assert enforce_params(None, PARAMS) == {
        "k": 3,
        "temperature": 0.5,
        "stops": ["\n"],
        "when": "2024-01-01T00:00:00",
    }


def test_params_type_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="Param 'k' expects a long value, got str"):
        enforce_params({"k": "three"}, PARAMS)
    with pytest.raises(InvalidArgumentError, match="Param 'stops' must be a list"):
        enforce_params({"stops": "x"}, PARAMS)
    with pytest.raises(InvalidArgumentError, match="not an ISO datetime"):
        enforce_params({"when": "yesterday"}, PARAMS)


def test_unknown_params_are_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mltrail.models.enforcement"):
        out = enforce_params({"k": 1, "nope": 2}, PARAMS)
        assert enforce_params({"x": 1}, None) is None
    assert out is not None and "nope" not in out
    assert "Ignoring params not in the model's param schema: ['nope']" in caplog.text
    assert "declares no params" in caplog.text
