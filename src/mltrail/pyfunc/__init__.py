"""The python_function interface: ``save_model``, ``load_model`` and the :class:`PythonModel` base.

Example::

    import mltrail.pyfunc

    class Echo(mltrail.pyfunc.PythonModel):
        def predict(self, model_input: list[str], params=None) -> list[str]:
            return model_input

    mltrail.pyfunc.save_model("echo", python_model=Echo())
    model = mltrail.pyfunc.load_model("echo", allow_pickle=True)

    with mltrail.start_run():
        info = mltrail.pyfunc.log_model(name="echo", python_model="echo_model.py")
    model = mltrail.pyfunc.load_model(info.model_uri)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.models.logging import ModelInfo
from mltrail.models.logging import log_model as _log_model
from mltrail.models.pyfunc import PyFuncModel, load_model, save_model
from mltrail.models.python_model import PythonModel, PythonModelContext
from mltrail.models.schema import ModelSignature
from mltrail.tracking.client import TrackingClient

__all__ = ["PyFuncModel", "PythonModel", "PythonModelContext", "load_model", "log_model", "save_model"]


def log_model(
    name: str | None = None,
    python_model: Any = None,
    *,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
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
    """Log a custom python_function model as a logged model of the active run (see :func:`save_model`).

    Args:
        name: The logged model's name (``runs:/<run_id>/<name>`` loads it).
        python_model: A :class:`PythonModel`, a ``predict`` function, or the path of a
            models-from-code ``.py`` file.
        artifacts: Name to local file or directory, exposed as ``context.artifacts[name]``.
        model_config: Configuration exposed as ``context.model_config``.
        code_paths: Local modules or packages the model imports.
        signature: Explicit signature; ``False`` for none; by default from type hints or the example.
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
        InvalidArgumentError: no ``python_model``, a bad name or option.
        MltrailError: the upload failed (the logged model is then ``UPLOAD_FAILED``).
    """
    if python_model is None:
        raise InvalidArgumentError("log_model needs a python_model (a PythonModel, a function or a .py file)")
    return _log_model(
        "python_function",
        python_model,
        name,
        artifacts=artifacts,
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
