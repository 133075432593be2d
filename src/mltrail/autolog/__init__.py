"""Autologging: one call, and training code records its params, metrics, data and model.

``autolog()`` turns on every integration whose framework is installed (found with
``importlib.util.find_spec``; a framework that is not installed is never imported)::

    import mltrail

    mltrail.autolog()

Each integration also has its own switch (``mltrail.sklearn.autolog()``,
``mltrail.pytorch.autolog()`` for Lightning, ``mltrail.transformers.autolog()``). A failure
inside an integration is reported as an :class:`AutologgingWarning`; training goes on.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Mapping
from typing import Any

from mltrail.autolog._safety import AutologgingWarning, warn_failure

__all__ = ["INTEGRATIONS", "AutologgingWarning", "autolog"]

# Integration name -> (module that must be importable, mltrail module with its ``autolog``).
INTEGRATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "sklearn": (("sklearn",), "mltrail.autolog.sklearn"),
    "lightning": (("pytorch_lightning", "lightning"), "mltrail.autolog.lightning"),
    "transformers": (("transformers",), "mltrail.autolog.transformers_trainer"),
}


def _installed(modules: tuple[str, ...]) -> bool:
    for name in modules:
        try:
            if importlib.util.find_spec(name) is not None:
                return True
        except (ImportError, ValueError):
            continue
    return False


def autolog(
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    log_input_examples: bool = True,
    *,
    log_post_training_metrics: bool = True,
    max_tuning_runs: int | None = None,
    extra_tags: Mapping[str, Any] | None = None,
    exclude: tuple[str, ...] = (),
) -> list[str]:
    """Turn on (or off) autologging for every installed framework.

    Args:
        disable: Turn every integration off again and remove its patches.
        log_models: Log trained models.
        log_datasets: Record training and evaluation data as run inputs.
        log_input_examples: Save input examples with the models.
        log_post_training_metrics: scikit-learn: log ``sklearn.metrics`` calls on predictions.
        max_tuning_runs: scikit-learn: child runs per hyperparameter search (None: all).
        extra_tags: Tags of the runs autologging creates.
        exclude: Integration names (keys of :data:`INTEGRATIONS`) to leave alone.

    Returns:
        The integrations turned on (or off).
    """
    done: list[str] = []
    for name, (modules, target) in INTEGRATIONS.items():
        if name in exclude or not _installed(modules):
            continue
        try:
            module = importlib.import_module(target)
            options: dict[str, Any] = {
                "disable": disable,
                "log_models": log_models,
                "log_datasets": log_datasets,
                "log_input_examples": log_input_examples,
                "extra_tags": extra_tags,
            }
            if name == "sklearn":
                options["log_post_training_metrics"] = log_post_training_metrics
                options["max_tuning_runs"] = max_tuning_runs
            module.autolog(**options)
        except Exception as exc:
            warn_failure(name, exc)
            continue
        done.append(name)
    return done


class _CallableModule(types.ModuleType):
    """Importing ``mltrail.autolog.<integration>`` binds this module as ``mltrail.autolog``,
    shadowing the function; calling the module calls :func:`autolog` so both spellings work."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[str]:
        return autolog(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
