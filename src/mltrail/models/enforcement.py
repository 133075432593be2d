"""Schema enforcement at predict time: check and convert input data and params.

Column-based schemas turn the input into a pandas DataFrame with the schema's columns, converting
types only where no information is lost; tensor-based schemas yield numpy arrays of the declared
dtype and shape. A missing column raises :class:`InvalidArgumentError` ("Model is missing inputs
[...]"); a value that cannot be converted raises :class:`BadRequestError`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.errors import BadRequestError, InvalidArgumentError, MissingDependencyError
from mltrail.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    SpecType,
    TensorSpec,
)

__all__ = ["check_value", "enforce_params", "enforce_schema"]

_logger = logging.getLogger(__name__)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas ships with the extras that use models
        raise MissingDependencyError("pandas", "pyfunc") from exc
    return pandas


def _numpy() -> Any:
    try:
        import numpy
    except ImportError as exc:  # pragma: no cover
        raise MissingDependencyError("numpy", "pyfunc") from exc
    return numpy


def enforce_schema(data: Any, schema: Schema) -> Any:
    """Check ``data`` against ``schema`` and convert it to what the model expects.

    Args:
        data: The predict input: a DataFrame, Series, numpy array, dict, list or scalar.
        schema: The model's input schema.

    Returns:
        A pandas DataFrame for a column-based schema; a numpy array (one unnamed tensor) or a
        dict of numpy arrays (named tensors) for a tensor-based schema.

    Raises:
        InvalidArgumentError: a required input is missing.
        BadRequestError: a value cannot be converted to the declared type or shape.
    """
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


# -- columns ------------------------------------------------------------------------------------


def _is_listlike(value: Any) -> bool:
    return (isinstance(value, Sequence) and not isinstance(value, str | bytes)) or hasattr(value, "ndim")


def _to_frame(data: Any, schema: Schema) -> Any:
    pd = _pandas()
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    names = schema.input_names()
    if isinstance(data, Mapping):
        types = {spec.name: spec.type for spec in schema.inputs if isinstance(spec, ColSpec)}
        columnar = bool(data) and all(
            _is_listlike(v) and (not isinstance(types.get(str(k)), Array) or _nested(v))
            for k, v in data.items()
        )
        if columnar:
            return pd.DataFrame({k: list(v) for k, v in data.items()})
        return pd.DataFrame([dict(data)])
    if hasattr(data, "ndim"):
        array = data.reshape(-1, 1) if data.ndim == 1 else data
        if array.ndim != 2:
            raise BadRequestError(f"A column-based schema needs 1-D or 2-D array input, got {data.ndim}-D")
        columns = names if names and len(names) == array.shape[1] else None
        return pd.DataFrame(array, columns=columns)
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        if data and all(isinstance(v, Mapping) for v in data):
            return pd.DataFrame(list(data))
        column = names[0] if len(names) == 1 else 0
        return pd.DataFrame({column: list(data)})
    column = names[0] if len(names) == 1 else 0
    return pd.DataFrame({column: [data]})


def _nested(value: Any) -> bool:
    return all(_is_listlike(v) for v in value)


def _enforce_columns(data: Any, schema: Schema) -> Any:
    frame = _to_frame(data, schema)
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if schema.has_input_names():
        columns = [str(c) for c in frame.columns]
        frame = frame.set_axis(columns, axis=1)
        missing = [n for n in schema.required_input_names() if n not in columns]
        if missing:
            extra = [c for c in columns if c not in schema.input_names()]
            note = f" Note that there were extra inputs: {extra}." if extra else ""
            raise InvalidArgumentError(f"Model is missing inputs {missing}.{note}")
        present = [s for s in specs if s.name in columns]
        out = frame[[s.name for s in present]].copy()
        for spec in present:
            assert spec.name is not None
            out[spec.name] = _convert_column(out[spec.name], spec)
        return out
    required = sum(1 for s in specs if s.required)
    if frame.shape[1] < required:
        raise InvalidArgumentError(
            f"Model is missing inputs: the signature declares {len(specs)} unnamed input(s) "
            f"({required} required) but the data has {frame.shape[1]} column(s)."
        )
    out = frame.iloc[:, : len(specs)].copy()
    for index, spec in enumerate(specs[: out.shape[1]]):
        out.isetitem(index, _convert_column(out.iloc[:, index], spec))
    return out


def _column_label(spec: ColSpec) -> str:
    return repr(spec.name) if spec.name is not None else "(unnamed)"


def _convert_column(column: Any, spec: ColSpec) -> Any:
    pd = _pandas()
    np = _numpy()
    label = _column_label(spec)
    if column.isna().any():
        if spec.required:
            raise InvalidArgumentError(f"Column {label} is required but has missing values")
        return column
    dtype = spec.type
    if isinstance(dtype, DataType):
        if dtype is DataType.datetime:
            try:
                return pd.to_datetime(column)
            except (ValueError, TypeError) as exc:
                raise BadRequestError(f"Incompatible input types for column {label}: {exc}") from exc
        if dtype in (DataType.string, DataType.binary):
            wanted = str if dtype is DataType.string else (bytes, bytearray)
            if column.dtype.kind in "OUS" or str(column.dtype).startswith(("str", "string")):
                bad = [v for v in column.tolist() if not isinstance(v, wanted)]
                if not bad:
                    return column
            raise BadRequestError(
                f"Incompatible input types for column {label}. Can not safely convert "
                f"{column.dtype} to {dtype.value}."
            )
        target = np.dtype(dtype.to_numpy_name())
        source = column.dtype
        if source.kind == "O":
            try:
                converted = column.astype(target)
            except (ValueError, TypeError) as exc:
                raise BadRequestError(f"Incompatible input types for column {label}: {exc}") from exc
            if (converted.astype(object) != column).any():
                raise BadRequestError(
                    f"Incompatible input types for column {label}: values change on conversion"
                )
            return converted
        if not isinstance(source, np.dtype) or not np.can_cast(source, target, casting="safe"):
            raise BadRequestError(
                f"Incompatible input types for column {label}. Can not safely convert {source} to {target}."
            )
        return column.astype(target)
    for value in column.tolist():
        check_value(value, dtype, label)
    return column


def check_value(value: Any, dtype: SpecType, label: str) -> None:
    """Check one JSON-like value against a schema type.

    Args:
        value: The value.
        dtype: The declared type (scalar, array, object, map or any).
        label: How error messages name the value's column.

    Raises:
        InvalidArgumentError: an object lacks a required property.
        BadRequestError: the value does not have the declared type.
    """
    if isinstance(dtype, AnyType) or value is None:
        return
    if isinstance(dtype, Array):
        if hasattr(value, "tolist"):
            value = value.tolist()
        if not isinstance(value, list | tuple):
            raise BadRequestError(f"Column {label} expects arrays, got {type(value).__name__}")
        for item in value:
            check_value(item, dtype.items, label)
        return
    if isinstance(dtype, Map | Object):
        if not isinstance(value, Mapping):
            raise BadRequestError(f"Column {label} expects objects, got {type(value).__name__}")
        if isinstance(dtype, Map):
            for item in value.values():
                check_value(item, dtype.values, label)
            return
        known = {p.name: p for p in dtype.properties}
        missing = [n for n, p in known.items() if p.required and n not in value]
        if missing:
            raise InvalidArgumentError(f"Column {label}: object is missing required properties {missing}")
        unknown = [k for k in value if k not in known]
        if unknown:
            raise BadRequestError(f"Column {label}: object has properties not in the schema: {unknown}")
        for name, item in value.items():
            check_value(item, known[name].dtype, label)
        return
    if not _scalar_matches(value, dtype):
        raise BadRequestError(f"Column {label} expects {dtype.value} values, got {type(value).__name__}")


def _scalar_matches(value: Any, dtype: DataType) -> bool:
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if dtype is DataType.boolean:
        return isinstance(value, bool)
    if dtype in (DataType.integer, DataType.long):
        return isinstance(value, int) and not isinstance(value, bool)
    if dtype in (DataType.float, DataType.double):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if dtype is DataType.string:
        return isinstance(value, str)
    if dtype is DataType.binary:
        return isinstance(value, bytes | bytearray)
    return isinstance(value, dt.datetime | dt.date | str)


# -- tensors ------------------------------------------------------------------------------------


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    pd = _pandas()
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if not schema.has_input_names():
        if isinstance(data, pd.DataFrame | pd.Series):
            data = data.to_numpy()
        return _convert_tensor(data, specs[0])
    if isinstance(data, pd.DataFrame):
        data = {str(c): data[c].to_numpy() for c in data.columns}
    if not isinstance(data, Mapping):
        if len(specs) == 1:
            return {specs[0].name: _convert_tensor(data, specs[0])}
        raise BadRequestError(
            f"The model expects named tensors {schema.input_names()}; pass a dict of arrays"
        )
    missing = [n for n in schema.input_names() if n not in data]
    if missing:
        raise InvalidArgumentError(f"Model is missing inputs {missing}.")
    return {s.name: _convert_tensor(data[s.name], s) for s in specs}


def _convert_tensor(value: Any, spec: TensorSpec) -> Any:
    np = _numpy()
    label = repr(spec.name) if spec.name else "(unnamed)"
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    target = np.dtype(spec.dtype)
    if array.dtype != target:
        if not np.can_cast(array.dtype, target, casting="safe"):
            raise BadRequestError(
                f"dtype of input {array.dtype} does not match expected dtype {target} for tensor {label}"
            )
        array = array.astype(target)
    shape = spec.shape
    if len(shape) != array.ndim or any(
        want not in (-1, got) for want, got in zip(shape, array.shape, strict=True)
    ):
        raise BadRequestError(
            f"Shape of input {array.shape} does not match expected shape {shape} for tensor {label}"
        )
    return array


# -- params -------------------------------------------------------------------------------------


def enforce_params(params: Mapping[str, Any] | None, schema: ParamSchema | None) -> dict[str, Any] | None:
    """Fill in defaults and check the types of inference params.

    Args:
        params: The params the caller passed (or ``None``).
        schema: The model's param schema (or ``None``).

    Returns:
        Every declared param (the caller's value or the default); ``None`` when the model
        declares no params. Params the schema does not declare are dropped with a warning.

    Raises:
        InvalidArgumentError: a value does not match the declared type or shape.
    """
    if schema is None:
        if params:
            _logger.warning("The model declares no params; ignoring %s", sorted(params))
        return None
    given = dict(params or {})
    out: dict[str, Any] = {}
    for spec in schema:
        out[spec.name] = _convert_param(given.pop(spec.name), spec) if spec.name in given else spec.default
    if given:
        _logger.warning("Ignoring params not in the model's param schema: %s", sorted(given))
    return out


def _convert_param(value: Any, spec: ParamSpec) -> Any:
    if spec.shape is not None:
        if hasattr(value, "tolist"):
            value = value.tolist()
        if not isinstance(value, list | tuple):
            raise InvalidArgumentError(f"Param {spec.name!r} must be a list of {spec.type.value} values")
        return [_convert_param_scalar(v, spec) for v in value]
    return _convert_param_scalar(value, spec)


def _convert_param_scalar(value: Any, spec: ParamSpec) -> Any:
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if spec.type is DataType.datetime and isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise InvalidArgumentError(f"Param {spec.name!r} is not an ISO datetime: {value!r}") from exc
    if (
        spec.type in (DataType.float, DataType.double)
        and isinstance(value, int)
        and not isinstance(value, bool)
    ):
        return float(value)
    if not _scalar_matches(value, spec.type):
        raise InvalidArgumentError(
            f"Param {spec.name!r} expects a {spec.type.value} value, got {type(value).__name__} {value!r}"
        )
    return value
