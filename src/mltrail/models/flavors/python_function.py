"""The python_function flavor for custom models: a pickled :class:`PythonModel` or models-from-code.

A ``.py`` file passed as the model is copied into the directory and run at load time (no pickle,
no opt-in). A model object is cloudpickled to ``python_model.pkl``; loading it executes pickled
code and therefore needs ``allow_pickle=True``. The MLmodel's ``loader_module`` is
``mltrail.pyfunc.model``, so MLflow's ``mlflow.pyfunc.load_model`` loads these models too when
mltrail is installed. Models saved by MLflow with ``mlflow.pyfunc.model`` load here as well.
"""

from __future__ import annotations

import os
import shutil
import typing
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlparse

from mltrail.errors import InvalidArgumentError, MissingDependencyError, NotFoundError
from mltrail.models.enforcement import check_value
from mltrail.models.environment import infer_requirements, modules_in_pickle, pinned_requirement
from mltrail.models.flavor import Flavor
from mltrail.models.model import Model
from mltrail.models.packaging import (
    add_code_to_path,
    copy_code_paths,
    finish_model,
    new_model_dir,
    pyfunc_conf,
)
from mltrail.models.python_model import (
    PythonModel,
    PythonModelContext,
    is_streamable,
    load_code_model,
    takes_context,
)
from mltrail.models.schema import ColSpec
from mltrail.models.signature import predict_hints, signature_from_type_hints

__all__ = ["LOADER_MODULE", "PythonFunctionFlavor", "PythonModelImplementation"]

LOADER_MODULE = "mltrail.pyfunc.model"
_PICKLE_FILE = "python_model.pkl"
_ARTIFACTS_DIR = "artifacts"


def _cloudpickle() -> Any:
    try:
        import cloudpickle  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MissingDependencyError("cloudpickle", "pyfunc") from exc
    return cloudpickle


class _FunctionModel(PythonModel):
    """Wraps a plain ``predict(model_input)`` function as a PythonModel."""

    def __init__(self, func: Any) -> None:
        self.func = func

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return self.func(model_input)


def _as_python_model(obj: Any) -> Any:
    if isinstance(obj, PythonModel) or callable(getattr(obj, "predict", None)):
        return obj
    if callable(obj):
        return _FunctionModel(obj)
    raise InvalidArgumentError(
        f"python_model must be a PythonModel, a predict function or a .py file path, got {type(obj).__name__}"
    )


class PythonModelImplementation:
    """The python_function implementation of a custom model: calls its ``predict`` with context.

    Args:
        python_model: The loaded model (its ``load_context`` already called).
        context: The context passed to ``predict``.
    """

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context

    def _call(self, method: Any, data: Any, params: dict[str, Any] | None) -> Any:
        if takes_context(method):
            return method(self.context, data, params=params)
        return method(data, params=params)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Run the model's ``predict`` (inputs follow its type hints when it has them)."""
        method = self.python_model.predict
        return self._call(method, _follow_hints(method, data), params)

    def predict_stream(self, data: Any, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Run the model's ``predict_stream``.

        Raises:
            InvalidArgumentError: the model does not stream.
        """
        if not is_streamable(self.python_model):
            raise InvalidArgumentError("This model does not support predict_stream")
        method = self.python_model.predict_stream
        result: Iterator[Any] = self._call(method, _follow_hints(method, data), params)
        return result


def _follow_hints(method: Any, data: Any) -> Any:
    """Shape ``data`` for a method whose input is hinted ``list[...]`` and check its items."""
    hint, _ = predict_hints(method)
    if typing.get_origin(hint) is not list:
        return data
    (item,) = typing.get_args(hint) or (Any,)
    if type(data).__name__ == "DataFrame":
        data = _frame_to_list(data, item)
    if not isinstance(data, list):
        raise InvalidArgumentError(f"The model expects a list input ({hint}), got {type(data).__name__}")
    schema = signature_from_type_hints(method)
    if schema is not None and schema.inputs is not None:
        spec = schema.inputs.inputs[0]
        if isinstance(spec, ColSpec):
            for value in data:
                check_value(_plain(value), spec.type, "input")
    if isinstance(item, type) and hasattr(item, "model_validate"):
        return [v if isinstance(v, item) else item.model_validate(v) for v in data]
    return data


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


def _frame_to_list(frame: Any, item: Any) -> list[Any]:
    if item is str:
        for column in frame.columns:
            values: list[Any] = frame[column].tolist()
            if values and all(isinstance(v, str) for v in values):
                return values
        raise InvalidArgumentError("The model expects strings but the input has no string column")
    if len(frame.columns) == 1 and item not in (dict, Any) and typing.get_origin(item) is not dict:
        return list(frame.iloc[:, 0].tolist())
    records: list[Any] = frame.to_dict(orient="records")
    return records


def _copy_artifacts(artifacts: Mapping[str, str | os.PathLike[str]], directory: Path) -> dict[str, Any]:
    conf: dict[str, Any] = {}
    target_dir = directory / _ARTIFACTS_DIR
    for name, source in artifacts.items():
        text = os.fspath(source)
        parsed = urlparse(text)
        if parsed.scheme == "file":
            local = Path(unquote(parsed.path))
        elif len(parsed.scheme) > 1:
            raise InvalidArgumentError(
                f"Artifact {name!r}: only local paths and file: URIs can be packaged, got {text!r}"
            )
        else:
            local = Path(text)
        if not local.exists():
            raise InvalidArgumentError(f"Artifact {name!r}: {text!r} does not exist")
        dest = target_dir / local.name
        if dest.exists():
            raise InvalidArgumentError(f"Artifact {name!r}: another artifact is already named {local.name!r}")
        target_dir.mkdir(exist_ok=True)
        if local.is_dir():
            shutil.copytree(local, dest)
        else:
            shutil.copy2(local, dest)
        conf[name] = {"path": f"{_ARTIFACTS_DIR}/{local.name}", "uri": text}
    return conf


class PythonFunctionFlavor(Flavor):
    """Custom Python models (:class:`PythonModel` objects, predict functions, or code files)."""

    name: ClassVar[str] = "python_function"
    loader_modules: ClassVar[tuple[str, ...]] = (
        LOADER_MODULE,
        "mlflow.pyfunc.model",
        "mlflow.pyfunc.loaders.code_model",
    )

    def save(
        self,
        model: Any,
        path: str | os.PathLike[str],
        *,
        artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
        model_config: Mapping[str, Any] | None = None,
        code_paths: Iterable[str | os.PathLike[str]] | None = None,
        signature: Any = None,
        input_example: Any = None,
        pip_requirements: Any = None,
        extra_pip_requirements: Any = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Model:
        """Save a custom model; see :func:`mltrail.pyfunc.save_model` for the arguments."""
        if kwargs:
            raise InvalidArgumentError(
                f"Unexpected arguments for the python_function flavor: {sorted(kwargs)}"
            )
        is_code = isinstance(model, str | os.PathLike) and os.fspath(model).endswith(".py")
        with new_model_dir(path) as directory:
            extra: dict[str, Any] = {"code": copy_code_paths(code_paths, directory)}
            if is_code:
                source = Path(os.fspath(model))
                if not source.is_file():
                    raise InvalidArgumentError(f"Model code file {str(source)!r} does not exist")
                shutil.copy2(source, directory / source.name)
                extra["model_code_path"] = source.name
                python_model = _as_python_model(load_code_model(directory / source.name, model_config))
                requirements: list[str] = []
            else:
                python_model = _as_python_model(model)
                cloudpickle = _cloudpickle()
                with open(directory / _PICKLE_FILE, "wb") as out:
                    cloudpickle.dump(python_model, out)
                extra["python_model"] = _PICKLE_FILE
                extra["cloudpickle_version"] = cloudpickle.__version__
                requirements = [pinned_requirement("cloudpickle")]
                requirements += infer_requirements(modules=modules_in_pickle(directory / _PICKLE_FILE))
            if artifacts:
                extra["artifacts"] = _copy_artifacts(artifacts, directory)
            if model_config:
                extra["config"] = dict(model_config)
            extra["streamable"] = is_streamable(python_model)
            meta = Model().add_flavor(self.name, **pyfunc_conf(LOADER_MODULE, **extra))
            hinted = signature_from_type_hints(python_model.predict) if signature is None else None
            if hinted is not None:
                meta.signature = hinted
                meta.is_signature_from_type_hint = True
            context = _context(directory, meta.flavors[self.name], model_config)

            def run(data: Any, params: dict[str, Any] | None) -> Any:
                _load_context(python_model, context)
                return PythonModelImplementation(python_model, context).predict(data, params)

            return finish_model(
                directory,
                meta,
                requirements=requirements,
                predict=run,
                signature=signature,
                input_example=input_example,
                pip_requirements=pip_requirements,
                extra_pip_requirements=extra_pip_requirements,
                metadata=metadata,
            )

    def load(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load the custom model object (with ``load_context`` already called)."""
        return self.load_pyfunc(path, allow_pickle=allow_pickle, model_config=model_config).python_model

    def load_pyfunc(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
    ) -> PythonModelImplementation:
        """Load the model for prediction; pickled models need ``allow_pickle=True``."""
        directory = Path(path)
        conf = Model.load(directory).flavor_conf(self.name)
        config = {**dict(conf.get("config") or conf.get("model_config") or {}), **dict(model_config or {})}
        code_file = conf.get("model_code_path")
        pickled = conf.get("python_model")
        if code_file is None and isinstance(pickled, str) and pickled.endswith(".py"):
            code_file, pickled = pickled, None
        if code_file is not None or allow_pickle:
            add_code_to_path(directory, conf)
        if code_file is not None:
            python_model = _as_python_model(load_code_model(directory / Path(str(code_file)).name, config))
        elif pickled is not None:
            if conf.get("python_model_compression"):
                raise InvalidArgumentError("Compressed python_model files are not supported")
            python_model = self._unpickle(directory / str(pickled), allow_pickle)
        else:
            raise NotFoundError(
                "The python_function flavor names neither a model code file nor a python_model"
            )
        context = _context(directory, conf, config)
        _load_context(python_model, context)
        return PythonModelImplementation(python_model, context)

    @staticmethod
    def _unpickle(file: Path, allow_pickle: bool) -> Any:
        if not allow_pickle:
            raise InvalidArgumentError(
                f"Loading this model would execute pickled code: its python_model {file.name!r} is a "
                "cloudpickle file, and unpickling runs whatever code the file contains. Only if you "
                "trust where the model came from, opt in with load_model(..., allow_pickle=True)."
            )
        with open(file, "rb") as handle:
            return _cloudpickle().load(handle)


def _load_context(python_model: Any, context: PythonModelContext) -> None:
    load_context = getattr(python_model, "load_context", None)
    if callable(load_context):
        load_context(context)


def _context(
    directory: Path, conf: Mapping[str, Any], config: Mapping[str, Any] | None
) -> PythonModelContext:
    artifacts = {
        str(name): str((directory / str(info["path"])).resolve())
        for name, info in (conf.get("artifacts") or {}).items()
    }
    return PythonModelContext(artifacts=artifacts, model_config=dict(config or {}))
