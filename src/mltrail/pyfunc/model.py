"""The ``loader_module`` of mltrail's custom python_function models (``mltrail.pyfunc.model``).

MLflow's ``mlflow.pyfunc.load_model`` imports the module named in the MLmodel file and calls its
``_load_pyfunc(path)``, so this module lets MLflow load mltrail's models when mltrail is
installed. MLflow enforces the signature itself before calling ``predict``. Within MLflow's
process, whether pickled models may load follows MLflow's own switch,
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` (MLflow's default: allowed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.models.flavors.python_function import PythonFunctionFlavor, PythonModelImplementation

__all__ = ["_load_pyfunc"]


def _mlflow_allows_pickle() -> bool:
    # This entry point is called by MLflow, so MLflow's setting is the caller's choice here.
    value = os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    return value.strip().lower() in ("true", "1")


def _load_pyfunc(path: str, model_config: Mapping[str, Any] | None = None) -> PythonModelImplementation:
    """Load an mltrail custom model for MLflow.

    Args:
        path: The model directory (or a file inside it).
        model_config: Overrides of the saved model configuration.

    Returns:
        An object with ``predict(data, params=None)`` and ``predict_stream(data, params=None)``.
    """
    directory = Path(path)
    if directory.is_file():
        directory = directory.parent
    return PythonFunctionFlavor().load_pyfunc(
        directory, allow_pickle=_mlflow_allows_pickle(), model_config=model_config
    )
