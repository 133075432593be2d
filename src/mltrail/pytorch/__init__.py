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

from mltrail.models.flavors.pytorch import SERIALIZATION_FORMATS, PytorchFlavor, PytorchImplementation
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.models.uri import resolve_model_uri

__all__ = ["SERIALIZATION_FORMATS", "load_model", "save_model"]


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


def load_model(
    model_uri: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    device: str | None = None,
) -> Any:
    """Load a PyTorch module saved by mltrail or MLflow.

    Args:
        model_uri: A local model directory or ``file:`` URI.
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
