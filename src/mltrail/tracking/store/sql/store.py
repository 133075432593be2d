"""``SqlTrackingStore``: the tracking store on SQLite, PostgreSQL or MySQL/MariaDB.

Composes the per-aggregate helpers (experiments, runs, metrics, inputs, search) around one
:class:`~mltrail.db.Database`. On first use in a process, a database that is empty or at an
older schema revision is migrated to the newest one (Alembic, programmatic), and the ``Default``
experiment (id ``0``) is created if missing. Every public method validates its input first,
runs in one transaction, and turns driver errors into the mltrail error tree.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from mltrail.db import Database, current_revision, get_database, head_revision, upgrade
from mltrail.errors import InvalidArgumentError
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
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_LIMIT, TrackingStore
from mltrail.tracking.store.sql import experiments, inputs, logged_models, metrics, runs, search, ui_queries
from mltrail.tracking.store.sql.errors import translate_errors
from mltrail.tracking.store.sql.logged_model_methods import LoggedModelMethods
from mltrail.tracking.ui_views import (
    ColumnKeys,
    MetricSeries,
    RunGroups,
    check_group_metrics,
    check_series_request,
    parse_group_by,
)
from mltrail.tracking.validation import (
    CUSTOM_VIEW_TAG_PREFIX,
    MAX_CUSTOM_VIEWS_PER_EXPERIMENT,
    custom_view_limit_error,
    validate_artifact_location,
    validate_batch,
    validate_dataset_inputs,
    validate_experiment_id,
    validate_experiment_name,
    validate_experiment_tag,
    validate_max_results,
)

__all__ = ["SqlTrackingStore"]

_migrate_lock = threading.Lock()


def _migrate(db: Database) -> None:
    if db.migrated:
        return
    with _migrate_lock:
        if db.migrated:
            return
        with db.read() as conn:
            at_head = current_revision(conn) == head_revision()
        if not at_head:
            upgrade(db)
        db.migrated = True


class SqlTrackingStore(LoggedModelMethods, TrackingStore):
    """Tracking store on a SQL database.

    Args:
        db_uri: ``sqlite:///path.db``, ``sqlite:///:memory:``, ``postgresql://...`` or
            ``mysql://...`` (bare schemes get the psycopg / PyMySQL drivers).
        default_artifact_root: Root of new experiments' artifact locations (``<root>/<id>``).
        truncate_long_values: Truncate over-long param and tag values (else reject them).

    Raises:
        BackendError: the database cannot be reached or migrated.
    """

    def __init__(self, db_uri: str, default_artifact_root: str, *, truncate_long_values: bool = True) -> None:
        self._db = get_database(db_uri)
        self._dialect = self._db.dialect
        self._series_cache = ui_queries.SeriesCache()
        self.default_artifact_root = default_artifact_root
        self.truncate_long_values = truncate_long_values
        self._init()

    @translate_errors
    def _init(self) -> None:
        _migrate(self._db)
        with self._db.write() as conn:
            experiments.ensure_default(conn, self._dialect, self.default_artifact_root)

    @property
    def database(self) -> Database:
        """The database handle this store runs on."""
        return self._db

    # -- experiments -------------------------------------------------------------------------

    @translate_errors
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        validate_experiment_name(name)
        if artifact_location:
            validate_artifact_location(artifact_location)
        checked = [validate_experiment_tag(k, v) for k, v in tags or ()]
        views = {k for k, _ in checked if k.startswith(CUSTOM_VIEW_TAG_PREFIX)}
        if len(views) > MAX_CUSTOM_VIEWS_PER_EXPERIMENT:
            raise custom_view_limit_error()
        with self._db.write() as conn:
            return experiments.create(conn, name, artifact_location, checked, self.default_artifact_root)

    @translate_errors
    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._db.read() as conn:
            return experiments.get(conn, experiment_id)

    @translate_errors
    def get_experiment_by_name(self, name: str) -> Experiment:
        with self._db.read() as conn:
            return experiments.get_by_name(conn, name)

    @translate_errors
    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        validate_max_results(max_results, SEARCH_MAX_RESULTS_LIMIT)
        with self._db.read() as conn:
            items, token = experiments.search(
                conn, self._dialect, view_type, max_results, filter_string, order_by, page_token
            )
        return Page(items, token)

    @translate_errors
    def delete_experiment(self, experiment_id: str) -> None:
        with self._db.write() as conn:
            experiments.delete(conn, experiment_id)

    @translate_errors
    def restore_experiment(self, experiment_id: str) -> None:
        with self._db.write() as conn:
            experiments.restore(conn, experiment_id)

    @translate_errors
    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        with self._db.write() as conn:
            experiments.rename(conn, experiment_id, new_name)

    @translate_errors
    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        key, value = validate_experiment_tag(key, value)
        with self._db.write() as conn:
            experiments.set_tag(conn, self._dialect, experiment_id, key, value)

    @translate_errors
    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._db.write() as conn:
            experiments.delete_tag(conn, experiment_id, key)

    # -- runs --------------------------------------------------------------------------------

    @translate_errors
    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run; ``start_time`` None means now (see :class:`TrackingStore`)."""
        if experiment_id is None or str(experiment_id) == "":
            raise InvalidArgumentError("Missing value for required parameter 'experiment_id'.")
        validate_experiment_id(experiment_id)
        _, _, checked = validate_batch((), (), tags, truncate=self.truncate_long_values)
        with self._db.write() as conn:
            return runs.create(conn, self._dialect, experiment_id, user_id, start_time, checked, run_name)

    @translate_errors
    def get_run(self, run_id: str) -> Run:
        with self._db.read() as conn:
            return runs.get(conn, run_id)

    @translate_errors
    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        if run_name is not None:
            validate_batch((), (), [RunTag(runs.RUN_NAME_TAG, run_name)], truncate=self.truncate_long_values)
        with self._db.write() as conn:
            return runs.update_info(conn, self._dialect, run_id, status, end_time, run_name)

    @translate_errors
    def delete_run(self, run_id: str) -> None:
        with self._db.write() as conn:
            runs.delete(conn, run_id)

    @translate_errors
    def restore_run(self, run_id: str) -> None:
        with self._db.write() as conn:
            runs.restore(conn, run_id)

    @translate_errors
    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        checked_metrics, checked_params, checked_tags = validate_batch(
            metrics, params, tags, truncate=self.truncate_long_values
        )
        with self._db.write() as conn:
            runs.log_batch(conn, self._dialect, run_id, checked_metrics, checked_params, checked_tags)
            logged_models.insert_metrics(conn, self._dialect, run_id, checked_metrics)

    @translate_errors
    def log_metric(self, run_id: str, metric: Metric) -> None:
        """Log one point: ``log_batch`` of it, in fewer statements where the dialect allows."""
        if metric.model_id is not None:
            self.log_batch(run_id, metrics=[metric])
            return
        checked, _, _ = validate_batch([metric], (), (), truncate=self.truncate_long_values)
        with self._db.write() as conn:
            runs.log_metric(conn, self._dialect, run_id, checked[0])

    @translate_errors
    def delete_tag(self, run_id: str, key: str) -> None:
        with self._db.write() as conn:
            runs.delete_tag(conn, run_id, key)

    @translate_errors
    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        with self._db.read() as conn:
            state = runs.get_state(conn, run_id)
            points, token = metrics.history(conn, state.run_key, key, max_results, page_token)
        return Page(points, token)

    @translate_errors
    def get_metric_history_points(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[tuple[float, int, int]]:
        with self._db.read() as conn:
            state = runs.get_state(conn, run_id)
            points, token = metrics.history_points(conn, state.run_key, key, max_results, page_token)
        return Page(points, token)

    @translate_errors
    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        start_step: int | None = None,
        end_step: int | None = None,
        max_results: int = 2500,
    ) -> list[Metric]:
        metrics.validate_bulk_interval(run_ids, start_step, end_step, max_results)
        with self._db.read() as conn:
            return metrics.history_bulk_interval(conn, run_ids, key, start_step, end_step, max_results)

    @translate_errors
    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        validate_dataset_inputs(datasets)
        with self._db.write() as conn:
            state = runs.require_active(conn, run_id)
            inputs.log_datasets(conn, self._dialect, run_id, state.experiment_id, datasets)
            inputs.log_model_inputs(conn, self._dialect, run_id, models)

    @translate_errors
    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        with self._db.write() as conn:
            runs.require_active(conn, run_id)
            inputs.log_model_outputs(conn, self._dialect, run_id, models)

    @translate_errors
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        validate_max_results(max_results, SEARCH_MAX_RESULTS_LIMIT)
        ids = [validate_experiment_id(e) for e in experiment_ids]
        with self._db.read() as conn:
            items, token = search.search_runs(
                conn,
                self._dialect,
                ids,
                filter_string or "",
                run_view_type,
                max_results,
                order_by,
                page_token,
            )
        return Page(items, token)

    @translate_errors
    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        ids = [validate_experiment_id(e) for e in experiment_ids]
        with self._db.read() as conn:
            return inputs.search_datasets(conn, ids)

    # -- reads for the web UI ----------------------------------------------------------------

    @translate_errors
    def get_metric_series(
        self,
        run_ids: Sequence[str],
        metric_keys: Sequence[str],
        max_points: int = 1000,
        x_axis: XAxis = "step",
        x_min: int | None = None,
        x_max: int | None = None,
    ) -> list[MetricSeries]:
        runs, keys = check_series_request(run_ids, metric_keys, max_points, x_axis)
        with self._db.read() as conn:
            return ui_queries.metric_series(
                conn, self._dialect, runs, keys, max_points, x_axis, x_min, x_max, self._series_cache
            )

    @translate_errors
    def count_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> int:
        ids = [validate_experiment_id(e) for e in experiment_ids]
        with self._db.read() as conn:
            return ui_queries.count_runs(conn, ids, filter_string or "", run_view_type)

    @translate_errors
    def group_runs(
        self,
        experiment_ids: Sequence[str],
        group_by: str,
        metric_keys: Sequence[str] = (),
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    ) -> RunGroups:
        group = parse_group_by(group_by)
        keys = check_group_metrics(metric_keys)
        ids = [validate_experiment_id(e) for e in experiment_ids]
        with self._db.read() as conn:
            return ui_queries.group_runs(conn, ids, filter_string or "", run_view_type, group, keys)

    @translate_errors
    def get_experiment_columns(self, experiment_ids: Sequence[str]) -> ColumnKeys:
        ids = [validate_experiment_id(e) for e in experiment_ids]
        with self._db.read() as conn:
            return ui_queries.experiment_columns(conn, self._dialect, ids)

    # -- garbage collection ------------------------------------------------------------------

    @translate_errors
    def list_deleted_runs(self, older_than_ms: int | None = None) -> list[str]:
        with self._db.read() as conn:
            return runs.list_deleted(conn, older_than_ms)

    @translate_errors
    def purge_run(self, run_id: str) -> None:
        with self._db.write() as conn:
            runs.purge(conn, run_id)

    def close(self) -> None:
        """Release the engine of a private in-memory database (shared engines stay pooled)."""
        if self._db.is_memory:
            self._db.engine.dispose()
