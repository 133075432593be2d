"""python_function: one ``predict`` interface over every flavor, with signature enforcement.

``load_model`` reads a model directory's ``python_function`` entry, finds the flavor that owns
its ``loader_module`` (MLflow's loader modules map to mltrail's own flavors) and wraps the result
in a :class:`PyFuncModel`, which enforces the signature before each prediction. ``save_model``
saves custom models (:class:`PythonModel` objects, predict functions, or models-from-code files).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.enforcement import enforce_params, enforce_schema
from mltrail.models.flavor import PyFuncImplementation, flavor_for_loader_module, get_flavor
from mltrail.models.input_example import load_input_example
from mltrail.models.model import Model
from mltrail.models.python_model import PythonModel, PythonModelContext
from mltrail.models.schema import ModelSignature
from mltrail.models.uri import resolve_model_uri

__all__ = ["PyFuncModel", "PythonModel", "PythonModelContext", "load_model", "save_model"]

FLAVOR_NAME = "python_function"


class PyFuncModel:
    """A loaded model behind the python_function interface.

    Args:
        metadata: The model's MLmodel metadata.
        implementation: What the flavor loaded (an object with ``predict(data, params=None)``).
        path: The model directory.
    """

    def __init__(self, metadata: Model, implementation: PyFuncImplementation, path: Path) -> None:
        self.metadata = metadata
        self.implementation = implementation
        self.path = path

    @property
    def signature(self) -> ModelSignature | None:
        """The model's signature, if it was saved with one."""
        return self.metadata.signature

    @property
    def loader_module(self) -> str:
        """The ``loader_module`` recorded in the MLmodel file."""
        return str(self.metadata.flavors[FLAVOR_NAME].get("loader_module"))

    @property
    def input_example(self) -> Any:
        """The saved input example, or ``None``."""
        return load_input_example(self.metadata, self.path)

    @property
    def streamable(self) -> bool:
        """True when the model supports :meth:`predict_stream`."""
        return bool(self.metadata.flavors[FLAVOR_NAME].get("streamable", False))

    def _prepare(self, data: Any, params: Mapping[str, Any] | None) -> tuple[Any, dict[str, Any] | None]:
        signature = self.metadata.signature
        if signature is None:
            return data, dict(params) if params is not None else None
        if signature.inputs is not None and not self.metadata.is_signature_from_type_hint:
            data = enforce_schema(data, signature.inputs)
        return data, enforce_params(params, signature.params)

    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Enforce the signature, then run the model.

        Args:
            data: The input (DataFrame, numpy array, dict, list, ...).
            params: Inference parameters; undeclared ones are dropped with a warning.

        Raises:
            InvalidArgumentError: an input is missing or a param has the wrong type.
            BadRequestError: an input value cannot be converted to the declared type.
        """
        data, checked = self._prepare(data, params)
        return self.implementation.predict(data, params=checked)

    def predict_stream(self, data: Any, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Enforce the signature, then stream the model's output.

        Raises:
            InvalidArgumentError: the model does not support streaming, or the input is invalid.
        """
        stream = getattr(self.implementation, "predict_stream", None)
        if not self.streamable or stream is None:
            raise InvalidArgumentError("This model does not support predict_stream")
        data, checked = self._prepare(data, params)
        result: Iterator[Any] = stream(data, params=checked)
        return result

    def unwrap_python_model(self) -> Any:
        """The underlying object: the PythonModel of a custom model, the estimator of sklearn."""
        for attr in ("python_model", "model"):
            if hasattr(self.implementation, attr):
                return getattr(self.implementation, attr)
        return self.implementation

    def __repr__(self) -> str:
        return f"PyFuncModel(loader_module={self.loader_module!r}, path={str(self.path)!r})"


def load_model(
    model_uri: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    model_config: Mapping[str, Any] | None = None,
) -> PyFuncModel:
    """Load any python_function model (mltrail's or MLflow's) for prediction.

    Args:
        model_uri: A local directory, ``file:``, ``runs:/``, ``models:/`` (id, version, stage,
            alias), ``s3://`` or ``mlflow-artifacts:/`` URI (more schemes through resolvers,
            see :mod:`mltrail.models.uri`).
        allow_pickle: Permit loading models whose files are unpickled, which executes code
            stored in the model. Only for models from sources you trust.
        model_config: Overrides of the saved model configuration (custom models).

    Raises:
        InvalidArgumentError: unsupported URI, pickled model without ``allow_pickle``, or an
            unknown ``loader_module``.
        NotFoundError: the directory has no MLmodel file or no python_function flavor.
    """
    path = resolve_model_uri(model_uri)
    metadata = Model.load(path)
    conf = metadata.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise NotFoundError(
            f"The model at {str(path)!r} has no python_function flavor "
            f"(flavors: {', '.join(sorted(metadata.flavors)) or 'none'}); load it with its own flavor"
        )
    loader_module = conf.get("loader_module")
    if not isinstance(loader_module, str):
        raise InvalidArgumentError("The python_function flavor has no loader_module")
    flavor = flavor_for_loader_module(loader_module)
    implementation = flavor.load_pyfunc(path, allow_pickle=allow_pickle, model_config=model_config)
    return PyFuncModel(metadata, implementation, path)


def save_model(
    path: str | os.PathLike[str],
    python_model: Any,
    *,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    model_config: Mapping[str, Any] | None = None,
    code_paths: Iterable[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Model:
    """Save a custom model as a python_function model directory.

    Args:
        path: A new (or empty) directory.
        python_model: A :class:`PythonModel` instance or a ``predict(model_input)`` function
            (cloudpickled: loading will need ``allow_pickle=True``), or the path of a ``.py``
            file that calls ``mltrail.models.set_model(model)`` (models-from-code: no pickle).
        artifacts: Name to local file or directory; copied into the model and exposed as
            ``context.artifacts[name]`` (an absolute path) at load time.
        model_config: Configuration exposed as ``context.model_config``.
        code_paths: Local modules or packages the model imports; copied into ``code/`` and put
            on ``sys.path`` when the model loads.
        signature: Explicit signature; ``False`` for none. By default it comes from ``list[...]``
            type hints on ``predict``, else from the input example.
        input_example: Example input, or ``(input, params)``.
        pip_requirements: Replaces the inferred requirements.
        extra_pip_requirements: Added to the requirements.
        metadata: User metadata for the MLmodel file.

    Returns:
        The MLmodel metadata written.
    """
    return get_flavor(FLAVOR_NAME).save(
        python_model,
        path,
        artifacts=artifacts,
        model_config=model_config,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
    )
