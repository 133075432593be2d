"""The fluent API: ``start_run()`` / ``log_metric()`` over a default :class:`TrackingClient`.

The active run stack and the active experiment live in ``ContextVar``s, set and reset by
token, so they follow asyncio tasks and every thread starts with its own. Each function has
an explicit equivalent on ``TrackingClient``; the default client is built on first use from
``Settings()`` and the URI given to :func:`set_tracking_uri`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from mltrail.artifacts.paths import join_uri
from mltrail.data.dataset import Dataset
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking import context
from mltrail.tracking._fluent_state import (
    ActiveRun,
    active_run,
    current_experiment_id,
    default_client,
    end_run,
    get_tracking_uri,
    last_active_run,
    require_run,
    run_stack,
    set_experiment,
    set_tracking_uri,
    start_run,
)
from mltrail.tracking._frames import runs_to_frame
from mltrail.tracking.entities import DatasetInput, Experiment, InputTag, Run, ViewType
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_LIMIT

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
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
]

SEARCH_MAX_RESULTS_PANDAS = 100_000
_DATASET_CONTEXT_TAG = context.TAG_DATASET_CONTEXT


def flush() -> None:
    """Write every queued metric point of the default client.

    Raises:
        MltrailError: a background write failed.
    """
    default_client().flush()


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    """Create an experiment and return its id (see :meth:`TrackingClient.create_experiment`)."""
    return default_client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """Return an experiment by id. Raises ``NotFoundError`` if unknown."""
    return default_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Return the experiment with that name, or None (as MLflow's fluent API does)."""
    try:
        return default_client().get_experiment_by_name(name)
    except NotFoundError:
        return None


def delete_experiment(experiment_id: str) -> None:
    """Soft-delete an experiment and its runs."""
    default_client().delete_experiment(experiment_id)


def search_experiments(
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every experiment matching the filter (all pages, up to ``max_results`` if given)."""
    client = default_client()
    found: list[Experiment] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        page_size = SEARCH_MAX_RESULTS_LIMIT if max_results is None else min(max_results - len(found), 50_000)
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    return found


def get_run(run_id: str) -> Run:
    """Return a run (see :meth:`TrackingClient.get_run`)."""
    return default_client().get_run(run_id)


def delete_run(run_id: str) -> None:
    """Soft-delete a run."""
    default_client().delete_run(run_id)


def _view_type(value: ViewType | int | str) -> ViewType:
    try:
        return ViewType[value.upper()] if isinstance(value, str) else ViewType(value)
    except (KeyError, ValueError) as exc:
        raise InvalidArgumentError(
            f"Invalid run_view_type {value!r}: one of {[v.name for v in ViewType]}"
        ) from exc


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame: ...


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: Sequence[str] | None = None,
    *,
    output_format: Literal["list"],
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> list[Run]: ...


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Search runs across experiments, reading every page up to ``max_results``.

    Args:
        experiment_ids: Experiments to search (default: the active one, or all with
            ``search_all_experiments``).
        filter_string: e.g. ``metrics.loss < 0.5``.
        run_view_type: Active, deleted or all runs.
        max_results: Upper bound on runs returned.
        order_by: e.g. ``["metrics.loss ASC"]``.
        output_format: ``"pandas"`` for a DataFrame (``run_id``, ``experiment_id``,
            ``status``, ``artifact_uri``, ``start_time``, ``end_time``, ``metrics.*``,
            ``params.*``, ``tags.*``) or ``"list"`` for Run objects.
        search_all_experiments: With no ids or names, search every active experiment.
        experiment_names: Experiments to search by name (unknown names are ignored).

    Returns:
        A DataFrame or a list of runs.

    Raises:
        InvalidArgumentError: ids and names both given, or a bad output format or filter.
    """
    if output_format not in ("pandas", "list"):
        raise InvalidArgumentError(f"Invalid output_format {output_format!r}: 'pandas' or 'list'")
    if experiment_ids and experiment_names:
        raise InvalidArgumentError("Pass experiment_ids or experiment_names, not both")
    client = default_client()
    if experiment_names:
        ids = []
        for name in experiment_names:
            try:
                ids.append(client.get_experiment_by_name(name).experiment_id)
            except NotFoundError:
                continue
    elif experiment_ids:
        ids = [str(e) for e in experiment_ids]
    elif search_all_experiments:
        ids = [e.experiment_id for e in search_experiments(ViewType.ACTIVE_ONLY)]
    else:
        ids = [current_experiment_id()]
    view = _view_type(run_view_type)
    runs: list[Run] = []
    token: str | None = None
    while ids and len(runs) < max_results:
        page = client.search_runs(
            ids, filter_string, view, min(max_results - len(runs), SEARCH_MAX_RESULTS_LIMIT), order_by, token
        )
        runs.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    if output_format == "list":
        return runs
    return runs_to_frame(runs)


# -- logging to the active run -----------------------------------------------------------------


def log_param(key: str, value: Any) -> Any:
    """Log a param to the active run (one is started if none is); returns ``value``."""
    active = require_run()
    return active._client.log_param(active.run_id, key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Log several params to the active run in one batch."""
    active = require_run()
    active._client.log_params(active.run_id, params)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log a metric point to the active run (queued unless ``synchronous``).

    Args:
        key: Metric name.
        value: A real number.
        step: Training step (default 0).
        synchronous: Write now (True), queue (False) or follow ``MLTRAIL_ASYNC_LOGGING`` (None).
        timestamp: Milliseconds since the epoch (default: now).
        run_id: Log to this run instead of the active one.

    Raises:
        InvalidArgumentError: a bad key or value.
    """
    if run_id is not None:
        default_client().log_metric(run_id, key, value, step or 0, timestamp, synchronous)
        return
    stack = run_stack.get()
    active = stack[-1] if stack else require_run()
    active._client.log_metric(active.run_id, key, value, step or 0, timestamp, synchronous)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
) -> None:
    """Log several metrics at one step to the active run (or to ``run_id``)."""
    if run_id is not None:
        default_client().log_metrics(run_id, metrics, step or 0, timestamp, synchronous)
        return
    active = require_run()
    active._client.log_metrics(active.run_id, metrics, step or 0, timestamp, synchronous)


def set_tag(key: str, value: Any) -> None:
    """Set a tag of the active run."""
    active = require_run()
    active._client.set_tag(active.run_id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags of the active run in one batch."""
    active = require_run()
    active._client.set_tags(active.run_id, tags)


def delete_tag(key: str) -> None:
    """Delete a tag of the active run. Raises ``NotFoundError`` if it is not set."""
    active = require_run()
    active._client.delete_tag(active.run_id, key)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The artifact URI of the active run, or of a path below it."""
    active = require_run()
    return join_uri(active.info.artifact_uri, artifact_path)


def log_artifact(local_path: str, artifact_path: str | None = None) -> None:
    """Upload a local file to the active run's artifacts."""
    active = require_run()
    active._client.log_artifact(active.run_id, local_path, artifact_path)


def log_artifacts(local_dir: str, artifact_path: str | None = None) -> None:
    """Upload a local directory tree to the active run's artifacts."""
    active = require_run()
    active._client.log_artifacts(active.run_id, local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> None:
    """Write text as an artifact file of the active run."""
    active = require_run()
    active._client.log_text(active.run_id, text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str) -> None:
    """Write JSON (or YAML for ``.yaml``/``.yml``) as an artifact file of the active run."""
    active = require_run()
    active._client.log_dict(active.run_id, dictionary, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Save a matplotlib figure as an artifact of the active run."""
    active = require_run()
    active._client.log_figure(active.run_id, figure, artifact_file)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
) -> None:
    """Save an image (numpy array or PIL image) as PNG in the active run (see TrackingClient.log_image)."""
    active = require_run()
    active._client.log_image(active.run_id, image, artifact_file, key, step, timestamp)


def log_table(data: Any, artifact_file: str) -> None:
    """Save (or append to) a JSON table artifact of the active run."""
    active = require_run()
    active._client.log_table(active.run_id, data, artifact_file)


def log_input(dataset: Dataset, context: str | None = None, tags: Mapping[str, str] | None = None) -> None:
    """Record a dataset the active run used.

    Args:
        dataset: From ``mltrail.data.from_pandas`` / ``from_numpy``.
        context: Its role, e.g. ``"training"`` (input tag ``mlflow.data.context``).
        tags: Extra input tags.
    """
    active = require_run()
    input_tags = [InputTag(k, str(v)) for k, v in (tags or {}).items()]
    if context is not None:
        input_tags.append(InputTag(_DATASET_CONTEXT_TAG, context))
    active._client.log_inputs(active.run_id, [DatasetInput(dataset.to_entity(), tuple(input_tags))])
