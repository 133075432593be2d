"""python_function behaviour of Hugging Face pipelines: input shapes, outputs per task, default signatures.

``predict`` takes a string, a list of strings, a pandas Series or a DataFrame (its first string
column) and calls the pipeline with the saved ``model_config`` merged with the call's params.
Outputs follow MLflow's: text-classification gives a DataFrame (``label``, ``score``),
feature-extraction a numpy array (one input) or a list of arrays, text-generation a list of
strings; other tasks return the pipeline's own output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.models.schema import ColSpec, DataType, ModelSignature, Schema, TensorSpec

__all__ = ["TransformersImplementation", "default_signature"]

_CLASSIFICATION_TASKS = frozenset({"text-classification", "sentiment-analysis"})


def default_signature(task: str) -> ModelSignature | None:
    """The signature a pipeline of ``task`` gets when none is given and there is no example."""
    strings = Schema([ColSpec(DataType.string)])
    if task in _CLASSIFICATION_TASKS:
        outputs = Schema([ColSpec(DataType.string, "label"), ColSpec(DataType.double, "score")])
    elif task == "text-generation":
        outputs = Schema([ColSpec(DataType.string)])
    elif task == "feature-extraction":
        outputs = Schema([TensorSpec("float64", (-1,))])
    else:
        return None
    return ModelSignature(inputs=strings, outputs=outputs)


def _texts(data: Any) -> list[str] | str:
    if isinstance(data, str):
        return data
    kind = type(data).__name__
    if kind == "DataFrame":
        for column in data.columns:
            values = data[column].tolist()
            if values and all(isinstance(v, str) for v in values):
                return [str(v) for v in values]
        raise InvalidArgumentError("The model expects text, but the input DataFrame has no string column")
    if kind in ("Series", "ndarray"):
        data = data.tolist()
    if isinstance(data, Mapping):
        for key in ("inputs", "text", "prompt"):
            if key in data:
                return _texts(data[key])
    if isinstance(data, list) and all(isinstance(v, str) for v in data):
        return data
    raise InvalidArgumentError(f"The model expects a string or a list of strings, got {type(data).__name__}")


class TransformersImplementation:
    """The python_function implementation of a Hugging Face pipeline.

    Args:
        pipeline: The ``transformers.Pipeline``.
        model_config: Keyword arguments for every pipeline call (the call's params override them).
    """

    def __init__(self, pipeline: Any, model_config: Mapping[str, Any] | None = None) -> None:
        self.pipeline = pipeline
        self.model_config = dict(model_config or {})

    @property
    def task(self) -> str:
        """The pipeline's task."""
        return str(self.pipeline.task)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Run the pipeline on text input; see the module docstring for the output per task."""
        texts = _texts(data)
        single = isinstance(texts, str)
        batch = [texts] if isinstance(texts, str) else texts
        output = self.pipeline(batch, **{**self.model_config, **(params or {})})
        if self.task in _CLASSIFICATION_TASKS:
            import pandas as pd

            rows = [row[0] if isinstance(row, list) and len(row) == 1 else row for row in output]
            if all(isinstance(row, Mapping) for row in rows):
                return pd.DataFrame([{"label": r["label"], "score": float(r["score"])} for r in rows])
            return output
        if self.task == "feature-extraction":
            import numpy as np

            arrays = [np.asarray(item[0] if len(item) == 1 else item, dtype=np.float64) for item in output]
            return arrays[0] if single or len(arrays) == 1 else arrays
        if self.task == "text-generation":
            return [_generated_text(item) for item in output]
        return output


def _generated_text(item: Any) -> Any:
    first = item[0] if isinstance(item, list) and item else item
    if isinstance(first, Mapping) and "generated_text" in first:
        return first["generated_text"]
    return first
