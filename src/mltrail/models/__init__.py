"""Model packaging: the MLmodel format, signatures, input examples, environments and flavors.

Names are loaded on first access so that ``import mltrail.models`` stays light. A
models-from-code file calls :func:`set_model` to register the model it builds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    "Model": "mltrail.models.model",
    "ModelInfo": "mltrail.models.logging",
    "Flavor": "mltrail.models.flavor",
    "get_flavor": "mltrail.models.flavor",
    "set_model": "mltrail.models.python_model",
    "PythonModel": "mltrail.models.python_model",
    "PythonModelContext": "mltrail.models.python_model",
    "ModelSignature": "mltrail.models.schema",
    "Schema": "mltrail.models.schema",
    "ColSpec": "mltrail.models.schema",
    "TensorSpec": "mltrail.models.schema",
    "ParamSchema": "mltrail.models.schema",
    "ParamSpec": "mltrail.models.schema",
    "DataType": "mltrail.models.schema",
    "infer_signature": "mltrail.models.signature",
    "signature_from_type_hints": "mltrail.models.signature",
}

__all__ = [
    "ColSpec",
    "DataType",
    "Flavor",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "ParamSchema",
    "ParamSpec",
    "PythonModel",
    "PythonModelContext",
    "Schema",
    "TensorSpec",
    "get_flavor",
    "infer_signature",
    "set_model",
    "signature_from_type_hints",
]

if TYPE_CHECKING:
    from mltrail.models.flavor import Flavor, get_flavor
    from mltrail.models.logging import ModelInfo
    from mltrail.models.model import Model
    from mltrail.models.python_model import PythonModel, PythonModelContext, set_model
    from mltrail.models.schema import (
        ColSpec,
        DataType,
        ModelSignature,
        ParamSchema,
        ParamSpec,
        Schema,
        TensorSpec,
    )
    from mltrail.models.signature import infer_signature, signature_from_type_hints


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
