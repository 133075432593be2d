"""``TrackingClient``: the explicit API over one tracking store.

A client holds its store, its artifact repositories (one per run, cached) and its metric
batcher; nothing is global. Use it as a context manager, or call :meth:`TrackingClient.close`,
so queued metric points are written::

    with TrackingClient("sqlite:///mltrail.db") as client:
        run = client.create_run(client.create_experiment("demo"))
        client.log_metric(run.info.run_id, "loss", 0.25, step=1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

from mltrail._plugins import resolve_tracking_store
from mltrail._utils import now_ms
from mltrail.config import Settings, current_user
from mltrail.errors import InvalidArgumentError
from mltrail.tracking import context
from mltrail.tracking._batcher import MetricBatcher
from mltrail.tracking._client_artifacts import ArtifactMethods
from mltrail.tracking._client_logged_models import LoggedModelMethods
from mltrail.tracking._run_artifacts import RunArtifacts
from mltrail.tracking._validation import check_metric_key, metric_value
from mltrail.tracking.entities import (
    DatasetInput,
    Experiment,
    Metric,
    ModelInput,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore

__all__ = ["TrackingClient"]

_MAX_METRICS_PER_BATCH = 1000
_MAX_PARAMS_TAGS_PER_BATCH = 100


def _status(value: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"Invalid run status {value!r}: one of {[s.value for s in RunStatus]}"
        ) from exc


class TrackingClient(ArtifactMethods, LoggedModelMethods):
    """Experiments, runs and their data in one tracking store.

    Args:
        tracking_uri: The store URI (``sqlite:///...``, ``postgresql://...``, ``https://server``);
            defaults to ``settings.tracking_uri``.
        settings: Configuration; defaults to ``Settings()`` (read from ``MLTRAIL_*``).
        store: An already built store to use instead of resolving ``tracking_uri``.

    Raises:
        InvalidArgumentError: no store serves the URI's scheme.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        settings: Settings | None = None,
        store: TrackingStore | None = None,
    ) -> None:
        self._settings = settings if settings is not None else Settings()
        self.tracking_uri: str = tracking_uri or self._settings.tracking_uri
        self._store = (
            store if store is not None else resolve_tracking_store(self.tracking_uri, self._settings)
        )
        self._async = self._settings.async_logging
        self._batcher = MetricBatcher(self._write_metrics, self._settings.flush_interval)
        self._artifacts = RunArtifacts(self._artifact_uri_of, self.tracking_uri, self._settings)

    @property
    def settings(self) -> Settings:
        """The configuration this client was built with."""
        return self._settings

    @property
    def store(self) -> TrackingStore:
        """The tracking store behind this client."""
        return self._store

    # -- lifecycle ---------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every metric point queued so far.

        Raises:
            MltrailError: a background write failed since the last flush.
        """
        self._batcher.flush()

    def close(self) -> None:
        """Flush queued points, stop the background writer and close the store.

        Raises:
            MltrailError: a queued write failed (the store is closed all the same).
        """
        try:
            self._batcher.close()
        finally:
            self._store.close()

    def __enter__(self) -> TrackingClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an experiment.

        Args:
            name: Unique name.
            artifact_location: Artifact root of its runs (default: below the store's root).
            tags: Initial experiment tags (values are turned into strings).

        Returns:
            The new experiment's id.

        Raises:
            AlreadyExistsError: the name is taken (by an active or deleted experiment).
            InvalidArgumentError: the name or location breaks a rule.
        """
        tag_pairs = [(k, str(v)) for k, v in (tags or {}).items()]
        return self._store.create_experiment(name, artifact_location, tag_pairs)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment by id (deleted ones too).

        Raises:
            NotFoundError: no such experiment.
        """
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment:
        """Return the experiment with that exact name (deleted ones too).

        Raises:
            NotFoundError: no such experiment.
        """
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Search experiments (spec REST-TRACKING §1.3).

        Args:
            view_type: Active, deleted or all experiments.
            max_results: Page size, 1..50000.
            filter_string: e.g. ``name LIKE 'exp%' AND tags.team = 'ml'``.
            order_by: e.g. ``["name ASC"]``.
            page_token: The ``next_page_token`` of the previous page.

        Returns:
            One page of experiments.

        Raises:
            InvalidArgumentError: a bad filter, order or token.
        """
        return self._store.search_experiments(view_type, max_results, filter_string, order_by, page_token)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs.

        Raises:
            NotFoundError: unknown or already deleted.
        """
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and its runs.

        Raises:
            NotFoundError: unknown or not deleted.
        """
        self._store.restore_experiment(str(experiment_id))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment.

        Raises:
            InvalidStateError: the experiment is deleted.
            AlreadyExistsError: the new name is taken.
        """
        self._store.rename_experiment(str(experiment_id), new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set (upsert) an experiment tag; the value is turned into a string.

        Raises:
            InvalidArgumentError: the experiment is deleted or the tag breaks a limit.
        """
        self._store.set_experiment_tag(str(experiment_id), key, str(value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete an experiment tag.

        Raises:
            NotFoundError: no such tag.
        """
        self._store.delete_experiment_tag(str(experiment_id), key)

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run.

        Args:
            experiment_id: An active experiment.
            start_time: Milliseconds since the epoch (default: now).
            tags: Initial run tags; ``mlflow.user`` also sets the run's user.
            run_name: The name (default: the ``mlflow.runName`` tag, else a generated one).

        Returns:
            The new run.

        Raises:
            NotFoundError: unknown experiment.
            InvalidArgumentError: the experiment is deleted, or the names disagree.
        """
        tag_map = {k: str(v) for k, v in (tags or {}).items()}
        user = tag_map.get(context.TAG_USER) or current_user(self._settings)
        return self._store.create_run(
            str(experiment_id),
            user_id=user,
            start_time=now_ms() if start_time is None else int(start_time),
            tags=[RunTag(k, v) for k, v in tag_map.items()],
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """Return a run with its latest metrics, params, tags and inputs (after a flush).

        Raises:
            NotFoundError: unknown run.
            MltrailError: a queued metric write failed.
        """
        self._batcher.flush()
        return self._store.get_run(run_id)

    def _run_tags(self, run_id: str) -> Mapping[str, str]:
        return self._store.get_run(run_id).data.tags

    def _artifact_uri_of(self, run_id: str) -> str:
        return self._store.get_run(run_id).info.artifact_uri

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> RunInfo:
        """Change a run's status and/or name.

        Returns:
            The updated run info.

        Raises:
            NotFoundError: unknown run.
            InvalidArgumentError: the run is deleted or the status is unknown.
        """
        return self._store.update_run_info(
            run_id, status=_status(status) if status is not None else None, run_name=name
        )

    def set_terminated(
        self,
        run_id: str,
        status: RunStatus | str = RunStatus.FINISHED,
        end_time: int | None = None,
    ) -> RunInfo:
        """End a run: write its queued metrics, then set its status and end time.

        Args:
            run_id: The run.
            status: FINISHED (default), FAILED or KILLED.
            end_time: Milliseconds since the epoch (default: now).

        Returns:
            The updated run info.

        Raises:
            MltrailError: queued metric points could not be written (the run is still ended).
        """
        try:
            self._batcher.flush()
        finally:
            info = self._store.update_run_info(
                run_id, status=_status(status), end_time=now_ms() if end_time is None else int(end_time)
            )
        return info

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (idempotent).

        Raises:
            NotFoundError: unknown run.
        """
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Restore a soft-deleted run (idempotent).

        Raises:
            NotFoundError: unknown run.
        """
        self._store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        """Search runs (spec REST-TRACKING §2.3) after writing queued metrics.

        Args:
            experiment_ids: Experiments to search.
            filter_string: e.g. ``metrics.loss < 0.5 AND params.lr = '0.1'``.
            run_view_type: Active, deleted or all runs.
            max_results: Page size, 1..50000.
            order_by: e.g. ``["metrics.loss ASC"]``.
            page_token: The ``next_page_token`` of the previous page.

        Returns:
            One page of runs.

        Raises:
            InvalidArgumentError: a bad filter, order or token.
        """
        self._batcher.flush()
        return self._store.search_runs(
            [str(e) for e in experiment_ids], filter_string, run_view_type, max_results, order_by, page_token
        )

    # -- params, metrics, tags ---------------------------------------------------------------

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Log a param (its value is turned into a string); returns ``value``.

        Raises:
            InvalidArgumentError: a different value was already logged, or a limit is broken.
        """
        self._store.log_batch(run_id, params=[Param(key, str(value))])
        return value

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log several params in one batch (split in groups of 100 when larger).

        Raises:
            InvalidArgumentError: as for :meth:`log_param`.
        """
        self.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def _make_metric(self, key: str, value: Any, step: int, timestamp: int | None) -> Metric:
        return Metric(
            check_metric_key(key),
            metric_value(value),
            now_ms() if timestamp is None else int(timestamp),
            int(step),
        )

    def _queue(self, run_id: str, metrics: Sequence[Metric], synchronous: bool | None) -> None:
        if synchronous or (synchronous is None and not self._async):
            for start in range(0, len(metrics), _MAX_METRICS_PER_BATCH):
                self._store.log_batch(run_id, metrics=metrics[start : start + _MAX_METRICS_PER_BATCH])
        elif len(metrics) == 1:
            self._batcher.add(run_id, metrics[0])
        else:
            self._batcher.add_many(run_id, metrics)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int = 0,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log one metric point.

        Points are queued and written in the background unless ``synchronous`` is True (or
        ``settings.async_logging`` is False and ``synchronous`` is None).

        Args:
            run_id: The run.
            key: Metric name.
            value: A real number (NaN and ±inf allowed).
            step: Training step.
            timestamp: Milliseconds since the epoch (default: now).
            synchronous: Write now (True), queue (False) or follow the settings (None).

        Raises:
            InvalidArgumentError: a bad key or value (checked at call time, even when queued).
        """
        if synchronous is None and self._async:
            self._batcher.add_point(
                run_id,
                check_metric_key(key),
                metric_value(value),
                now_ms() if timestamp is None else int(timestamp),
                int(step),
            )
        else:
            self._queue(run_id, [self._make_metric(key, value, step, timestamp)], synchronous)

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int = 0,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Log several metrics at one step and time (see :meth:`log_metric`).

        Raises:
            InvalidArgumentError: a bad key or value.
        """
        ts = now_ms() if timestamp is None else int(timestamp)
        points = [self._make_metric(k, v, step, ts) for k, v in metrics.items()]
        self._queue(run_id, points, synchronous)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Write metrics, params and tags now, split into batches within the protocol limits.

        Raises:
            InvalidArgumentError: a value breaks a rule (batches before it are kept).
        """
        params, tags, metrics = list(params), list(tags), list(metrics)
        step = _MAX_PARAMS_TAGS_PER_BATCH
        for start in range(0, max(len(params), len(tags)), step):
            self._store.log_batch(
                run_id, params=params[start : start + step], tags=tags[start : start + step]
            )
        for start in range(0, len(metrics), _MAX_METRICS_PER_BATCH):
            self._store.log_batch(run_id, metrics=metrics[start : start + _MAX_METRICS_PER_BATCH])

    def _write_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        self._store.log_batch(run_id, metrics=metrics)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set (upsert) a run tag; the value is turned into a string.

        Raises:
            InvalidArgumentError: the run is deleted or the tag breaks a limit.
        """
        self._store.log_batch(run_id, tags=[RunTag(key, str(value))])

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set several run tags in one batch (split in groups of 100 when larger)."""
        self.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag.

        Raises:
            NotFoundError: no such tag.
        """
        self._store.delete_tag(run_id, key)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of a metric, ordered by (timestamp, step, value), after a flush.

        Raises:
            NotFoundError: unknown run.
        """
        self._batcher.flush()
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self._store.get_metric_history(run_id, key, page_token=token)
            points.extend(page.items)
            token = page.next_page_token
            if not token:
                return points

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[ModelInput] | None = None,
    ) -> None:
        """Record datasets (and logged models) a run used.

        Raises:
            InvalidArgumentError: a dataset field breaks a limit.
        """
        self._store.log_inputs(run_id, datasets or (), models or ())
