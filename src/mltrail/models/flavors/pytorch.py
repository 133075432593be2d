"""The PyTorch flavor: an exported program by default, weights in safetensors, pickle only on request.

Formats (``serialization_format``) and why the default is what it is:

- ``"pt2"``: ``torch.export`` traces ``forward`` on the input example into an ``ExportedProgram``
  (``data/model.pt2``). Its graph is JSON and its weights raw tensor bytes, so nothing in it is
  unpickled; before loading, every record is checked (:mod:`.torch_archive`) because
  ``torch.export.load`` would unpickle records of other kinds. This is the default whenever an
  input example is given, and the format MLflow 3.x writes by default.
- ``"torchscript"``: ``torch.jit.script`` (or ``trace`` on the example) saved with
  ``torch.jit.save``. TorchScript archives are read by TorchScript's own restricted loader, not by
  Python's pickle, so they are safe too; the default falls back to them when there is no example
  or export fails (TorchScript is deprecated by PyTorch, hence second).
- ``"state_dict"``: the weights in safetensors plus the model's class (``module:Class``) and
  constructor kwargs; the class is imported (from ``code_paths`` copied into ``code/``) and rebuilt.
- ``"pickle"``: ``torch.save`` of the whole module. Only when asked for. Loading first tries
  ``torch.load(weights_only=True)``, which works when the model's classes are registered with
  ``torch.serialization.add_safe_globals``; a full unpickle needs ``allow_pickle=True``.

Files and MLmodel keys follow ``mlflow.pytorch`` (``data/model.pt2``, ``data/model.pth`` with
``pickle_module_info.txt``, python_function ``loader_module: mlflow.pytorch``), so each loads
models the other saved in the formats both know.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from mltrail.errors import InvalidArgumentError, MissingDependencyError
from mltrail.models.environment import infer_requirements
from mltrail.models.flavor import Flavor
from mltrail.models.flavors.torch_archive import check_pt2_archive, import_torch, pickle_globals
from mltrail.models.input_example import split_example
from mltrail.models.model import Model
from mltrail.models.packaging import (
    add_code_to_path,
    copy_code_paths,
    finish_model,
    new_model_dir,
    pyfunc_conf,
)

__all__ = ["SERIALIZATION_FORMATS", "PytorchFlavor", "PytorchImplementation"]

SERIALIZATION_FORMATS = ("auto", "pt2", "torchscript", "state_dict", "pickle")
_DATA_DIR = "data"
_FILES = {
    "pt2": "model.pt2",
    "torchscript": "model.pth",
    "pickle": "model.pth",
    "state_dict": "model.safetensors",
}
_PICKLE_MODULE_FILE = "pickle_module_info.txt"
_LOADER_MODULE = "mlflow.pytorch"

_logger = logging.getLogger(__name__)


def _requirement(distribution: str) -> list[str]:
    # Local version labels (``2.13.0+cpu``) are not on the public index; pin the release itself.
    return [re.sub(r"\+[\w.]+$", "", line) for line in infer_requirements([distribution])]


def _as_tensor(torch: Any, data: Any) -> Any:
    """A tensor from an array, tensor, DataFrame or list (DataFrames become float32)."""
    import numpy as np

    if isinstance(data, torch.Tensor):
        return data
    if type(data).__name__ == "DataFrame":
        array = data.to_numpy(dtype=np.float32)
    else:
        array = np.asarray(data)
        if array.dtype == np.float64 and not isinstance(data, np.ndarray):
            array = array.astype(np.float32)
    array = np.ascontiguousarray(array)
    if not array.flags.writeable:  # torch.from_numpy shares memory and wants it writable
        array = array.copy()
    return torch.from_numpy(array)


def _to_numpy(torch: Any, value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, Mapping):
        return {k: _to_numpy(torch, v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_to_numpy(torch, v) for v in value]
    return value


class PytorchImplementation:
    """The python_function implementation of a PyTorch module.

    ``predict`` takes a DataFrame (as float32), a numpy array, a tensor, a list of numbers, or a
    dict of those (passed as keyword arguments), runs ``forward`` without gradients and returns
    numpy arrays, or a DataFrame with the input's index when the input was a DataFrame.

    Args:
        model: The loaded module.
        device: Where inputs are moved before ``forward`` (``"cpu"``, ``"cuda:0"``, ...).
    """

    def __init__(self, model: Any, device: str = "cpu") -> None:
        self.model = model
        self.device = device

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Run the module on ``data``; declared params are passed to ``forward`` as keywords."""
        torch = import_torch()
        kwargs = dict(params or {})
        with torch.no_grad():
            if isinstance(data, Mapping):
                inputs = {str(k): _as_tensor(torch, v).to(self.device) for k, v in data.items()}
                output = self.model(**inputs, **kwargs)
            else:
                output = self.model(_as_tensor(torch, data).to(self.device), **kwargs)
        result = _to_numpy(torch, output)
        if type(data).__name__ == "DataFrame" and getattr(result, "ndim", 0) in (1, 2):
            import pandas as pd

            return pd.DataFrame(result, index=data.index)
        return result


def _example_tensors(torch: Any, example: Any) -> tuple[Any, ...] | None:
    if example is None:
        return None
    if isinstance(example, Mapping):
        return None
    if isinstance(example, tuple | list) and example and all(isinstance(v, torch.Tensor) for v in example):
        return tuple(example)
    return (_as_tensor(torch, example),)


def _serializable_example(torch: Any, example: Any) -> Any:
    """The input example with tensors turned into numpy arrays (what the example files store)."""
    data, params = split_example(example)
    if isinstance(data, torch.Tensor):
        data = data.detach().cpu().numpy()
    return data if params is None else (data, params)


def _export(torch: Any, model: Any, tensors: tuple[Any, ...], file: Path) -> None:
    auto = torch.export.Dim.AUTO
    shapes = tuple({0: auto} if t.ndim else None for t in tensors)
    program = torch.export.export(model, tensors, dynamic_shapes=shapes)
    torch.export.save(program, str(file))


def _script(torch: Any, model: Any, tensors: tuple[Any, ...] | None, file: Path) -> None:
    with warnings.catch_warnings():
        # TorchScript is deprecated upstream but remains a format that loads without pickle.
        warnings.simplefilter("ignore", DeprecationWarning)
        if isinstance(model, torch.jit.ScriptModule):
            scripted = model
        else:
            try:
                scripted = torch.jit.script(model)
            except Exception:
                if tensors is None:
                    raise
                scripted = torch.jit.trace(model, tensors)
        torch.jit.save(scripted, str(file))


class PytorchFlavor(Flavor):
    """Saves and loads ``torch.nn.Module`` models."""

    name: ClassVar[str] = "pytorch"
    loader_modules: ClassVar[tuple[str, ...]] = (_LOADER_MODULE, "mltrail.pytorch")

    def save(
        self,
        model: Any,
        path: str | os.PathLike[str],
        *,
        serialization_format: str = "auto",
        model_init_kwargs: Mapping[str, Any] | None = None,
        code_paths: Iterable[str | os.PathLike[str]] | None = None,
        signature: Any = None,
        input_example: Any = None,
        pip_requirements: Any = None,
        extra_pip_requirements: Any = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Model:
        """Save a module; see :func:`mltrail.pytorch.save_model` for the arguments."""
        if kwargs:
            raise InvalidArgumentError(f"Unexpected arguments for the pytorch flavor: {sorted(kwargs)}")
        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidArgumentError(
                f"Unknown serialization_format {serialization_format!r}; "
                f"use one of {list(SERIALIZATION_FORMATS)}"
            )
        torch = import_torch()
        if not isinstance(model, torch.nn.Module):
            raise InvalidArgumentError(f"Expected a torch.nn.Module, got {type(model).__name__}")
        model.eval()
        data, _params = split_example(input_example)
        tensors = _example_tensors(torch, data)
        with new_model_dir(path) as directory:
            code = copy_code_paths(code_paths, directory)
            data_dir = directory / _DATA_DIR
            data_dir.mkdir()
            fmt = self._write(torch, model, serialization_format, tensors, data_dir)
            flavor: dict[str, Any] = {
                "model_data": _DATA_DIR,
                "pytorch_version": str(torch.__version__),
                "code": code,
                "serialization_format": fmt,
            }
            requirements = _requirement("torch")
            if fmt == "state_dict":
                flavor.update(_class_reference(model, model_init_kwargs))
                requirements += _requirement("safetensors")
                requirements += infer_requirements(modules=[type(model).__module__])
            elif model_init_kwargs:
                raise InvalidArgumentError(
                    "model_init_kwargs applies only to serialization_format='state_dict'"
                )
            if fmt == "pickle":
                requirements += infer_requirements(modules=_modules_in_torch_save(data_dir / _FILES[fmt]))
            pyfunc_extra: dict[str, Any] = {"data": _DATA_DIR, "code": code, "config": {"device": None}}
            if fmt in ("pickle", "torchscript"):
                (data_dir / _PICKLE_MODULE_FILE).write_text("pickle", encoding="utf-8")
                pyfunc_extra["pickle_module_name"] = "pickle"
            loader = "mltrail.pytorch" if fmt == "state_dict" else _LOADER_MODULE
            meta = Model().add_flavor("python_function", **pyfunc_conf(loader, **pyfunc_extra))
            meta.add_flavor(self.name, **flavor)
            impl = PytorchImplementation(model)
            return finish_model(
                directory,
                meta,
                requirements=sorted(set(requirements), key=str.lower),
                predict=impl.predict,
                signature=signature,
                input_example=_serializable_example(torch, input_example)
                if input_example is not None
                else None,
                pip_requirements=pip_requirements,
                extra_pip_requirements=extra_pip_requirements,
                metadata=metadata,
            )

    @staticmethod
    def _write(torch: Any, model: Any, fmt: str, tensors: tuple[Any, ...] | None, data_dir: Path) -> str:
        """Write the model file in ``fmt`` (resolving ``"auto"``) and return the format used."""
        if fmt == "auto":
            if isinstance(model, torch.jit.ScriptModule):
                fmt = "torchscript"
            elif tensors is not None:
                try:
                    _export(torch, model, tensors, data_dir / _FILES["pt2"])
                    return "pt2"
                except Exception as exc:  # export rejects some Python control flow; try TorchScript
                    _logger.warning("torch.export failed (%s); trying TorchScript", exc)
                    (data_dir / _FILES["pt2"]).unlink(missing_ok=True)
            try:
                _script(torch, model, tensors, data_dir / _FILES["torchscript"])
            except Exception as exc:
                raise InvalidArgumentError(
                    f"The model could neither be exported nor scripted ({exc}). Give an input_example "
                    "so it can be exported, or save it with serialization_format='state_dict' (weights "
                    "plus the model's code) or 'pickle' (loading then needs allow_pickle=True)."
                ) from exc
            return "torchscript"
        if fmt == "pt2":
            if tensors is None:
                raise InvalidArgumentError(
                    "serialization_format='pt2' needs an input_example (an array, tensor or DataFrame): "
                    "torch.export traces forward() on it"
                )
            _export(torch, model, tensors, data_dir / _FILES["pt2"])
        elif fmt == "torchscript":
            _script(torch, model, tensors, data_dir / _FILES["torchscript"])
        elif fmt == "state_dict":
            safetensors_torch = _import_safetensors()
            state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
            safetensors_torch.save_file(state, str(data_dir / _FILES["state_dict"]))
        else:
            torch.save(model, str(data_dir / _FILES["pickle"]))
        return fmt

    def load(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        device: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load the module (in eval mode).

        Args:
            path: The model directory.
            allow_pickle: Permit a ``torch.save`` pickle, or a ``.pt2`` archive with records that
                would be unpickled; both execute code stored in the model.
            device: Where to put the weights (default: where they were saved, CPU for pickles).
            **kwargs: Not used.

        Raises:
            InvalidArgumentError: loading would execute pickled code and ``allow_pickle`` is false.
        """
        torch = import_torch()
        directory = Path(path)
        conf = Model.load(directory).flavor_conf(self.name)
        data = directory / str(conf.get("model_data", _DATA_DIR))
        fmt = str(conf.get("serialization_format") or _detect_format(data))
        file = data / _FILES[fmt] if data.is_dir() else data
        if fmt == "pt2":
            if not allow_pickle:
                check_pt2_archive(file)
            model = torch.export.load(str(file)).module()
            return model if device is None else model.to(device)
        if fmt == "torchscript":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                model = torch.jit.load(str(file), map_location=device)
        elif fmt == "state_dict":
            model = _rebuild(directory, conf, file)
        elif fmt == "pickle":
            model = _load_pickle(torch, directory, conf, file, device, allow_pickle)
        else:
            raise InvalidArgumentError(f"Unknown serialization_format {fmt!r} in the MLmodel file")
        if device is not None:
            model = model.to(device)
        return model.eval()

    def load_pyfunc(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
    ) -> PytorchImplementation:
        """Load the module for prediction; ``model_config={"device": ...}`` picks the device."""
        conf = Model.load(path).flavors.get("python_function", {})
        config = {**dict(conf.get("config") or {}), **dict(model_config or {})}
        device = str(config.get("device") or "cpu")
        return PytorchImplementation(self.load(path, allow_pickle=allow_pickle, device=device), device)


def _load_pickle(
    torch: Any, directory: Path, conf: Mapping[str, Any], file: Path, device: str | None, allow_pickle: bool
) -> Any:
    """Load a ``torch.save`` pickle: ``weights_only=True`` first, a full unpickle only on opt-in."""
    location = device or "cpu"
    try:
        # Succeeds when every class in the file is one torch trusts by default or the caller
        # registered with torch.serialization.add_safe_globals; nothing else is constructed.
        return torch.load(str(file), map_location=location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if not allow_pickle:
            found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
            reason = f"it needs {found.group(1)}" if found else str(exc).splitlines()[0]
            raise InvalidArgumentError(
                f"Loading this model would execute pickled code: {file.name!r} is a torch.save pickle of "
                f"the whole module and torch.load(weights_only=True) refused it ({reason}); a full "
                "unpickle runs whatever code the file contains. Only if you trust where the model came "
                "from, opt in with load_model(..., allow_pickle=True), or register the model's classes "
                "with torch.serialization.add_safe_globals to load it with weights_only=True."
            ) from exc
    # The pickle names the model's classes, which may live in the model's code/ directory.
    add_code_to_path(directory, conf)
    return torch.load(str(file), map_location=location, weights_only=False)


def _import_safetensors() -> Any:
    try:
        return importlib.import_module("safetensors.torch")
    except ImportError as exc:
        raise MissingDependencyError("safetensors", "pytorch") from exc


def _class_reference(model: Any, init_kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    cls = type(model)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidArgumentError(
            f"serialization_format='state_dict' rebuilds the model from its class, but {cls.__qualname__} "
            "is not importable (defined in __main__ or inside a function); define it in a module and "
            "pass that module in code_paths"
        )
    kwargs = dict(init_kwargs or {})
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"model_init_kwargs must be JSON-serializable: {exc}") from exc
    return {"model_class": f"{cls.__module__}:{cls.__qualname__}", "model_init_kwargs": kwargs}


def _rebuild(directory: Path, conf: Mapping[str, Any], file: Path) -> Any:
    reference = str(conf.get("model_class") or "")
    module_name, sep, qualname = reference.partition(":")
    if not sep:
        raise InvalidArgumentError(f"Invalid model_class {reference!r} in the MLmodel file")
    add_code_to_path(directory, conf)
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    model = target(**dict(conf.get("model_init_kwargs") or {}))
    state = _import_safetensors().load_file(str(file))
    model.load_state_dict(state, strict=True)
    return model


def _detect_format(data: Path) -> str:
    """The format of a model saved without ``serialization_format`` (MLflow writes none)."""
    if data.is_dir() and (data / _FILES["pt2"]).is_file():
        return "pt2"
    file = data / _FILES["pickle"] if data.is_dir() else data
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return "pickle"
    # TorchScript archives carry compiled code and constants.pkl next to data.pkl.
    if any(n.endswith("/constants.pkl") for n in names) and any("/code/" in n for n in names):
        return "torchscript"
    return "pickle"


def _modules_in_torch_save(file: Path) -> set[str]:
    with zipfile.ZipFile(file) as archive:
        member = next(n for n in archive.namelist() if n.endswith("/data.pkl"))
        content = archive.read(member)
    try:
        return {g.rpartition(".")[0] for g in pickle_globals(content)}
    except ValueError:  # requirements inference is best effort; torch itself is always listed
        return set()
