"""``RestTrackingStore``: the tracking store contract spoken over MLflow's REST protocol.

Works against an mltrail server or an MLflow server. Bodies are built and read through
:mod:`mltrail.tracking.wire` and sent with :class:`mltrail._http.JsonApi`, which maps error bodies
back to the same error classes as the SQL store raises (``except NotFoundError`` works either
way). Transport failures raise ``BackendError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from mltrail._http import JsonApi, QueryParams, query
from mltrail.config import Settings
from mltrail.errors import EndpointNotFoundError, InvalidArgumentError, NotImplementedFeatureError
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
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore
from mltrail.tracking.wire import (
    JsonDict,
    dataset_input_to_dict,
    dataset_summary_from_dict,
    experiment_from_dict,
    key_values,
    logged_model_from_dict,
    metric_from_dict,
    metric_to_dict,
    model_input_to_dict,
    model_output_to_dict,
    run_from_dict,
    run_info_from_dict,
)

__all__ = ["RestTrackingStore"]

_API = "/api/2.0/mlflow"
_AJAX = "/ajax-api/2.0/mlflow"
_MLTRAIL = "/api/2.0/mltrail"
_DATASET_SEARCH_CHUNK = 20
_MODEL_PARAMS_PER_REQUEST = 100


class RestTrackingStore(TrackingStore):
    """A tracking store behind an HTTP server.

    Args:
        tracking_uri: The server's base URL, e.g. ``http://127.0.0.1:5000`` (a path prefix is kept).
        settings: Timeouts, retries and credentials of the HTTP session.
    """

    def __init__(self, tracking_uri: str, settings: Settings) -> None:
        self._api = JsonApi(tracking_uri, settings, prefix=_API)
        self.tracking_uri = self._api.base_url

    # -- transport ---------------------------------------------------------------------------

    def _post(self, path: str, body: Mapping[str, Any], prefix: str = _API) -> JsonDict:
        return self._api.call("POST", path, body=body, prefix=prefix)

    def _get(self, path: str, params: QueryParams) -> JsonDict:
        return self._api.call("GET", path, params=params)

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[tuple[str, str]] | None = None,
    ) -> str:
        """Create an experiment (``experiments/create``)."""
        body: JsonDict = {"name": name}
        if artifact_location:
            body["artifact_location"] = artifact_location
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags]
        return str(self._post("experiments/create", body)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return an experiment (``experiments/get``)."""
        body = self._get("experiments/get", query(experiment_id=experiment_id))
        return experiment_from_dict(body["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment:
        """Return the experiment with that name (``experiments/get-by-name``)."""
        body = self._get("experiments/get-by-name", query(experiment_name=name))
        return experiment_from_dict(body["experiment"])

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """Search experiments (``experiments/search``)."""
        body: JsonDict = {"view_type": view_type.name, "max_results": max_results}
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        result = self._post("experiments/search", body)
        return Page(
            [experiment_from_dict(e) for e in result.get("experiments", ())],
            result.get("next_page_token") or None,
        )

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-delete an experiment and its runs (``experiments/delete``)."""
        self._post("experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment (``experiments/restore``)."""
        self._post("experiments/restore", {"experiment_id": experiment_id})

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an active experiment (``experiments/update``)."""
        self._post("experiments/update", {"experiment_id": experiment_id, "new_name": new_name})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        """Upsert an experiment tag (``experiments/set-experiment-tag``)."""
        self._post(
            "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": key, "value": value}
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete an experiment tag (``experiments/delete-experiment-tag``)."""
        self._post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": key})

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Create a run (``runs/create``)."""
        body: JsonDict = {"experiment_id": experiment_id, "user_id": user_id}
        if start_time is not None:
            body["start_time"] = start_time
        if tags:
            body["tags"] = key_values(tags)
        if run_name:
            body["run_name"] = run_name
        return run_from_dict(self._post("runs/create", body)["run"])

    def get_run(self, run_id: str) -> Run:
        """Return a run (``runs/get``)."""
        return run_from_dict(self._get("runs/get", query(run_id=run_id))["run"])

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        """Change the given fields of a run (``runs/update``)."""
        body: JsonDict = {"run_id": run_id, "run_uuid": run_id}
        if status is not None:
            body["status"] = status.name
        if end_time is not None:
            body["end_time"] = end_time
        if run_name is not None:
            body["run_name"] = run_name
        return run_info_from_dict(self._post("runs/update", body)["run_info"])

    def delete_run(self, run_id: str) -> None:
        """Soft-delete a run (``runs/delete``)."""
        self._post("runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        """Restore a run (``runs/restore``)."""
        self._post("runs/restore", {"run_id": run_id})

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags in one request (``runs/log-batch``)."""
        for metric in metrics:
            # The wire accepts numeric strings for doubles; the store contract does not.
            if isinstance(metric.value, bool) or not isinstance(metric.value, int | float):
                raise InvalidArgumentError(
                    f"Got invalid value {metric.value!r} for metric '{metric.key}': "
                    "expected a double (64-bit floating point)"
                )
        body: JsonDict = {"run_id": run_id}
        if metrics:
            body["metrics"] = [metric_to_dict(m, with_run_id=False) for m in metrics]
        if params:
            body["params"] = key_values(params)
        if tags:
            body["tags"] = key_values(tags)
        self._post("runs/log-batch", body)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag (``runs/delete-tag``)."""
        self._post("runs/delete-tag", {"run_id": run_id, "key": key})

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        """A metric's history (``metrics/get-history``), one page."""
        result = self._get(
            "metrics/get-history",
            query(
                run_id=run_id, run_uuid=run_id, metric_key=key, max_results=max_results, page_token=page_token
            ),
        )
        points = [metric_from_dict(m) for m in result.get("metrics", ())]
        return Page(points, result.get("next_page_token") or None)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        start_step: int | None = None,
        end_step: int | None = None,
        max_results: int = 2500,
    ) -> list[Metric]:
        """Sampled histories of several runs (``metrics/get-history-bulk-interval``)."""
        result = self._get(
            "metrics/get-history-bulk-interval",
            query(
                run_ids=list(run_ids),
                metric_key=key,
                start_step=start_step,
                end_step=end_step,
                max_results=max_results,
            ),
        )
        return [metric_from_dict(m) for m in result.get("metrics", ())]

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[ModelInput] = (),
    ) -> None:
        """Record dataset and model inputs (``runs/log-inputs``)."""
        body: JsonDict = {"run_id": run_id}
        if datasets:
            body["datasets"] = [dataset_input_to_dict(d) for d in datasets]
        if models:
            body["models"] = [model_input_to_dict(m) for m in models]
        self._post("runs/log-inputs", body)

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        """Record model outputs (``runs/outputs``)."""
        self._post("runs/outputs", {"run_id": run_id, "models": [model_output_to_dict(m) for m in models]})

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        """Search runs (``runs/search``)."""
        body: JsonDict = {
            "experiment_ids": list(experiment_ids),
            "run_view_type": run_view_type.name,
            "max_results": max_results,
        }
        if filter_string:
            body["filter"] = filter_string
        if order_by:
            body["order_by"] = list(order_by)
        if page_token:
            body["page_token"] = page_token
        result = self._post("runs/search", body)
        return Page([run_from_dict(r) for r in result.get("runs", ())], result.get("next_page_token") or None)

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        """Dataset summaries of experiments (the UI's ``experiments/search-datasets``).

        The RPC takes at most 20 experiments per call; longer lists are sent in chunks.
        """
        ids = list(experiment_ids)
        summaries: list[DatasetSummary] = []
        for start in range(0, len(ids), _DATASET_SEARCH_CHUNK):
            body = {"experiment_ids": ids[start : start + _DATASET_SEARCH_CHUNK]}
            result = self._post("experiments/search-datasets", body, prefix=_AJAX)
            summaries.extend(dataset_summary_from_dict(s) for s in result.get("dataset_summaries", ()))
        return summaries

    # -- logged models -----------------------------------------------------------------------

    @staticmethod
    def _model_path(model_id: str, *rest: str) -> str:
        return "/".join(["logged-models", quote(model_id, safe=""), *(quote(r, safe="") for r in rest)])

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a logged model (``POST logged-models``); params past the first 100 follow in batches."""
        body: JsonDict = {"experiment_id": experiment_id}
        if name is not None:
            body["name"] = name
        if model_type is not None:
            body["model_type"] = model_type
        if source_run_id is not None:
            body["source_run_id"] = source_run_id
        if tags:
            body["tags"] = key_values(tags)
        if params:
            body["params"] = key_values(params[:_MODEL_PARAMS_PER_REQUEST])
        model = logged_model_from_dict(self._post("logged-models", body)["model"])
        if len(params) > _MODEL_PARAMS_PER_REQUEST:
            self.log_logged_model_params(model.model_id, params[_MODEL_PARAMS_PER_REQUEST:])
            model = self.get_logged_model(model.model_id)
        return model

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a logged model (``GET logged-models/{id}``)."""
        params = query(allow_deleted=True) if allow_deleted else None
        body = self._api.call("GET", self._model_path(model_id), params=params)
        return logged_model_from_dict(body["model"])

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set a model's status (``PATCH logged-models/{id}``)."""
        try:
            wire_status = LoggedModelStatus.parse(status).value
        except ValueError as exc:
            raise InvalidArgumentError(str(exc)) from exc
        body = {"model_id": model_id, "status": wire_status}
        return logged_model_from_dict(self._api.call("PATCH", self._model_path(model_id), body=body)["model"])

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a logged model (``DELETE logged-models/{id}``)."""
        self._api.call("DELETE", self._model_path(model_id), body={"model_id": model_id})

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        """Upsert tags of a model (``PATCH logged-models/{id}/tags``)."""
        body = {"model_id": model_id, "tags": key_values(tags)}
        self._api.call("PATCH", self._model_path(model_id, "tags"), body=body)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete a tag of a model (``DELETE logged-models/{id}/tags/{key}``)."""
        body = {"model_id": model_id, "tag_key": key}
        self._api.call("DELETE", self._model_path(model_id, "tags", key), body=body)

    def log_logged_model_params(self, model_id: str, params: Sequence[LoggedModelParameter]) -> None:
        """Add params to a model (``POST logged-models/{id}/params``), 100 per request."""
        for start in range(0, len(params), _MODEL_PARAMS_PER_REQUEST):
            chunk = params[start : start + _MODEL_PARAMS_PER_REQUEST]
            self._post(
                self._model_path(model_id, "params"), {"model_id": model_id, "params": key_values(chunk)}
            )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Search logged models (``POST logged-models/search``)."""
        body: JsonDict = {"experiment_ids": [str(e) for e in experiment_ids]}
        if filter_string:
            body["filter"] = filter_string
        if datasets:
            body["datasets"] = [dict(d) for d in datasets]
        if max_results is not None:
            body["max_results"] = max_results
        if order_by:
            body["order_by"] = [dict(o) for o in order_by]
        if page_token:
            body["page_token"] = page_token
        result = self._post("logged-models/search", body)
        return Page(
            [logged_model_from_dict(m) for m in result.get("models", ())],
            result.get("next_page_token") or None,
        )

    # -- garbage collection ------------------------------------------------------------------

    def _extension(self, method: str, path: str, **kwargs: Any) -> JsonDict:
        """Call one of mltrail's own RPCs; an MLflow server does not have them."""
        try:
            return self._api.call(method, path, prefix=_MLTRAIL, **kwargs)
        except EndpointNotFoundError as exc:
            raise NotImplementedFeatureError(
                f"The server at {self.tracking_uri} does not offer {path!r} (not an mltrail server?); "
                "run garbage collection with the database URI as the tracking URI."
            ) from exc

    def list_deleted_runs(self, older_than_ms: int | None = None) -> list[str]:
        """Ids of soft-deleted runs (mltrail's ``runs/deleted`` extension RPC).

        Raises:
            NotImplementedFeatureError: the server is not an mltrail server.
        """
        result = self._extension("GET", "runs/deleted", params=query(older_than_ms=older_than_ms))
        return [str(run_id) for run_id in result.get("run_ids", ())]

    def purge_run(self, run_id: str) -> None:
        """Permanently remove a soft-deleted run (mltrail's ``runs/purge`` extension RPC).

        Raises:
            NotImplementedFeatureError: the server is not an mltrail server.
        """
        self._extension("POST", "runs/purge", body={"run_id": run_id})

    def close(self) -> None:
        """Close the HTTP session."""
        self._api.close()
