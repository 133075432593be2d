"""Steps every flavor's ``save`` shares: a fresh directory, the python_function entry, the input
example, the signature, the environment files and the MLmodel file."""

from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mltrail.errors import AlreadyExistsError, InvalidArgumentError
from mltrail.models.environment import CONDA_ENV_FILE, PYTHON_ENV_FILE, write_environment
from mltrail.models.input_example import save_input_example, split_example
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.models.signature import infer_params_schema, infer_schema

__all__ = ["CODE_DIR", "add_code_to_path", "copy_code_paths", "finish_model", "new_model_dir", "pyfunc_conf"]

_logger = logging.getLogger(__name__)

CODE_DIR = "code"
"""Where ``code_paths`` are copied inside a model directory (the flavor's ``code`` key)."""


@contextlib.contextmanager
def new_model_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Create the model directory; remove it again if saving fails.

    Raises:
        AlreadyExistsError: ``path`` exists and is not an empty directory.
    """
    directory = Path(path)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise AlreadyExistsError(f"Path {str(directory)!r} already exists and is not an empty directory")
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        yield directory
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for child in directory.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def copy_code_paths(paths: Iterable[str | os.PathLike[str]] | None, directory: Path) -> str | None:
    """Copy local modules or packages the model imports into ``code/``.

    Returns:
        ``"code"`` when something was copied (the value of the flavor's ``code`` key), else ``None``.

    Raises:
        InvalidArgumentError: a path does not exist.
    """
    if not paths:
        return None
    target = directory / CODE_DIR
    target.mkdir()
    for raw in paths:
        source = Path(raw)
        if not source.exists():
            raise InvalidArgumentError(f"Code path {str(source)!r} does not exist")
        if source.is_dir():
            shutil.copytree(source, target / source.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / source.name)
    return CODE_DIR


def add_code_to_path(directory: Path, conf: Mapping[str, Any]) -> None:
    """Make the model's ``code/`` directory importable (callers have opted in to running its code)."""
    code = conf.get("code")
    if not code:
        return
    code_dir = str((directory / str(code)).resolve())
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)


def pyfunc_conf(loader_module: str, **extra: Any) -> dict[str, Any]:
    """The ``python_function`` flavor configuration with the shared keys filled in."""
    return {
        "loader_module": loader_module,
        "python_version": platform.python_version(),
        "env": {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE},
        **extra,
    }


def _directory_size(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def finish_model(
    directory: Path,
    model: Model,
    *,
    requirements: Iterable[str],
    predict: Callable[[Any, dict[str, Any] | None], Any] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Model:
    """Write the example, signature, environment and MLmodel files of a saved model.

    Args:
        directory: The model directory (the flavor's own files are already in it).
        model: The metadata, with the flavors added.
        requirements: Inferred pip requirements (used unless ``pip_requirements`` is given).
        predict: Runs the model on the example to infer the output schema, if possible.
        signature: An explicit signature; ``False`` for none; ``None`` to infer from the example
            (unless ``model`` already carries one, e.g. from type hints).
        input_example: Example input, or ``(input, params)``.
        pip_requirements: Replaces the inferred requirements.
        extra_pip_requirements: Appended to the requirements.
        metadata: User metadata stored under ``metadata``.

    Returns:
        ``model``, as written to ``MLmodel``.
    """
    if input_example is not None:
        save_input_example(model, input_example, directory)
    if isinstance(signature, ModelSignature):
        model.signature = signature
        model.is_signature_from_type_hint = False
    elif signature is False:
        model.signature = None
        model.is_signature_from_type_hint = False
    elif model.signature is None and input_example is not None:
        model.signature = _signature_from_example(input_example, predict)
    elif signature is not None and signature is not True:
        raise InvalidArgumentError("signature must be a ModelSignature, False or None")
    if metadata is not None:
        model.metadata = dict(metadata)
    lines = list(pip_requirements) if pip_requirements is not None else list(requirements)
    write_environment(directory, lines, extra_requirements=extra_pip_requirements or ())
    model.model_size_bytes = _directory_size(directory)
    model.save(directory)
    return model


def _signature_from_example(
    example: Any, predict: Callable[[Any, dict[str, Any] | None], Any] | None
) -> ModelSignature | None:
    data, params = split_example(example)
    try:
        inputs = infer_schema(data)
    except InvalidArgumentError as exc:
        _logger.warning("No signature inferred from the input example: %s", exc.message)
        return None
    outputs = None
    if predict is not None:
        try:
            outputs = infer_schema(predict(data, params))
        except Exception as exc:  # the model's own code may fail on the example; the signature is optional
            _logger.warning("Could not infer the output schema from the input example: %s", exc)
    return ModelSignature(
        inputs=inputs, outputs=outputs, params=infer_params_schema(params) if params else None
    )
