"""The ``Flavor`` contract and the registry that finds a flavor by name or by loader module.

A flavor saves one framework's models into a local directory and loads them back, natively and as
a python_function. Built-in flavors are listed below by dotted path; third-party ones register
under the entry-point group ``mltrail.flavors`` (name = flavor name, value = ``module:Class``).
Nothing is imported until a flavor is asked for, so frameworks load only when used.
"""

from __future__ import annotations

import importlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.model import Model

__all__ = [
    "BUILTIN_FLAVORS",
    "FLAVOR_GROUP",
    "LOADER_MODULE_ALIASES",
    "Flavor",
    "PyFuncImplementation",
    "flavor_for_loader_module",
    "get_flavor",
    "known_flavors",
]

FLAVOR_GROUP = "mltrail.flavors"

_logger = logging.getLogger(__name__)

BUILTIN_FLAVORS: dict[str, str] = {
    "python_function": "mltrail.models.flavors.python_function:PythonFunctionFlavor",
    "sklearn": "mltrail.models.flavors.sklearn:SklearnFlavor",
    "pytorch": "mltrail.models.flavors.pytorch:PytorchFlavor",
    "transformers": "mltrail.models.flavors.transformers:TransformersFlavor",
}
"""Built-in flavors by name; they take precedence over entry points of the same name."""

LOADER_MODULE_ALIASES: dict[str, str] = {
    "mltrail.pyfunc.model": "python_function",
    "mlflow.pyfunc.model": "python_function",
    "mlflow.pyfunc.loaders.code_model": "python_function",
    "mltrail.sklearn": "sklearn",
    "mlflow.sklearn": "sklearn",
    "mltrail.pytorch": "pytorch",
    "mlflow.pytorch": "pytorch",
    "mltrail.transformers": "transformers",
    "mlflow.transformers": "transformers",
}
"""python_function ``loader_module`` values (ours and MLflow's) and the flavor that loads them."""


@runtime_checkable
class PyFuncImplementation(Protocol):
    """What :meth:`Flavor.load_pyfunc` returns: an object with ``predict(data, params=None)``.

    It may also offer ``predict_stream(data, params=None)``.
    """

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Compute predictions for already schema-enforced ``data``."""


class Flavor(ABC):
    """Saves and loads one framework's models in a local model directory.

    Class attributes:
        name: The flavor's key under ``flavors`` in the MLmodel file.
        loader_modules: python_function ``loader_module`` values this flavor loads (besides the
            built-in aliases).
    """

    name: ClassVar[str]
    loader_modules: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def save(self, model: Any, path: str | os.PathLike[str], **kwargs: Any) -> Model:
        """Save ``model`` into the new directory ``path`` (MLmodel, environment files, data).

        Args:
            model: The framework's model object.
            path: A directory that does not exist yet (or is empty).
            **kwargs: Flavor options, plus the common ones: ``signature``, ``input_example``,
                ``pip_requirements``, ``extra_pip_requirements``, ``metadata``.

        Returns:
            The MLmodel metadata written.

        Raises:
            InvalidArgumentError: the model or an option is not acceptable.
            AlreadyExistsError: ``path`` exists and is not empty.
        """

    @abstractmethod
    def load(self, path: str | os.PathLike[str], *, allow_pickle: bool = False, **kwargs: Any) -> Any:
        """Load the framework's native model object from a model directory.

        Args:
            path: The model directory.
            allow_pickle: Permit deserialization that can execute code stored in the model.
            **kwargs: Flavor options.

        Raises:
            InvalidArgumentError: loading would execute pickled code and ``allow_pickle`` is false.
            NotFoundError: the directory holds no model of this flavor.
        """

    @abstractmethod
    def load_pyfunc(
        self,
        path: str | os.PathLike[str],
        *,
        allow_pickle: bool = False,
        model_config: Mapping[str, Any] | None = None,
    ) -> PyFuncImplementation:
        """Load the model as a python_function implementation.

        Args:
            path: The model directory.
            allow_pickle: Permit deserialization that can execute code stored in the model.
            model_config: Overrides of the saved model configuration, where the flavor has one.

        Returns:
            An object whose ``predict(data, params=None)`` runs the model.

        Raises:
            InvalidArgumentError: loading would execute pickled code and ``allow_pickle`` is false.
        """


def _load_target(dotted: str) -> Any:
    module_name, sep, attr = dotted.partition(":")
    if not sep:
        raise InvalidArgumentError(f"Invalid flavor target {dotted!r}: expected 'module:Class'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _plugin_flavors() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=FLAVOR_GROUP)}


def known_flavors() -> list[str]:
    """Names of every available flavor (built-in and installed plugins), sorted."""
    return sorted(set(BUILTIN_FLAVORS) | set(_plugin_flavors()))


def get_flavor(name: str) -> Flavor:
    """The flavor registered under ``name``, built on first use.

    Raises:
        NotFoundError: no built-in or plugin flavor has that name.
        InvalidArgumentError: the plugin does not provide a :class:`Flavor`.
    """
    target = BUILTIN_FLAVORS.get(name) or _plugin_flavors().get(name)
    if target is None:
        raise NotFoundError(f"Unknown model flavor {name!r}; known flavors: {', '.join(known_flavors())}")
    factory = _load_target(target)
    flavor = factory()
    if not isinstance(flavor, Flavor):
        raise InvalidArgumentError(f"Flavor plugin {target!r} did not produce a Flavor")
    return flavor


def _all_flavors() -> Iterator[Flavor]:
    for name in known_flavors():
        try:
            yield get_flavor(name)
        except (InvalidArgumentError, ImportError, AttributeError) as exc:
            # One broken plugin must not stop models of other flavors from loading.
            _logger.warning("Skipping model flavor %r: %s", name, exc)


def flavor_for_loader_module(loader_module: str) -> Flavor:
    """The flavor that loads python_function models written with ``loader_module``.

    Raises:
        InvalidArgumentError: no flavor loads that module's models.
    """
    alias = LOADER_MODULE_ALIASES.get(loader_module)
    if alias is not None:
        return get_flavor(alias)
    for flavor in _all_flavors():
        if loader_module in flavor.loader_modules:
            return flavor
    raise InvalidArgumentError(
        f"No installed flavor loads python_function models with loader_module {loader_module!r}"
    )
