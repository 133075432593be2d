"""PyTorch models: ``save_model`` (an exported program by default) and ``load_model``.

Example::

    import mltrail.pytorch

    mltrail.pytorch.save_model(module, "model-dir", input_example=batch)  # torch.export
    module = mltrail.pytorch.load_model("model-dir")

This module is also the python_function ``loader_module`` of models saved with
``serialization_format="state_dict"``, which MLflow can then load when mltrail is installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mltrail.autolog.lightning import autolog
from mltrail.models.flavors.pytorch import SERIALIZATION_FORMATS, PytorchFlavor, PytorchImplementation
from mltrail.models.logging import ModelInfo
from mltrail.models.logging import log_model as _log_model
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.models.uri import resolve_model_uri
from mltrail.tracking.client import TrackingClient

__all__ = ["SERIALIZATION_FORMATS", "autolog", "load_model", "log_model", "save_model"]


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "auto",
    model_init_kwargs: Mapping[str, Any] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Model:
    """Save a ``torch.nn.Module`` as a model directory.

    Args:
        pytorch_model: The module (or a TorchScript module).
        path: A new (or empty) directory.
        serialization_format: ``"auto"`` (default: ``torch.export`` when an input example is
            given, else TorchScript; both load without unpickling), ``"pt2"``,
            ``"torchscript"``, ``"state_dict"`` (safetensors weights plus the model's class,
            rebuilt on load from ``code_paths``) or ``"pickle"`` (loading then needs
            ``allow_pickle=True``).
        model_init_kwargs: Constructor keyword arguments (JSON values) for ``"state_dict"``.
        code_paths: Local modules or packages the model's code lives in; copied into ``code/``.
        signature: Explicit signature; ``False`` for none; by default inferred from the example.
        input_example: An array, tensor or DataFrame (or ``(input, params)``); ``torch.export``
            traces ``forward`` on it.
        pip_requirements: Replaces the inferred requirements (``torch`` pinned).
        extra_pip_requirements: Added to the requirements.
        metadata: User metadata for the MLmodel file.

    Returns:
        The MLmodel metadata written.

    Raises:
        InvalidArgumentError: unknown format, no example for ``"pt2"``, a class that cannot be
            imported for ``"state_dict"``, or a model that can be neither exported nor scripted.
    """
    return PytorchFlavor().save(
        pytorch_model,
        path,
        serialization_format=serialization_format,
        model_init_kwargs=model_init_kwargs,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
    )


def log_model(
    pytorch_model: Any,
    name: str | None = None,
    *,
    serialization_format: str = "auto",
    model_init_kwargs: Mapping[str, Any] | None = None,
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
    """Log a ``torch.nn.Module`` as a logged model of the active run (see :func:`save_model`).

    Args:
        pytorch_model: The module (or a TorchScript module).
        name: The logged model's name (``runs:/<run_id>/<name>`` loads it).
        serialization_format: ``"auto"``, ``"pt2"``, ``"torchscript"``, ``"state_dict"`` or ``"pickle"``.
        model_init_kwargs: Constructor keyword arguments for ``"state_dict"``.
        code_paths: Local modules or packages the model's code lives in.
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
        "pytorch",
        pytorch_model,
        name,
        serialization_format=serialization_format,
        model_init_kwargs=model_init_kwargs,
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
    allow_pickle: bool = False,
    device: str | None = None,
) -> Any:
    """Load a PyTorch module saved by mltrail or MLflow.

    Args:
        model_uri: A local directory, ``file:``, ``runs:/``, ``models:/`` (id, version, stage,
            alias), ``s3://`` or ``mlflow-artifacts:/`` URI.
        allow_pickle: Permit files that are unpickled (``torch.save`` of a whole module, or
            ``.pt2`` archives with pickled records); this executes code stored in the model.
        device: Where to put the weights (``"cpu"``, ``"cuda:0"``, ...).

    Raises:
        InvalidArgumentError: loading needs an opt-in the caller did not give.
    """
    return PytorchFlavor().load(resolve_model_uri(model_uri), allow_pickle=allow_pickle, device=device)


def _load_pyfunc(path: str, model_config: Mapping[str, Any] | None = None) -> PytorchImplementation:
    """MLflow's python_function entry point: ``path`` is the model's ``data`` directory."""
    directory = Path(path)
    while not (directory / "MLmodel").is_file() and directory.parent != directory:
        directory = directory.parent
    return PytorchFlavor().load_pyfunc(directory, model_config=model_config)
