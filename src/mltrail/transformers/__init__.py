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

from mltrail.autolog.transformers_trainer import autolog
from mltrail.models.flavors.transformers import TransformersFlavor
from mltrail.models.flavors.transformers_pyfunc import TransformersImplementation
from mltrail.models.logging import ModelInfo
from mltrail.models.logging import log_model as _log_model
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.models.uri import resolve_model_uri
from mltrail.tracking.client import TrackingClient

__all__ = ["autolog", "load_model", "log_model", "save_model"]


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


def log_model(
    transformers_model: Any,
    name: str | None = None,
    *,
    task: str | None = None,
    model_config: Mapping[str, Any] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    artifact_path: str | None = None,
    client: TrackingClient | None = None,
) -> ModelInfo:
    """Log a transformers pipeline (or components) as a logged model of the active run.

    Args:
        transformers_model: A ``transformers.Pipeline`` or a dict of components (see :func:`save_model`).
        name: The logged model's name (``runs:/<run_id>/<name>`` loads it).
        task: The pipeline task; required for a dict of components.
        model_config: Keyword arguments for every pipeline call at prediction time.
        code_paths: Local modules or packages to copy into ``code/``.
        signature: Explicit signature; ``False`` for none; by default inferred from the example.
        input_example: Example input, or ``(input, params)``.
        pip_requirements: Replaces the inferred requirements.
        extra_pip_requirements: Added to the requirements.
        metadata: User metadata for the MLmodel file.
        registered_model_name: Also register it as a new version of this registered model.
        params: Params of the logged model (the active run's params are added).
        tags: Tags of the logged model.
        model_type: A free-form type label.
        step: The run's step the model belongs to.
        artifact_path: Former name of ``name``.
        client: The tracking client to log through (default: the fluent API's client).

    Returns:
        What was logged; load it back by ``info.model_uri`` (``models:/<model_id>``) or
        ``runs:/<run_id>/<name>``.

    Raises:
        InvalidArgumentError: a bad name or option, or a model the flavor cannot save.
        MltrailError: the upload failed (the logged model is then ``UPLOAD_FAILED``).
    """
    return _log_model(
        "transformers",
        transformers_model,
        name,
        task=task,
        model_config=model_config,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        artifact_path=artifact_path,
        client=client,
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
        model_uri: A local directory, ``file:``, ``runs:/``, ``models:/`` (id, version, stage,
            alias), ``s3://`` or ``mlflow-artifacts:/`` URI.
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
