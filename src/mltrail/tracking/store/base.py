"""The tracking store contract: everything a backend must do to hold experiments and runs.

Implementations: ``SqlTrackingStore`` (SQLite, PostgreSQL, MySQL/MariaDB) and
``RestTrackingStore`` (an mltrail or MLflow server). One contract suite
(``tests/contract/test_tracking_store.py``) runs against every implementation, so the rules
written in these docstrings are the rules every backend keeps.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.tracking import ui_views
from mltrail.tracking.downsample import XAxis
from mltrail.tracking.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    Metric,
    ModelInput,
    ModelOutput,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.tracking.ui_views import ColumnKeys, MetricSeries, RunGroups

__all__ = [
    "SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT",
    "SEARCH_MAX_RESULTS_DEFAULT",
    "SEARCH_MAX_RESULTS_LIMIT",
    "TrackingStore",
]

SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT = 100
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_LIMIT = 50000


class TrackingStore(ABC):
    """Abstract store of experiments, runs, params, metrics, tags and dataset inputs.

    Every method raises a subclass of :class:`mltrail.errors.MltrailError` on failure:
    ``NotFoundError`` for unknown ids, ``InvalidArgumentError`` for broken rules (limits,
    formats, writes to deleted runs), ``AlreadyExistsError`` for duplicate names,
    ``InvalidStateError`` for actions the resource's state forbids, ``BackendError`` when the
    backend itself fails.
    """

    # -- experiments -------------------------------------------------------------------------

    @abstractmethod
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        """Create an experiment.

        Args:
            name: Unique name (unique across active and deleted experiments), 1..500 chars.
            artifact_location: Root for its runs' artifacts; default ``<store root>/<id>``.
            tags: Initial experiment tags.

        Returns:
            The new experiment's id (a string holding an integer).

        Raises:
            AlreadyExistsError: the name is taken.
            InvalidArgumentError: the name or location breaks a rule.
        """

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment (deleted ones too). Raises ``NotFoundError`` if unknown."""

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment:
        """Return the experiment with that exact name (deleted ones too), or raise ``NotFoundError``."""

    @abstractmethod
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Search experiments with the filter grammar of spec REST-TRACKING §1.3.

        Default order: ``creation_time DESC, experiment_id ASC``. ``max_results`` must be in
        1..50000. Garbage page tokens raise ``InvalidArgumentError``.
        """

    @abstractmethod
    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an active experiment and all its runs. Unknown or deleted: ``NotFoundError``."""

    @abstractmethod
    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and its runs. Unknown or active: ``NotFoundError``."""

    @abstractmethod
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment.

        Raises:
            InvalidStateError: the experiment is deleted.
            AlreadyExistsError: the new name is taken.
        """

    @abstractmethod
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Upsert an experiment tag; the experiment must be active (``InvalidArgumentError``)."""

    @abstractmethod
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete an experiment tag; a missing key raises ``NotFoundError``."""

    # -- runs --------------------------------------------------------------------------------

    @abstractmethod
    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an active experiment.

        The run name is ``run_name`` or the ``mlflow.runName`` tag (both given and different:
        ``InvalidArgumentError``), else a generated ``adjective-noun-NNN`` name; the
        ``mlflow.runName`` tag is always set to it. Unknown experiment: ``NotFoundError``;
        deleted experiment: ``InvalidArgumentError``.
        """

    @abstractmethod
    def get_run(self, run_id: str) -> Run:
        """Return a run (deleted ones too) with its latest metrics, params, tags, inputs, outputs."""

    @abstractmethod
    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change the given fields of an active run (``run_name`` also sets ``mlflow.runName``)."""

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (idempotent). Unknown run: ``NotFoundError``."""

    @abstractmethod
    def restore_run(self, run_id: str) -> None:
        """Restore a soft-deleted run (idempotent). Unknown run: ``NotFoundError``."""

    @abstractmethod
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Atomically log metrics, params and tags to an active run.

        Limits: ≤1000 metrics, ≤100 params, ≤100 tags, ≤1000 entities in all; keys per spec
        §0.7; duplicate param keys in one batch are rejected; a param already logged with a
        different value is rejected. On any rejection nothing of the batch is stored.
        Over-long param (6000) and tag (8000) values are truncated (or rejected when the store
        is configured not to truncate). Exact duplicate metric points are stored once.
        """

    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Log one metric point (same rules as :meth:`log_batch`)."""
        self.log_batch(run_id, metrics=[metric])

    def log_param(self, run_id: str, param: Param) -> None:
        """Log one param (same rules as :meth:`log_batch`)."""
        self.log_batch(run_id, params=[param])

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        """Upsert one run tag; ``mlflow.runName`` also renames the run."""
        self.log_batch(run_id, tags=[tag])

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag of an active run; a missing key raises ``NotFoundError``."""

    @abstractmethod
    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        """Every point of a metric, ordered by (timestamp, step, value); all in one page if
        ``max_results`` is None. Unknown run: ``NotFoundError``; unknown key: an empty page."""

    def get_metric_history_points(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[tuple[float, int, int]] | None:
        """The page :meth:`get_metric_history` returns, as bare ``(value, timestamp, step)`` tuples.

        A lean read path for long histories (the server encodes them without building a
        ``Metric`` per point). Only a store whose stored points carry nothing but those three
        fields (no dataset or model link) implements it; the default returns None, and callers
        then use :meth:`get_metric_history`.
        """
        return None

    @abstractmethod
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        start_step: int | None = None,
        end_step: int | None = None,
        max_results: int = 2500,
    ) -> list[Metric]:
        """Per run, up to ``max_results`` points sampled evenly over the steps in range, keeping
        the first and last; each point carries its ``run_id``. At most 100 runs."""

    @abstractmethod
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        """Record datasets (deduplicated per experiment by name and digest) and model inputs."""

    @abstractmethod
    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        """Record logged models produced by the run."""

    @abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        """Search runs with the filter grammar and ``order_by`` of spec REST-TRACKING §2.3.

        Paging visits every matching run exactly once. No experiment ids: an empty page.
        """

    @abstractmethod
    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """The distinct (name, digest, context) datasets used by runs of the experiments."""

    # -- logged models (MLflow 3) -------------------------------------------------------------

    @abstractmethod
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a ``LOGGED_MODEL_PENDING`` model in an active experiment.

        Its id is ``m-`` + 32 hex characters and its artifact root
        ``<experiment artifact_location>/models/<model_id>/artifacts``.

        Args:
            experiment_id: The experiment the model belongs to.
            name: Non-empty and without any of ``/ : . % " '``; a random name when None.
            source_run_id: The run that produced the model, if any.
            tags: Initial tags.
            params: Initial params.
            model_type: A free-form type label (e.g. ``agent``).

        Returns:
            The new model.

        Raises:
            NotFoundError: unknown experiment.
            InvalidArgumentError: the experiment is deleted, or the name breaks a rule.
        """

    @abstractmethod
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a model with its tags, params, metrics and registrations.

        Raises:
            NotFoundError: unknown model, or a deleted one unless ``allow_deleted``.
        """

    @abstractmethod
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set a model's status (``LOGGED_MODEL_READY`` or ``LOGGED_MODEL_UPLOAD_FAILED`` after the upload).

        Returns:
            The updated model.

        Raises:
            NotFoundError: unknown model.
        """

    @abstractmethod
    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a model (idempotent); it no longer appears in gets and searches.

        Raises:
            NotFoundError: unknown model.
        """

    @abstractmethod
    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Upsert tags of a model (the last value of a repeated key wins).

        Raises:
            NotFoundError: unknown model.
            InvalidArgumentError: an empty or over-long (255) key.
        """

    @abstractmethod
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete a tag of a model.

        Raises:
            NotFoundError: unknown model, or no such tag.
        """

    @abstractmethod
    def log_logged_model_params(self, model_id: str, params: Sequence[LoggedModelParameter]) -> None:
        """Add params to a model; logging a param again with the same value changes nothing.

        Raises:
            NotFoundError: unknown model.
            InvalidArgumentError: a param already logged with a different value, or a bad key.
        """

    @abstractmethod
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Search the active models of experiments (spec REST-TRACKING §3).

        Metrics logged with a ``model_id`` (``log_batch``) belong to that model: they appear in
        its ``metrics`` and can be filtered and ordered on.

        Args:
            experiment_ids: Experiments to search (at least one).
            filter_string: Clauses joined by ``AND`` over ``attributes`` (``name``, ``model_id``,
                ``model_type``, ``status``, ``source_run_id``, ``creation_timestamp``,
                ``last_updated_timestamp``), ``metrics.<key>`` (numbers, any logged point
                matches), ``params.<key>`` and ``tags.<key>`` (``= != LIKE ILIKE``).
            datasets: ``{"dataset_name", "dataset_digest"?}`` items: only models with metrics on
                one of these datasets match, and metric clauses only consider those points.
            max_results: Page size; None or 0 means 100.
            order_by: ``{"field_name", "ascending" (default True), "dataset_name"?,
                "dataset_digest"?}`` items; ``field_name`` is an attribute or
                ``metrics.<key>`` (ordered by the key's latest point). The order always ends
                with ``creation_timestamp DESC, model_id ASC``.
            page_token: The ``next_page_token`` of the previous page of this same search.

        Returns:
            One page of models.

        Raises:
            InvalidArgumentError: no experiment ids, a bad filter, order or dataset, or a page
                token made for a different search.
        """

    # -- reads for the web UI ----------------------------------------------------------------
    # Defaults built on the methods above, so every store has them; SQL stores override them.

    def get_metric_series(
        self,
        run_ids: Sequence[str],
        metric_keys: Sequence[str],
        max_points: int = 1000,
        x_axis: XAxis = "step",
        x_min: int | None = None,
        x_max: int | None = None,
    ) -> list[MetricSeries]:
        """Chart series of each (run, key), downsampled min/max-preserving to ``max_points``.

        Series come run by run, key by key, in the order given (duplicates dropped); a key a
        run never logged gives an empty series. ``x_min``/``x_max`` restrict the points to an
        inclusive range of the ``x_axis`` (``step`` or ``timestamp``) before downsampling; a
        series with at most ``max_points`` points in range is returned whole. See
        :mod:`mltrail.tracking.downsample` for which points a downsampled series keeps.

        Raises:
            NotFoundError: an unknown run.
            InvalidArgumentError: no runs or keys, more than 100 runs or 50 keys,
                ``max_points`` outside 10..10000, or an unknown axis.
        """
        return ui_views.metric_series_from_history(
            self, run_ids, metric_keys, max_points, x_axis, x_min, x_max
        )

    def count_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> int:
        """How many runs :meth:`search_runs` would visit (same filter grammar and errors)."""
        return ui_views.count_runs_by_search(self, experiment_ids, filter_string, run_view_type)

    def group_runs(
        self,
        experiment_ids: Sequence[str],
        group_by: str,
        metric_keys: Sequence[str] = (),
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> RunGroups:
        """Group the runs :meth:`search_runs` would visit by a param, tag or attribute.

        Args:
            experiment_ids: The experiments.
            group_by: ``params.<key>``, ``tags.<key>`` or ``attributes.<name>`` (see
                :func:`mltrail.tracking.ui_views.parse_group_by`).
            metric_keys: Metrics (at most 100) aggregated over each run's latest value.
            filter_string: The search filter.
            run_view_type: Active, deleted or all runs.

        Returns:
            Groups ordered by value (byte order, runs without the key last), at most 1000.

        Raises:
            InvalidArgumentError: a bad filter, grouping key or too many metric keys.
        """
        return ui_views.group_runs_by_search(
            self, experiment_ids, filter_string, run_view_type, group_by, metric_keys
        )

    def get_experiment_columns(self, experiment_ids: Sequence[str]) -> ColumnKeys:
        """The distinct param, metric and tag keys of the experiments' active runs (sorted)."""
        return ui_views.experiment_columns_by_search(self, experiment_ids)

    # -- garbage collection ------------------------------------------------------------------

    @abstractmethod
    def list_deleted_runs(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of soft-deleted runs, optionally only those deleted more than ``older_than_ms`` ago."""

    @abstractmethod
    def purge_run(self, run_id: str) -> None:
        """Permanently remove a soft-deleted run and everything logged to it (not artifacts)."""

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release connections and background resources."""
