"""The logged-model methods of ``SqlTrackingStore``, kept apart from the run and experiment ones.

Each method validates its input, runs in one transaction and leaves with mltrail errors only;
the store class mixes this in and supplies the database handle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mltrail.db import Database
from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import Page
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.tracking.store.base import SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_LIMIT
from mltrail.tracking.store.sql import logged_models
from mltrail.tracking.store.sql.errors import translate_errors
from mltrail.tracking.store.sql.logged_model_search import (
    decode_search_token,
    encode_search_token,
    parse_model_order_by,
    search_models,
)
from mltrail.tracking.validation import validate_experiment_id

__all__ = ["LoggedModelMethods"]


def _status(status: LoggedModelStatus | str | int) -> LoggedModelStatus:
    try:
        return LoggedModelStatus.parse(status)
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from exc


class LoggedModelMethods:
    """Logged-model half of the SQL tracking store (see ``TrackingStore`` for the contract)."""

    _db: Database
    _dialect: str

    @translate_errors
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model (see :meth:`TrackingStore.create_logged_model`)."""
        if experiment_id is None or str(experiment_id) == "":
            raise InvalidArgumentError("Missing value for required parameter 'experiment_id'.")
        validate_experiment_id(experiment_id)
        logged_models.validate_model_name(name)
        checked_tags = logged_models.validate_tags(tags)
        checked_params = logged_models.validate_params(params)
        with self._db.write() as conn:
            return logged_models.create(
                conn, str(experiment_id), name, source_run_id, checked_tags, checked_params, model_type
            )

    @translate_errors
    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a logged model (see :meth:`TrackingStore.get_logged_model`)."""
        with self._db.read() as conn:
            return logged_models.get(conn, model_id, allow_deleted)

    @translate_errors
    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set a logged model's status (see :meth:`TrackingStore.finalize_logged_model`)."""
        checked = _status(status)
        with self._db.write() as conn:
            return logged_models.finalize(conn, model_id, checked)

    @translate_errors
    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a logged model (see :meth:`TrackingStore.delete_logged_model`)."""
        with self._db.write() as conn:
            logged_models.delete(conn, model_id)

    @translate_errors
    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Upsert tags (see :meth:`TrackingStore.set_logged_model_tags`)."""
        checked = logged_models.validate_tags(tags)
        with self._db.write() as conn:
            logged_models.set_tags(conn, self._dialect, model_id, checked)

    @translate_errors
    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete a tag (see :meth:`TrackingStore.delete_logged_model_tag`)."""
        with self._db.write() as conn:
            logged_models.delete_tag(conn, model_id, key)

    @translate_errors
    def log_logged_model_params(self, model_id: str, params: Sequence[LoggedModelParameter]) -> None:
        """Add params (see :meth:`TrackingStore.log_logged_model_params`)."""
        checked = logged_models.validate_params(params)
        with self._db.write() as conn:
            logged_models.log_params(conn, model_id, checked)

    @translate_errors
    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Search logged models (see :meth:`TrackingStore.search_logged_models`)."""
        if not experiment_ids:
            raise InvalidArgumentError("Missing value for required parameter 'experiment_ids'.")
        ids = [str(validate_experiment_id(e)) for e in experiment_ids]
        size = max_results or SEARCH_LOGGED_MODELS_MAX_RESULTS_DEFAULT
        if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= SEARCH_MAX_RESULTS_LIMIT:
            raise InvalidArgumentError(
                f"Invalid value {max_results} for parameter 'max_results' supplied: "
                f"it must be between 1 and {SEARCH_MAX_RESULTS_LIMIT}."
            )
        order = parse_model_order_by(order_by)
        offset = decode_search_token(page_token, list(experiment_ids), filter_string, order)
        with self._db.read() as conn:
            items, more = search_models(
                conn, self._dialect, [int(i) for i in ids], filter_string, datasets, size, order, offset
            )
        token = (
            encode_search_token(offset + size, list(experiment_ids), filter_string, order) if more else None
        )
        return Page(items, token)
