"""mltrail: fast, safe, MLflow-compatible tracking of ML and LLM work.

The public names below are loaded on first access, so ``import mltrail`` does no I/O, starts
no thread and imports neither SQLAlchemy nor pandas, numpy or matplotlib::

    import mltrail

    mltrail.set_experiment("demo")
    with mltrail.start_run():
        mltrail.log_param("lr", 0.1)
        mltrail.log_metric("loss", 0.25, step=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_FLUENT = "mltrail.tracking.fluent"
_ERRORS = "mltrail.errors"
_ENTITIES = "mltrail.tracking.entities"

# Public name -> module that defines it.
_LAZY: dict[str, str] = {
    **{
        name: _FLUENT
        for name in (
            "ActiveRun",
            "active_run",
            "create_experiment",
            "delete_experiment",
            "delete_run",
            "delete_tag",
            "end_run",
            "flush",
            "get_artifact_uri",
            "get_experiment",
            "get_experiment_by_name",
            "get_run",
            "get_tracking_uri",
            "last_active_run",
            "log_artifact",
            "log_artifacts",
            "log_dict",
            "log_figure",
            "log_image",
            "log_input",
            "log_metric",
            "log_metrics",
            "log_param",
            "log_params",
            "log_table",
            "log_text",
            "search_experiments",
            "search_runs",
            "set_experiment",
            "set_tag",
            "set_tags",
            "set_tracking_uri",
            "start_run",
        )
    },
    "TrackingClient": "mltrail.tracking.client",
    "RegistryClient": "mltrail.registry.client",
    **{
        name: "mltrail.registry.fluent"
        for name in ("register_model", "search_model_versions", "search_registered_models")
    },
    "Settings": "mltrail.config",
    **{
        name: "mltrail.tracing.api"
        for name in (
            "SpanType",
            "flush_traces",
            "get_current_active_span",
            "start_span",
            "trace",
            "update_current_trace",
        )
    },
    "search_traces": "mltrail.tracing.fluent",
    "autolog": "mltrail.autolog",
    **{
        name: _ERRORS
        for name in (
            "AlreadyExistsError",
            "BackendError",
            "InvalidArgumentError",
            "InvalidStateError",
            "MissingDependencyError",
            "MltrailError",
            "NotFoundError",
        )
    },
    **{
        name: _ENTITIES
        for name in ("Experiment", "Metric", "Param", "Run", "RunInfo", "RunStatus", "RunTag", "ViewType")
    },
}
_SUBMODULES = frozenset({"data"})

__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "BackendError",
    "Experiment",
    "InvalidArgumentError",
    "InvalidStateError",
    "Metric",
    "MissingDependencyError",
    "MltrailError",
    "NotFoundError",
    "Param",
    "RegistryClient",
    "Run",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "Settings",
    "SpanType",
    "TrackingClient",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "data",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "flush_traces",
    "get_artifact_uri",
    "get_current_active_span",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "search_experiments",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "search_traces",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    "start_span",
    "trace",
    "update_current_trace",
]

if TYPE_CHECKING:
    from mltrail import data
    from mltrail.autolog import autolog
    from mltrail.config import Settings
    from mltrail.errors import (
        AlreadyExistsError,
        BackendError,
        InvalidArgumentError,
        InvalidStateError,
        MissingDependencyError,
        MltrailError,
        NotFoundError,
    )
    from mltrail.tracing.api import (
        SpanType,
        flush_traces,
        get_current_active_span,
        start_span,
        trace,
        update_current_trace,
    )
    from mltrail.tracing.fluent import search_traces
    from mltrail.tracking.client import TrackingClient
    from mltrail.tracking.entities import (
        Experiment,
        Metric,
        Param,
        Run,
        RunInfo,
        RunStatus,
        RunTag,
        ViewType,
    )
    from mltrail.tracking.fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        delete_tag,
        end_run,
        flush,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_image,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_table,
        log_text,
        search_experiments,
        search_runs,
        set_experiment,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
