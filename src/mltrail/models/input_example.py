"""Input examples: ``input_example.json`` and ``serving_input_example.json`` (spec MODELS-SERVING §4).

An example is a DataFrame, a numpy array (or dict of arrays), or JSON-like data, optionally paired
with params as ``(data, params)``. The serving file holds the request body a scoring server accepts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.models.model import Model

__all__ = [
    "INPUT_EXAMPLE_FILE",
    "SERVING_INPUT_EXAMPLE_FILE",
    "load_input_example",
    "load_input_example_params",
    "save_input_example",
    "split_example",
]

INPUT_EXAMPLE_FILE = "input_example.json"
SERVING_INPUT_EXAMPLE_FILE = "serving_input_example.json"


def split_example(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """Split ``(data, params)`` into its parts; any other example has no params."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], Mapping):
        return example[0], dict(example[1])
    return example, None


def _jsonable(value: Any) -> Any:
    if hasattr(value, "tolist") and type(value).__module__.startswith("numpy"):
        return _jsonable(value.tolist())
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if type(value).__name__ == "Timestamp":
        return value.isoformat()
    return value


def _encode(data: Any) -> tuple[dict[str, Any], Any, dict[str, Any]]:
    """Return (info, input_example.json payload, serving payload) for the example data."""
    kind = type(data).__name__
    module = type(data).__module__
    if module.startswith("pandas") and kind in ("DataFrame", "Series"):
        frame = data.to_frame() if kind == "Series" else data
        split = {
            "columns": [str(c) for c in frame.columns],
            "data": _jsonable(frame.to_numpy(dtype=object).tolist()),
        }
        info = {"type": "dataframe", "pandas_orient": "split"}
        return info, split, {"dataframe_split": split}
    if module.startswith("numpy") and hasattr(data, "ndim"):
        payload = _jsonable(data)
        return {"type": "ndarray"}, payload, {"inputs": payload}
    if (
        isinstance(data, Mapping)
        and data
        and all(type(v).__module__.startswith("numpy") for v in data.values())
    ):
        payload = _jsonable(data)
        return {"type": "ndarray"}, payload, {"inputs": payload}
    if isinstance(data, Mapping | list | tuple | str | int | float | bool):
        payload = _jsonable(data)
        return {"type": "json_object"}, payload, {"inputs": payload}
    raise InvalidArgumentError(f"Unsupported input example type {module}.{kind}")


def save_input_example(model: Model, example: Any, path: str | Path) -> None:
    """Write the example files into a model directory and record them in ``model``.

    Args:
        model: The MLmodel metadata; its ``saved_input_example_info`` is set.
        example: The example data, or ``(data, params)``.
        path: The model directory.

    Raises:
        InvalidArgumentError: the example's type is not supported.
    """
    data, params = split_example(example)
    info, payload, serving = _encode(data)
    if params is not None:
        payload = {"inputs": payload, "params": _jsonable(params)}
        serving = {**serving, "params": _jsonable(params)}
        info["params"] = "true"
    directory = Path(path)
    (directory / INPUT_EXAMPLE_FILE).write_text(json.dumps(payload), encoding="utf-8")
    (directory / SERVING_INPUT_EXAMPLE_FILE).write_text(json.dumps(serving, indent=2), encoding="utf-8")
    model.saved_input_example_info = {
        "artifact_path": INPUT_EXAMPLE_FILE,
        "serving_input_path": SERVING_INPUT_EXAMPLE_FILE,
        **info,
    }


def _read(model: Model, path: str | Path) -> tuple[dict[str, Any], Any] | None:
    info = model.saved_input_example_info
    if not info:
        return None
    file = Path(path) / str(info.get("artifact_path", INPUT_EXAMPLE_FILE))
    if not file.is_file():
        return None
    return info, json.loads(file.read_text(encoding="utf-8"))


def load_input_example(model: Model, path: str | Path) -> Any:
    """Read a model's input example back in its original form (without params).

    Args:
        model: The MLmodel metadata.
        path: The model directory.

    Returns:
        A DataFrame, a numpy array (or dict of arrays), the JSON data, or ``None`` when the model
        has no example.
    """
    found = _read(model, path)
    if found is None:
        return None
    info, payload = found
    if info.get("params") == "true" and isinstance(payload, Mapping):
        payload = payload.get("inputs")
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        if info.get("pandas_orient", "split") == "split":
            return pd.DataFrame(payload["data"], columns=payload["columns"])
        return pd.DataFrame(payload)
    if kind == "ndarray":
        import numpy as np

        if isinstance(payload, Mapping):
            return {k: np.asarray(v) for k, v in payload.items()}
        return np.asarray(payload)
    return payload


def load_input_example_params(model: Model, path: str | Path) -> dict[str, Any] | None:
    """The params saved with a model's input example, or ``None``."""
    found = _read(model, path)
    if found is None:
        return None
    info, payload = found
    if info.get("params") != "true" or not isinstance(payload, Mapping):
        return None
    params = payload.get("params")
    return dict(params) if isinstance(params, Mapping) else None
