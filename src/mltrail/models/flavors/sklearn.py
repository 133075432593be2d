"""The scikit-learn flavor: skops by default, pickle or cloudpickle only when asked for.

Saving with skops lists the types skops does not trust by default and refuses any the caller did
not name in ``skops_trusted_types``. Loading a skops file trusts only skops' defaults plus the
types the caller names, or, with ``allow_pickle=True``, the list recorded in the MLmodel file.
Pickle-based files always need ``allow_pickle=True``. The MLmodel entries (``pickled_model``,
``serialization_format``, ``skops_trusted_types``, python_function ``loader_module:
mlflow.sklearn``) are the ones ``mlflow.sklearn.load_model`` reads, so MLflow loads these models.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from mltrail.errors import InvalidArgumentError, MissingDependencyError
from mltrail.models.environment import infer_requirements, modules_in_pickle, modules_in_skops
from mltrail.models.flavor import Flavor
from mltrail.models.model import Model
from mltrail.models.packaging import add_code_to_path, finish_model, new_model_dir, pyfunc_conf

__all__ = ["SERIALIZATION_FORMATS", "SklearnFlavor", "SklearnImplementation"]

SERIALIZATION_FORMATS = ("skops", "pickle", "cloudpickle")
_FILES = {"skops": "model.skops", "pickle": "model.pkl", "cloudpickle": "model.pkl"}
# mlflow.sklearn is the loader MLflow knows; mltrail maps it to this flavor (flavor.py).
_LOADER_MODULE = "mlflow.sklearn"


def _import(package: str, extra: str = "sklearn") -> Any:
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise MissingDependencyError(package, extra) from exc


class SklearnImplementation:
    """The python_function implementation of a scikit-learn model.

    Args:
        model: The estimator.
        predict_fn: The estimator method ``predict`` calls (``predict``, ``predict_proba``, ...).
    """

    def __init__(self, model: Any, predict_fn: str = "predict") -> None:
        self.model = model
        self.predict_fn = predict_fn

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Call the estimator's prediction method on ``data`` (params are not used)."""
        return getattr(self.model, self.predict_fn)(data)


class SklearnFlavor(Flavor):
    """Saves and loads scikit-learn estimators."""

    name: ClassVar[str] = "sklearn"
    loader_modules: ClassVar[tuple[str, ...]] = (_LOADER_MODULE, "mltrail.sklearn")

    def save(
        self,
        model: Any,
        path: str | os.PathLike[str],
        *,
        serialization_format: str = "skops",
        skops_trusted_types: Iterable[str] | None = None,
        pyfunc_predict_fn: str = "predict",
        signature: Any = None,
        input_example: Any = None,
        pip_requirements: Any = None,
        extra_pip_requirements: Any = None,
        metadata: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Model:
        """Save an estimator; see :func:`mltrail.sklearn.save_model` for the arguments."""
        if kwargs:
            raise InvalidArgumentError(f"Unexpected arguments for the sklearn flavor: {sorted(kwargs)}")
        if serialization_format not in SERIALIZATION_FORMATS:
            raise InvalidArgumentError(
                f"Unknown serialization_format {serialization_format!r}; "
                f"use one of {list(SERIALIZATION_FORMATS)}"
            )
        sklearn = _import("sklearn")
        trusted = sorted(set(skops_trusted_types or ()))
        with new_model_dir(path) as directory:
            file = directory / _FILES[serialization_format]
            if serialization_format == "skops":
                _dump_skops(model, file, trusted)
                packages = ["scikit-learn", "skops"]
                modules = modules_in_skops(file)
            else:
                dumper = pickle if serialization_format == "pickle" else _import("cloudpickle", "pyfunc")
                with open(file, "wb") as out:
                    dumper.dump(model, out)
                packages = ["scikit-learn"] + (
                    ["cloudpickle"] if serialization_format == "cloudpickle" else []
                )
                modules = modules_in_pickle(file)
            meta = Model()
            if callable(getattr(model, pyfunc_predict_fn, None)):
                meta.add_flavor(
                    "python_function",
                    **pyfunc_conf(
                        _LOADER_MODULE, model_path=file.name, predict_fn=pyfunc_predict_fn, code=None
                    ),
                )
            meta.add_flavor(
                self.name,
                pickled_model=file.name,
                serialization_format=serialization_format,
                sklearn_version=sklearn.__version__,
                skops_trusted_types=trusted or None,
                code=None,
            )
            impl = SklearnImplementation(model, pyfunc_predict_fn)
            return finish_model(
                directory,
                meta,
                requirements=infer_requirements(packages, modules),
                predict=impl.predict if callable(getattr(model, pyfunc_predict_fn, None)) else None,
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
        skops_trusted_types: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Load the estimator.

        Args:
            path: The model directory.
            allow_pickle: Permit pickle/cloudpickle files, and trust the skops types recorded in
                the MLmodel file.
            skops_trusted_types: Extra skops types to trust (beyond skops' defaults).
            **kwargs: Not used.

        Raises:
            InvalidArgumentError: the file is pickle-based, or references untrusted skops types,
                and the caller did not opt in.
        """
        directory = Path(path)
        conf = Model.load(directory).flavor_conf(self.name)
        fmt = str(conf.get("serialization_format", "pickle"))
        if fmt not in SERIALIZATION_FORMATS:
            raise InvalidArgumentError(f"Unknown serialization_format {fmt!r} in the MLmodel file")
        file = directory / str(conf.get("pickled_model", _FILES[fmt]))
        if fmt == "skops":
            trusted = set(skops_trusted_types or ())
            if allow_pickle:
                trusted |= set(conf.get("skops_trusted_types") or ())
            return _load_skops(file, trusted)
        if not allow_pickle:
            raise InvalidArgumentError(
                f"Loading this model would execute pickled code: {file.name!r} is stored in the {fmt!r} "
                "format, and unpickling runs whatever code the file contains. Only if you trust where "
                "the model came from, opt in with load_model(..., allow_pickle=True)."
            )
        # Pickles may reference modules shipped in the model's code/ directory (MLflow code_paths).
        add_code_to_path(directory, conf)
        loader = pickle if fmt == "pickle" else _import("cloudpickle", "pyfunc")
        with open(file, "rb") as handle:
            return loader.load(handle)

    def load_pyfunc(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
    ) -> SklearnImplementation:
        """Load the estimator for prediction through its ``predict_fn``."""
        meta = Model.load(path)
        predict_fn = str(meta.flavors.get("python_function", {}).get("predict_fn", "predict"))
        return SklearnImplementation(self.load(path, allow_pickle=allow_pickle), predict_fn)


def _dump_skops(model: Any, file: Path, trusted: list[str]) -> None:
    sio = _import("skops.io", "sklearn")
    exceptions = _import("skops.io.exceptions", "sklearn")
    try:
        sio.dump(model, file)
    except (exceptions.UnsupportedTypeException, TypeError) as exc:
        raise InvalidArgumentError(
            f"The model cannot be saved in the skops format ({exc}). skops stores only types it "
            "knows how to rebuild; save with serialization_format='cloudpickle' if you accept that "
            "loading it will need allow_pickle=True."
        ) from exc
    untrusted = sorted(set(sio.get_untrusted_types(file=file)) - set(trusted))
    if untrusted:
        raise InvalidArgumentError(
            f"The model references types that skops does not trust by default: {untrusted}. "
            "If you trust them, pass them as skops_trusted_types=[...] to save_model "
            "(loading will need them again); types skops cannot rebuild (lambdas, local "
            "functions) need serialization_format='cloudpickle' instead.",
            details={"untrusted_types": untrusted},
        )


def _load_skops(file: Path, trusted: set[str]) -> Any:
    sio = _import("skops.io", "sklearn")
    untrusted = sorted(set(sio.get_untrusted_types(file=file)) - trusted)
    if untrusted:
        raise InvalidArgumentError(
            f"The skops file {file.name!r} references types skops does not trust by default: "
            f"{untrusted}. Loading them can run their code. If you trust the model, pass "
            "skops_trusted_types=[...] naming them, or allow_pickle=True to trust the list "
            "recorded in the MLmodel file.",
            details={"untrusted_types": untrusted},
        )
    return sio.load(file, trusted=sorted(trusted) or None)
