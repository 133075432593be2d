"""Custom Python models: :class:`PythonModel`, its load-time context, and models-from-code.

A models-from-code file is a plain ``.py`` file that builds the model and calls
``mltrail.models.set_model(model)``; loading runs the file instead of unpickling anything.
Files written for MLflow (calling ``mlflow.models.set_model`` and subclassing
``mlflow.pyfunc.PythonModel``) load through a small stand-in for those two names.
"""

from __future__ import annotations

import inspect
import runpy
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mltrail.errors import InvalidArgumentError

__all__ = ["PythonModel", "PythonModelContext", "load_code_model", "set_model"]


@dataclass
class PythonModelContext:
    """What a :class:`PythonModel` receives at load and predict time.

    Attributes:
        artifacts: Artifact name to the absolute local path of its copy in the model directory.
        model_config: The model's configuration (saved with the model, overridable at load).
    """

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Base class of custom Python models.

    Subclasses implement ``predict(self, context, model_input, params=None)`` or
    ``predict(self, model_input, params=None)``, and may override :meth:`load_context` (to load
    artifacts once) and :meth:`predict_stream`. A ``list[...]`` type hint on the input of
    ``predict`` becomes the model's signature, and inputs are then passed through unconverted.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before any prediction.

        Args:
            context: Artifacts and model configuration.
        """

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Compute predictions.

        Args:
            context: Artifacts and model configuration (omit this parameter if unused).
            model_input: The (schema-enforced) input.
            params: Inference parameters.

        Returns:
            The predictions.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement predict")

    def predict_stream(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Iterator[Any]:
        """Yield predictions piece by piece; models that stream override this.

        Args:
            context: Artifacts and model configuration (omit this parameter if unused).
            model_input: The input.
            params: Inference parameters.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement predict_stream")


def is_streamable(model: Any) -> bool:
    """True when ``model`` overrides :meth:`PythonModel.predict_stream` (or has one of its own)."""
    method = getattr(type(model), "predict_stream", None)
    if method is None or method is PythonModel.predict_stream:
        return False
    # An MLflow PythonModel subclass that does not stream inherits MLflow's stub.
    return getattr(method, "__module__", "") != "mlflow.pyfunc.model"


def takes_context(method: Any) -> bool:
    """True when a ``predict``-like method's first parameter is ``context``."""
    params = [p for p in inspect.signature(method).parameters.values() if p.name != "self"]
    return bool(params) and params[0].name == "context"


_code_lock = threading.Lock()
_code_model: list[Any] = []


def set_model(model: Any) -> None:
    """Register the model a models-from-code file builds (call it at the end of that file).

    Args:
        model: A :class:`PythonModel` instance or a function ``predict(model_input)``.

    Raises:
        InvalidArgumentError: the model is neither.
    """
    if (
        not isinstance(model, PythonModel)
        and not callable(getattr(model, "predict", None))
        and not callable(model)
    ):
        raise InvalidArgumentError("set_model expects a PythonModel instance or a predict function")
    _code_model.append(model)


def _mlflow_stand_in() -> dict[str, types.ModuleType]:
    """Modules named ``mlflow``, ``mlflow.models`` and ``mlflow.pyfunc`` offering the two names
    MLflow models-from-code files use, bound to mltrail's own implementations."""
    root = types.ModuleType("mlflow")
    models = types.ModuleType("mlflow.models")
    pyfunc = types.ModuleType("mlflow.pyfunc")
    models.set_model = set_model  # type: ignore[attr-defined]
    pyfunc.PythonModel = PythonModel  # type: ignore[attr-defined]
    pyfunc.PythonModelContext = PythonModelContext  # type: ignore[attr-defined]
    root.models = models  # type: ignore[attr-defined]
    root.pyfunc = pyfunc  # type: ignore[attr-defined]
    for module in (root, models, pyfunc):
        module.__getattr__ = _stand_in_missing(module.__name__)  # type: ignore[method-assign]
    return {"mlflow": root, "mlflow.models": models, "mlflow.pyfunc": pyfunc}


class _StandInMissingError(AttributeError):
    """A models-from-code file used an MLflow name the stand-in does not offer."""


def _stand_in_missing(module: str) -> Any:
    def missing(name: str) -> Any:
        raise _StandInMissingError(f"{module}.{name}")

    return missing


def load_code_model(path: str | Path, model_config: Mapping[str, Any] | None = None) -> Any:
    """Run a models-from-code file and return the model it registers with :func:`set_model`.

    Args:
        path: The ``.py`` file.
        model_config: Made available to the file as the global ``model_config``.

    Raises:
        InvalidArgumentError: the file is missing or does not call ``set_model``.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidArgumentError(f"Model code file {str(file)!r} does not exist")
    uses_mlflow = "mlflow" in file.read_text(encoding="utf-8")
    with _code_lock:
        _code_model.clear()
        saved = {n: m for n, m in sys.modules.items() if n == "mlflow" or n.startswith("mlflow.")}
        if uses_mlflow:
            # Hide a real mlflow (if imported) so the file sees only the stand-in.
            for name in saved:
                del sys.modules[name]
            sys.modules.update(_mlflow_stand_in())
        try:
            runpy.run_path(str(file), init_globals={"model_config": dict(model_config or {})})
        except _StandInMissingError as exc:
            raise InvalidArgumentError(
                f"Model code file {file.name!r} uses {exc}; mltrail provides only "
                "mlflow.models.set_model and mlflow.pyfunc.PythonModel to such files"
            ) from exc
        except ImportError as exc:
            if uses_mlflow and (exc.name or "").startswith("mlflow"):
                raise InvalidArgumentError(
                    f"Model code file {file.name!r} imports {exc.name!r}; mltrail provides only "
                    "mlflow.models.set_model and mlflow.pyfunc.PythonModel to such files"
                ) from exc
            raise
        finally:
            if uses_mlflow:
                for name in [n for n in sys.modules if n == "mlflow" or n.startswith("mlflow.")]:
                    del sys.modules[name]
                sys.modules.update(saved)
        if not _code_model:
            raise InvalidArgumentError(
                f"Model code file {file.name!r} did not call mltrail.models.set_model(model)"
            )
        model = _code_model[-1]
        _code_model.clear()
    return model
