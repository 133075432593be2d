"""Logged-model methods of :class:`~mltrail.tracking.client.TrackingClient`, kept in their own module.

MLflow 3 logged models: create one, upload its files under its ``artifact_uri``, finalize it,
link it to the run that produced it with :meth:`LoggedModelMethods.log_outputs`, search them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import ModelOutput, Page
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.tracking.store.base import TrackingStore

__all__ = ["LoggedModelMethods"]

_SHORT_STATUS = {"FAILED": LoggedModelStatus.UPLOAD_FAILED}


def _status(value: LoggedModelStatus | str) -> LoggedModelStatus:
    if isinstance(value, str) and value.upper() in _SHORT_STATUS:
        return _SHORT_STATUS[value.upper()]
    try:
        return LoggedModelStatus.parse(value)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"Invalid logged model status {value!r}: one of {[s.value for s in LoggedModelStatus]}"
        ) from exc


class LoggedModelMethods:
    """The logged-model part of ``TrackingClient``; the client supplies the store."""

    _store: TrackingStore

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a logged model in ``LOGGED_MODEL_PENDING`` state.

        Args:
            experiment_id: An active experiment.
            name: The model's name (default: a generated one); none of ``/ : . % " '``.
            source_run_id: The run that produced it, if any.
            tags: Initial tags (values are turned into strings).
            params: Initial params (values are turned into strings).
            model_type: A free-form type label.

        Returns:
            The new model; upload its files under ``model.artifact_uri``.

        Raises:
            NotFoundError: unknown experiment.
            InvalidArgumentError: a deleted experiment or a bad name.
        """
        return self._store.create_logged_model(
            str(experiment_id),
            name=name,
            source_run_id=source_run_id,
            tags=[LoggedModelTag(k, str(v)) for k, v in (tags or {}).items()],
            params=[LoggedModelParameter(k, str(v)) for k, v in (params or {}).items()],
            model_type=model_type,
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a logged model with its tags, params and metrics.

        Raises:
            NotFoundError: unknown model, or a deleted one unless ``allow_deleted``.
        """
        return self._store.get_logged_model(model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """Mark a model's upload as done: ``READY`` or ``FAILED`` (or any ``LoggedModelStatus``).

        Raises:
            NotFoundError: unknown model.
            InvalidArgumentError: an unknown status.
        """
        return self._store.finalize_logged_model(model_id, _status(status))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Search the active logged models of experiments.

        Args:
            experiment_ids: Experiments to search.
            filter_string: e.g. ``name = 'clf' AND metrics.acc > 0.9 AND params.alpha = '0.1'``.
            datasets: ``{"dataset_name", "dataset_digest"?}`` items restricting metric matches.
            max_results: Page size (default 100).
            order_by: ``{"field_name", "ascending", "dataset_name", "dataset_digest"}`` items.
            page_token: The ``next_page_token`` of the previous page of this same search.

        Returns:
            One page of models.

        Raises:
            InvalidArgumentError: a bad filter, order, dataset or page token.
        """
        return self._store.search_logged_models(
            [str(e) for e in experiment_ids], filter_string, datasets, max_results, order_by, page_token
        )

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Set (upsert) tags of a model; values are turned into strings.

        Raises:
            NotFoundError: unknown model.
        """
        self._store.set_logged_model_tags(model_id, [LoggedModelTag(k, str(v)) for k, v in tags.items()])

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete a tag of a model.

        Raises:
            NotFoundError: unknown model or tag.
        """
        self._store.delete_logged_model_tag(model_id, key)

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a logged model.

        Raises:
            NotFoundError: unknown model.
        """
        self._store.delete_logged_model(model_id)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Add params to a logged model; values are turned into strings.

        Raises:
            NotFoundError: unknown model.
            InvalidArgumentError: a param already logged with another value.
        """
        self._store.log_logged_model_params(
            model_id, [LoggedModelParameter(k, str(v)) for k, v in params.items()]
        )

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        """Record logged models a run produced (each at a step).

        Raises:
            NotFoundError: unknown run.
            InvalidArgumentError: the run is deleted.
        """
        self._store.log_outputs(run_id, list(models))
