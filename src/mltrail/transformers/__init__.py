"""Hugging Face transformers models: ``save_model`` (``save_pretrained``, safetensors) and ``load_model``.

Example::

    import mltrail.transformers

    mltrail.transformers.save_model(text_classifier, "model-dir")
    pipeline = mltrail.transformers.load_model("model-dir")
    parts = mltrail.transformers.load_model("model-dir", return_type="components")

Loading reads local files only: nothing is downloaded and no repository code runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mltrail.models.flavors.transformers import TransformersFlavor
from mltrail.models.flavors.transformers_pyfunc import TransformersImplementation
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.models.uri import resolve_model_uri

__all__ = ["load_model", "save_model"]


def save_model(
    transformers_model: Any,
    path: str | os.PathLike[str],
    *,
    task: str | None = None,
    model_config: Mapping[str, Any] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Model:
    """Save a transformers pipeline, or a model with its tokenizer, as a model directory.

    Args:
        transformers_model: A ``transformers.Pipeline``, or a dict with ``"model"`` and
            ``"tokenizer"`` (optionally ``"feature_extractor"`` / ``"image_processor"``).
        path: A new (or empty) directory.
        task: The pipeline task; required for a dict (e.g. ``"text-classification"``).
        model_config: Keyword arguments for every pipeline call at prediction time
            (e.g. ``{"max_new_tokens": 20}``).
        code_paths: Local modules or packages to copy into ``code/``.
        signature: Explicit signature; ``False`` for none; by default inferred from the example,
            or the task's default (text in, labels/text/embeddings out).
        input_example: Example input, or ``(input, params)``.
        pip_requirements: Replaces the inferred requirements.
        extra_pip_requirements: Added to the requirements.
        metadata: User metadata for the MLmodel file.

    Returns:
        The MLmodel metadata written.

    Raises:
        InvalidArgumentError: not a pipeline or components dict, or a dict without ``task``.
    """
    return TransformersFlavor().save(
        transformers_model,
        path,
        task=task,
        model_config=model_config,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
    )


def load_model(
    model_uri: str | os.PathLike[str],
    *,
    return_type: str = "pipeline",
    device: str | int | None = None,
    allow_pickle: bool = False,
) -> Any:
    """Load a transformers model saved by mltrail or MLflow, without downloading anything.

    Args:
        model_uri: A local model directory or ``file:`` URI.
        return_type: ``"pipeline"`` (default) or ``"components"`` (a dict with ``task``,
            ``model``, ``tokenizer``, ...).
        device: The pipeline's device.
        allow_pickle: Permit pickled (``.bin``) weights, which execute code when loaded.

    Raises:
        InvalidArgumentError: the model needs a download or an opt-in the caller did not give.
    """
    return TransformersFlavor().load(
        resolve_model_uri(model_uri), return_type=return_type, device=device, allow_pickle=allow_pickle
    )


def _load_pyfunc(path: str, model_config: Mapping[str, Any] | None = None) -> TransformersImplementation:
    """python_function entry point for MLflow: ``path`` is the model directory."""
    directory = Path(path)
    while not (directory / "MLmodel").is_file() and directory.parent != directory:
        directory = directory.parent
    return TransformersFlavor().load_pyfunc(directory, model_config=model_config)
