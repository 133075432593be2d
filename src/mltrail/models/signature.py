"""Model signatures: the schema types, and inference from data and from ``predict`` type hints.

``infer_signature(model_input, model_output, params)`` reads pandas DataFrames and Series, numpy
arrays (and dicts of them), lists, dicts and scalars; ``signature_from_type_hints(func)`` reads
``list[...]`` hints such as ``list[str]`` or ``list[dict[str, int]]`` (spec MODELS-SERVING §3).
numpy and pandas are imported only when data of those kinds is inspected.
"""

from __future__ import annotations

import datetime as dt
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

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
    SpecType,
    TensorSpec,
)

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
    "infer_params_schema",
    "infer_schema",
    "infer_signature",
    "signature_from_type_hints",
]


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def _is_pandas(value: Any) -> bool:
    return type(value).__module__.startswith("pandas")


def _scalar_type(value: Any) -> DataType | None:
    """The column type of one Python or numpy scalar (``None`` when it is not a scalar)."""
    if isinstance(value, bool):
        return DataType.boolean
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, bytes | bytearray):
        return DataType.binary
    if isinstance(value, dt.datetime | dt.date):
        return DataType.datetime
    if _is_numpy(value) and hasattr(value, "dtype"):
        return _numpy_dtype_type(value.dtype)
    if _is_pandas(value) and type(value).__name__ == "Timestamp":
        return DataType.datetime
    return None


def _numpy_dtype_type(dtype: Any) -> DataType | None:
    kind = dtype.kind
    if kind == "b":
        return DataType.boolean
    if kind in "iu":
        return (
            DataType.long if dtype.itemsize > 4 or (kind == "u" and dtype.itemsize == 4) else DataType.integer
        )
    if kind == "f":
        return DataType.float if dtype.itemsize <= 4 else DataType.double
    if kind in "US":
        return DataType.string if kind == "U" else DataType.binary
    if kind == "M":
        return DataType.datetime
    return None


def _value_type(value: Any) -> SpecType:
    """The schema type of one JSON-like value (scalar, list or dict)."""
    scalar = _scalar_type(value)
    if scalar is not None:
        return scalar
    if _is_numpy(value) and hasattr(value, "tolist"):
        return _value_type(value.tolist())
    if isinstance(value, Mapping):
        if not value:
            return Map(AnyType())
        return Object(tuple(Property(str(k), _value_type(v), v is not None) for k, v in value.items()))
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return Array(_common_type([_value_type(v) for v in value if v is not None]))
    if value is None:
        return AnyType()
    raise InvalidArgumentError(f"Cannot infer a schema type for a value of type {type(value).__name__}")


def _common_type(found: list[SpecType]) -> SpecType:
    """One type covering every item of a list (objects merge; mixed scalars are rejected)."""
    if not found:
        return AnyType()
    first = found[0]
    if all(t == first for t in found):
        return first
    if all(isinstance(t, Object) for t in found):
        return _merge_objects([t for t in found if isinstance(t, Object)])
    numeric = {DataType.integer, DataType.long, DataType.float, DataType.double}
    if all(t in numeric for t in found):
        return (
            DataType.double if any(t in (DataType.float, DataType.double) for t in found) else DataType.long
        )
    raise InvalidArgumentError(f"Cannot infer one type for values of types {sorted({str(t) for t in found})}")


def _merge_objects(objects: list[Object]) -> Object:
    names: dict[str, list[SpecType]] = {}
    for obj in objects:
        for prop in obj.properties:
            names.setdefault(prop.name, []).append(prop.dtype)
    counts = {n: sum(1 for o in objects for p in o.properties if p.name == n) for n in names}
    return Object(tuple(Property(n, _common_type(ts), counts[n] == len(objects)) for n, ts in names.items()))


def _frame_column_type(column: Any) -> tuple[SpecType, bool]:
    """A pandas column's schema type and whether it has no missing values."""
    non_null = column.dropna()
    required = len(non_null) == len(column)
    scalar = _numpy_dtype_type(column.dtype) if hasattr(column.dtype, "kind") else None
    if scalar is not None and column.dtype.kind != "O":
        return scalar, required
    dtype_name = str(column.dtype)
    if dtype_name in ("string", "str") or dtype_name.startswith("string"):
        return DataType.string, required
    if dtype_name.startswith("datetime64"):
        return DataType.datetime, required
    if dtype_name == "boolean":
        return DataType.boolean, required
    if dtype_name.startswith(("Int", "UInt")):
        return (DataType.long if "64" in dtype_name else DataType.integer), required
    if dtype_name.startswith("Float"):
        return (DataType.double if "64" in dtype_name else DataType.float), required
    return _common_type([_value_type(v) for v in non_null.tolist()]), required


def _frame_schema(frame: Any) -> Schema:
    specs = []
    for name in frame.columns:
        dtype, required = _frame_column_type(frame[name])
        specs.append(ColSpec(dtype, str(name), required))
    return Schema(specs)


def _tensor_spec(array: Any, name: str | None = None) -> TensorSpec:
    if array.dtype.kind == "O":
        raise InvalidArgumentError(
            "Cannot infer a tensor schema from a numpy array of objects; convert it to a concrete dtype"
        )
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    return TensorSpec(str(array.dtype), tuple(int(d) for d in shape), name)


def infer_schema(data: Any) -> Schema:
    """Infer the schema of model input or output data.

    Args:
        data: A pandas DataFrame or Series, a numpy array, a dict of numpy arrays, a dict, a list
            of dicts, a list of scalars, or a scalar.

    Returns:
        A column-based schema, or a tensor-based one for numpy arrays.

    Raises:
        InvalidArgumentError: the data's type or values cannot be described.
    """
    if _is_pandas(data):
        kind = type(data).__name__
        if kind == "DataFrame":
            return _frame_schema(data)
        if kind == "Series":
            dtype, required = _frame_column_type(data)
            return Schema([ColSpec(dtype, None if data.name is None else str(data.name), required)])
    if _is_numpy(data) and hasattr(data, "ndim"):
        return Schema([_tensor_spec(data)])
    if isinstance(data, Mapping):
        if data and all(_is_numpy(v) and hasattr(v, "ndim") for v in data.values()):
            return Schema([_tensor_spec(v, str(k)) for k, v in data.items()])
        if not data:
            raise InvalidArgumentError("Cannot infer a schema from an empty dict")
        return Schema(ColSpec(_value_type(v), str(k), v is not None) for k, v in data.items())
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if not data:
            raise InvalidArgumentError("Cannot infer a schema from an empty list")
        if all(isinstance(v, Mapping) for v in data):
            merged = _merge_objects([_value_type(v) for v in data])  # type: ignore[misc]
            return Schema(ColSpec(p.dtype, p.name, p.required) for p in merged.properties)
        return Schema([ColSpec(_common_type([_value_type(v) for v in data if v is not None]))])
    scalar = _scalar_type(data)
    if scalar is not None:
        return Schema([ColSpec(scalar)])
    raise InvalidArgumentError(f"Cannot infer a schema from data of type {type(data).__name__}")


def infer_params_schema(params: Mapping[str, Any]) -> ParamSchema:
    """Infer a param schema whose defaults are the given values.

    Args:
        params: Parameter name to default: a scalar, or a list of scalars of one type.

    Raises:
        InvalidArgumentError: a value is not a scalar or a flat list of scalars.
    """
    specs = []
    for name, value in params.items():
        shape: tuple[int, ...] | None = None
        sample = value
        if _is_numpy(value) and getattr(value, "ndim", 0) == 1:
            value = value.tolist()
        if isinstance(value, list):
            shape = (-1,)
            types_found = {_scalar_type(v) for v in value}
            if len(types_found) != 1 or None in types_found:
                raise InvalidArgumentError(f"Param {name!r} must be a list of scalars of one type")
            sample = value[0]
        dtype = _scalar_type(sample)
        if dtype is None:
            raise InvalidArgumentError(
                f"Param {name!r} has unsupported type {type(sample).__name__}; "
                "params are scalars or lists of scalars"
            )
        if dtype is DataType.datetime:
            value = _datetime_iso(value)
        elif _is_numpy(value) and hasattr(value, "item"):
            value = value.item()
        specs.append(ParamSpec(str(name), dtype, value, shape))
    return ParamSchema(specs)


def _datetime_iso(value: Any) -> Any:
    if isinstance(value, list):
        return [_datetime_iso(v) for v in value]
    if _is_numpy(value):
        return str(value)
    return value.isoformat()


def infer_signature(
    model_input: Any = None,
    model_output: Any = None,
    params: Mapping[str, Any] | None = None,
) -> ModelSignature:
    """Infer a signature from example input, output and params.

    Args:
        model_input: Example input (see :func:`infer_schema`), or ``None``.
        model_output: Example output, or ``None``.
        params: Example inference parameters with their defaults, or ``None``.

    Returns:
        The signature; parts without an example are ``None``.
    """
    return ModelSignature(
        inputs=None if model_input is None else infer_schema(model_input),
        outputs=None if model_output is None else infer_schema(model_output),
        params=infer_params_schema(params) if params else None,
    )


_HINT_SCALARS: dict[Any, DataType] = {
    bool: DataType.boolean,
    int: DataType.long,
    float: DataType.double,
    str: DataType.string,
    bytes: DataType.binary,
    dt.datetime: DataType.datetime,
}


def _hint_type(hint: Any) -> tuple[SpecType, bool]:
    """The schema type of one type hint, and whether a value is required (not Optional)."""
    if hint is Any:
        return AnyType(), True
    if hint in _HINT_SCALARS:
        return _HINT_SCALARS[hint], True
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _hint_type(rest[0])[0], len(rest) == len(args)
        raise InvalidArgumentError(f"Union type hints other than Optional are not supported: {hint!r}")
    if origin is list and len(args) == 1:
        return Array(_hint_type(args[0])[0]), True
    if origin is dict and len(args) == 2 and args[0] is str:
        return Map(_hint_type(args[1])[0]), True
    if isinstance(hint, type) and hasattr(hint, "model_fields"):  # a pydantic model
        fields = hint.model_fields
        return (
            Object(
                tuple(
                    Property(name, _hint_type(f.annotation)[0], f.is_required()) for name, f in fields.items()
                )
            ),
            True,
        )
    if typing.is_typeddict(hint):
        required: frozenset[str] = getattr(hint, "__required_keys__", frozenset())
        return (
            Object(
                tuple(
                    Property(name, _hint_type(t)[0], name in required)
                    for name, t in typing.get_type_hints(hint).items()
                )
            ),
            True,
        )
    raise InvalidArgumentError(f"Type hint {hint!r} cannot be turned into a schema")


def _hint_schema(hint: Any) -> Schema | None:
    if typing.get_origin(hint) is not list:
        return None
    (item,) = typing.get_args(hint) or (Any,)
    dtype, required = _hint_type(item)
    return Schema([ColSpec(dtype, None, required)])


def predict_hints(func: Callable[..., Any]) -> tuple[Any, Any]:
    """The input and output type hints of a ``predict`` function (``None`` when absent).

    The input is the first parameter that is not ``self``/``context``/``params``.
    """
    try:
        hints = typing.get_type_hints(func)
    except (NameError, TypeError):
        return None, None
    names = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.name not in ("self", "context", "params") and p.kind is not p.VAR_KEYWORD
    ]
    input_hint = hints.get(names[0]) if names else None
    return input_hint, hints.get("return")


def signature_from_type_hints(func: Callable[..., Any]) -> ModelSignature | None:
    """Build a signature from a ``predict`` function's ``list[...]`` type hints.

    Args:
        func: The ``predict`` function or bound method.

    Returns:
        The signature, or ``None`` when the input is not hinted as a ``list[...]``.

    Raises:
        InvalidArgumentError: a ``list[...]`` hint names a type that has no schema form.
    """
    input_hint, output_hint = predict_hints(func)
    inputs = _hint_schema(input_hint)
    if inputs is None:
        return None
    return ModelSignature(inputs=inputs, outputs=_hint_schema(output_hint))
