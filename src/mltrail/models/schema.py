"""Schemas of model inputs, outputs and params, and their JSON form in the MLmodel file.

Column-based schemas are lists of :class:`ColSpec`; tensor-based ones are lists of
:class:`TensorSpec`; inference parameters are a :class:`ParamSchema`. ``to_json``/``from_json``
read and write exactly the JSON MLflow stores under ``signature`` (spec MODELS-SERVING §3).
Nothing here imports numpy or pandas.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

from mltrail.errors import InvalidArgumentError

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
    "SpecType",
    "TensorSpec",
]


class DataType(StrEnum):
    """Scalar column types of a column-based schema."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def to_numpy_name(self) -> str:
        """The numpy dtype name values of this type are held in."""
        return _NUMPY_NAMES[self]


_NUMPY_NAMES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
    DataType.datetime: "datetime64[ns]",
}


@dataclass(frozen=True, slots=True)
class Array:
    """A list whose items all have one type."""

    items: SpecType

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"type": "array", "items": {...}}``."""
        return {"type": "array", "items": type_to_dict(self.items)}


@dataclass(frozen=True, slots=True)
class Property:
    """One named field of an :class:`Object`."""

    name: str
    dtype: SpecType
    required: bool = True


@dataclass(frozen=True, slots=True)
class Object:
    """A dictionary with known fields."""

    properties: tuple[Property, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", tuple(sorted(self.properties, key=lambda p: p.name)))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"type": "object", "properties": {name: {...}}}``."""
        return {
            "type": "object",
            "properties": {
                p.name: {**type_to_dict(p.dtype), "required": p.required} for p in self.properties
            },
        }


@dataclass(frozen=True, slots=True)
class Map:
    """A dictionary with string keys and values of one type."""

    values: SpecType

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"type": "map", "values": {...}}``."""
        return {"type": "map", "values": type_to_dict(self.values)}


@dataclass(frozen=True, slots=True)
class AnyType:
    """Any value at all; no enforcement."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"type": "any"}``."""
        return {"type": "any"}


SpecType: TypeAlias = DataType | Array | Object | Map | AnyType


def type_to_dict(dtype: SpecType) -> dict[str, Any]:
    """The JSON form of a column type (without ``name``/``required``)."""
    if isinstance(dtype, DataType):
        return {"type": dtype.value}
    return dtype.to_dict()


def type_from_dict(data: Mapping[str, Any]) -> SpecType:
    """Parse the JSON form of a column type.

    Raises:
        InvalidArgumentError: the type is unknown or malformed.
    """
    kind = data.get("type")
    if kind == "array":
        return Array(type_from_dict(_mapping(data.get("items"), "items")))
    if kind == "object":
        props = _mapping(data.get("properties"), "properties")
        return Object(
            tuple(
                Property(str(name), type_from_dict(_mapping(spec, name)), bool(spec.get("required", True)))
                for name, spec in props.items()
            )
        )
    if kind == "map":
        return Map(type_from_dict(_mapping(data.get("values"), "values")))
    if kind == "any":
        return AnyType()
    try:
        return DataType(str(kind))
    except ValueError:
        raise InvalidArgumentError(f"Unknown schema type {kind!r}") from None


def _mapping(value: Any, what: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"Malformed schema: {what!r} must be an object, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class ColSpec:
    """One column of a column-based schema.

    Args:
        type: The column's type.
        name: The column name; ``None`` for positional (unnamed) columns.
        required: Whether the column must be present at predict time.
    """

    type: SpecType
    name: str | None = None
    required: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, key order as MLflow writes it."""
        out = type_to_dict(self.type)
        if self.name is not None:
            out["name"] = self.name
        out["required"] = self.required
        return out


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor of a tensor-based schema.

    Args:
        dtype: A numpy dtype name such as ``"float32"``.
        shape: The shape; ``-1`` marks a variable dimension.
        name: The tensor name; ``None`` for a single unnamed tensor.
    """

    dtype: str
    shape: tuple[int, ...]
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, key order as MLflow writes it."""
        out: dict[str, Any] = {} if self.name is None else {"name": self.name}
        out["type"] = "tensor"
        out["tensor-spec"] = {"dtype": self.dtype, "shape": list(self.shape)}
        return out


@dataclass(frozen=True, slots=True)
class Schema:
    """An ordered list of column specs or of tensor specs (never a mix)."""

    inputs: tuple[ColSpec | TensorSpec, ...]

    def __init__(self, inputs: Iterable[ColSpec | TensorSpec]) -> None:
        items = tuple(inputs)
        if not items:
            raise InvalidArgumentError("A schema needs at least one column or tensor")
        kinds = {isinstance(i, TensorSpec) for i in items}
        if len(kinds) > 1:
            raise InvalidArgumentError("A schema cannot mix column specs and tensor specs")
        named = {i.name is not None for i in items}
        if len(named) > 1:
            raise InvalidArgumentError("A schema's entries must be either all named or all unnamed")
        object.__setattr__(self, "inputs", items)

    def __iter__(self) -> Iterator[ColSpec | TensorSpec]:
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def is_tensor_spec(self) -> bool:
        """True for a tensor-based schema."""
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        """True when entries are named."""
        return self.inputs[0].name is not None

    def input_names(self) -> list[str]:
        """The entries' names (empty for an unnamed schema)."""
        return [i.name for i in self.inputs if i.name is not None]

    def required_input_names(self) -> list[str]:
        """Names of the columns that must be present (every tensor is required)."""
        return [
            i.name for i in self.inputs if i.name is not None and (isinstance(i, TensorSpec) or i.required)
        ]

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON list form."""
        return [i.to_dict() for i in self.inputs]

    def to_json(self) -> str:
        """The JSON string stored in the MLmodel file."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Parse the JSON string stored in the MLmodel file.

        Raises:
            InvalidArgumentError: the JSON does not describe a schema.
        """
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"Malformed schema JSON: {exc}") from exc
        if not isinstance(items, list):
            raise InvalidArgumentError("A schema's JSON form must be a list")
        return cls(_spec_from_dict(_mapping(item, "schema entry")) for item in items)


def _spec_from_dict(item: Mapping[str, Any]) -> ColSpec | TensorSpec:
    name = item.get("name")
    # MLflow writes integer names for columns inferred from unnamed list outputs.
    name = None if name is None else str(name)
    if item.get("type") == "tensor":
        spec = _mapping(item.get("tensor-spec"), "tensor-spec")
        shape = spec.get("shape")
        if not isinstance(shape, list):
            raise InvalidArgumentError("A tensor spec needs a shape list")
        return TensorSpec(str(spec.get("dtype")), tuple(int(d) for d in shape), name)
    return ColSpec(type_from_dict(item), name, bool(item.get("required", True)))


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One inference parameter with its default.

    Args:
        name: The parameter name.
        type: Its scalar type.
        default: The value used when the caller does not pass the parameter.
        shape: ``None`` for a scalar, ``(-1,)`` for a list of values.
    """

    name: str
    type: DataType
    default: Any
    shape: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, key order as MLflow writes it."""
        default = self.default
        if self.type is DataType.datetime and default is not None and not isinstance(default, str):
            default = default.isoformat()
        return {
            "name": self.name,
            "default": default,
            "shape": None if self.shape is None else list(self.shape),
            "type": self.type.value,
        }


@dataclass(frozen=True, slots=True)
class ParamSchema:
    """The inference parameters a model accepts."""

    params: tuple[ParamSpec, ...]

    def __init__(self, params: Iterable[ParamSpec]) -> None:
        items = tuple(params)
        names = [p.name for p in items]
        if len(set(names)) != len(names):
            raise InvalidArgumentError(f"Duplicate parameter names in {names}")
        object.__setattr__(self, "params", items)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        """The JSON list form."""
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        """The JSON string stored in the MLmodel file."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        """Parse the JSON string stored in the MLmodel file.

        Raises:
            InvalidArgumentError: the JSON does not describe a param schema.
        """
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"Malformed params JSON: {exc}") from exc
        if not isinstance(items, list):
            raise InvalidArgumentError("A param schema's JSON form must be a list")
        specs = []
        for raw in items:
            item = _mapping(raw, "param")
            try:
                dtype = DataType(str(item.get("type")))
            except ValueError:
                raise InvalidArgumentError(f"Unknown param type {item.get('type')!r}") from None
            shape = item.get("shape")
            specs.append(
                ParamSpec(
                    str(item.get("name")),
                    dtype,
                    item.get("default"),
                    None if shape is None else tuple(int(d) for d in shape),
                )
            )
        return cls(specs)


@dataclass(frozen=True, slots=True)
class ModelSignature:
    """What a model takes and returns: input and output schemas and inference params."""

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: ParamSchema | None = field(default=None)

    def to_dict(self) -> dict[str, str | None]:
        """The ``signature`` map of the MLmodel file: every value is a JSON string or null."""
        return {
            "inputs": None if self.inputs is None else self.inputs.to_json(),
            "outputs": None if self.outputs is None else self.outputs.to_json(),
            "params": None if self.params is None else self.params.to_json(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSignature:
        """Parse the ``signature`` map of an MLmodel file.

        Raises:
            InvalidArgumentError: a value is not a valid schema JSON string.
        """

        def parse(key: str) -> str | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, str):
                return value
            if isinstance(value, Sequence):  # tolerate YAML lists written by hand
                return json.dumps(list(value))
            raise InvalidArgumentError(f"signature.{key} must be a JSON string")

        inputs, outputs, params = parse("inputs"), parse("outputs"), parse("params")
        return cls(
            inputs=None if inputs is None else Schema.from_json(inputs),
            outputs=None if outputs is None else Schema.from_json(outputs),
            params=None if params is None else ParamSchema.from_json(params),
        )
