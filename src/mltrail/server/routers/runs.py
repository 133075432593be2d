"""Run RPCs (spec REST-TRACKING §2): lifecycle, logging, inputs/outputs and search."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from mltrail.errors import InvalidArgumentError
from mltrail.server.deps import StoreDep, json_response, request_fields
from mltrail.server.parsing import NOT_PLAIN, Field, Kind, Message, required_message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import (
    KEY_VALUE,
    RUN_STATUS_VALUES,
    VIEW_TYPE_VALUES,
    enum_field,
    int32,
    int64,
    repeated_string,
    string,
    view_type_of,
)
from mltrail.server.routing import rpc
from mltrail.tracking.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    ModelInput,
    ModelOutput,
    Param,
    RunStatus,
    RunTag,
)
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore
from mltrail.tracking.wire import run_info_to_dict, run_to_dict

__all__ = ["MODEL_HISTORY_TAG", "router"]

router = APIRouter()

MODEL_HISTORY_TAG = "mlflow.log-model.history"
_MODEL_JSON_KEYS = ("artifact_path", "flavors", "utc_time_created", "run_id")

_RUN_ID = string("run_id")
_RUN_UUID = string("run_uuid")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_PLAIN_METRIC_NAMES = frozenset(("key", "value", "timestamp", "step"))


def metric_of(item: dict[str, Any]) -> Metric:
    """A ``Metric`` from a parsed ``Metric`` message."""
    return Metric(
        key=item["key"],
        value=item["value"],
        timestamp=item["timestamp"],
        step=item.get("step", 0),
        dataset_name=item.get("dataset_name") or None,
        dataset_digest=item.get("dataset_digest") or None,
        model_id=item.get("model_id") or None,
    )


def _plain_metric(item: Any) -> Any:
    """``metric_of`` of a metric as clients send it (key, value, timestamp and step, of their
    exact JSON types), in one step; anything else is left to the general parser."""
    if type(item) is dict and item.keys() <= _PLAIN_METRIC_NAMES:
        key = item.get("key")
        value = item.get("value")
        timestamp = item.get("timestamp")
        step = item.get("step", 0)
        if (
            type(key) is str
            and key
            and type(timestamp) is int
            and type(step) is int
            and _INT64_MIN <= timestamp <= _INT64_MAX
            and _INT64_MIN <= step <= _INT64_MAX
        ):
            if type(value) is float:
                return Metric(key, value, timestamp, step)
            if type(value) is int:
                return Metric(key, float(value), timestamp, step)
    return NOT_PLAIN


METRIC_FIELDS = (
    string("key", required=True),
    Field("value", Kind.DOUBLE, required=True),
    int64("timestamp", required=True),
    int64("step"),
    string("model_id"),
    string("dataset_name"),
    string("dataset_digest"),
)
# Items of log-batch requests parse straight to ``Metric`` entities.
METRIC = Message("Metric", METRIC_FIELDS, build=metric_of, shortcut=_plain_metric)
DATASET = Message(
    "Dataset",
    (
        string("name", required=True),
        string("digest", required=True),
        string("source_type", required=True),
        string("source", required=True),
        string("schema"),
        string("profile"),
    ),
)
DATASET_INPUT = Message(
    "DatasetInput",
    (
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
        Field("dataset", Kind.MESSAGE, required=True, message=DATASET),
    ),
)
MODEL_INPUT = Message("ModelInput", (string("model_id", required=True),))
MODEL_OUTPUT = Message("ModelOutput", (string("model_id", required=True), int64("step")))

CREATE = Message(
    "CreateRun",
    (
        string("experiment_id", required=True),
        string("user_id"),
        string("run_name"),
        int64("start_time"),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
    ),
)
GET = Message("GetRun", (_RUN_ID, _RUN_UUID))
UPDATE = Message(
    "UpdateRun",
    (_RUN_ID, _RUN_UUID, enum_field("status", RUN_STATUS_VALUES), int64("end_time"), string("run_name")),
)
BY_ID = Message("RunById", (string("run_id", required=True),))
SET_TAG = Message("SetTag", (_RUN_ID, _RUN_UUID, string("key", required=True), string("value")))
DELETE_TAG = Message("DeleteTag", (string("run_id", required=True), string("key", required=True)))
LOG_PARAM = Message("LogParam", (_RUN_ID, _RUN_UUID, string("key", required=True), string("value")))
LOG_METRIC = Message("LogMetric", (_RUN_ID, _RUN_UUID, *METRIC_FIELDS))
LOG_BATCH = Message(
    "LogBatch",
    (
        string("run_id", required=True),
        Field("metrics", Kind.MESSAGE, repeated=True, message=METRIC),
        Field("params", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
    ),
)
LOG_MODEL = Message("LogModel", (string("run_id", required=True), string("model_json", required=True)))
LOG_INPUTS = Message(
    "LogInputs",
    (
        string("run_id", required=True),
        Field("datasets", Kind.MESSAGE, repeated=True, message=DATASET_INPUT),
        Field("models", Kind.MESSAGE, repeated=True, message=MODEL_INPUT),
    ),
)
LOG_OUTPUTS = Message(
    "LogOutputs",
    (
        string("run_id", required=True),
        Field("models", Kind.MESSAGE, repeated=True, required=True, message=MODEL_OUTPUT),
    ),
)
SEARCH = Message(
    "SearchRuns",
    (
        repeated_string("experiment_ids"),
        string("filter"),
        enum_field("run_view_type", VIEW_TYPE_VALUES),
        int32("max_results"),
        repeated_string("order_by"),
        string("page_token"),
    ),
)

Fields = dict[str, Any]


def _perm(access: Access) -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.RUN, access, "run_id")


def run_id_of(req: Fields) -> str:
    """``run_id``, else ``run_uuid`` (``run_id`` wins); a 400 when neither is given."""
    run_id = req.get("run_id") or req.get("run_uuid")
    if not run_id:
        raise InvalidArgumentError(required_message("run_id"))
    return str(run_id)


@rpc(
    router,
    "runs/create",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "experiment_id"),
)
def create_run(req: Annotated[Fields, Depends(request_fields(CREATE))], store: StoreDep) -> Response:
    """CreateRun → ``{"run"}``."""
    run = store.create_run(
        req["experiment_id"],
        user_id=req.get("user_id", ""),
        start_time=req.get("start_time"),
        tags=[RunTag(t["key"], t.get("value", "")) for t in req.get("tags", ())],
        run_name=req.get("run_name") or None,
    )
    return json_response({"run": run_to_dict(run)})


@rpc(router, "runs/get", methods=["GET"], permission=_perm(Access.READ))
def get_run(req: Annotated[Fields, Depends(request_fields(GET))], store: StoreDep) -> Response:
    """GetRun → ``{"run"}`` (deleted runs too)."""
    return json_response({"run": run_to_dict(store.get_run(run_id_of(req)))})


@rpc(router, "runs/update", methods=["POST"], permission=_perm(Access.EDIT))
def update_run(req: Annotated[Fields, Depends(request_fields(UPDATE))], store: StoreDep) -> Response:
    """UpdateRun → ``{"run_info"}``; only the given fields change."""
    status = req.get("status")
    info = store.update_run_info(
        run_id_of(req),
        status=RunStatus(status) if status else None,
        end_time=req.get("end_time"),
        run_name=req.get("run_name") or None,
    )
    return json_response({"run_info": run_info_to_dict(info)})


@rpc(router, "runs/delete", methods=["POST"], permission=_perm(Access.MANAGE))
def delete_run(req: Annotated[Fields, Depends(request_fields(BY_ID))], store: StoreDep) -> Response:
    """DeleteRun (soft, idempotent) → ``{}``."""
    store.delete_run(req["run_id"])
    return json_response()


@rpc(router, "runs/restore", methods=["POST"], permission=_perm(Access.MANAGE))
def restore_run(req: Annotated[Fields, Depends(request_fields(BY_ID))], store: StoreDep) -> Response:
    """RestoreRun → ``{}``."""
    store.restore_run(req["run_id"])
    return json_response()


@rpc(router, "runs/set-tag", methods=["POST"], permission=_perm(Access.EDIT))
def set_tag(req: Annotated[Fields, Depends(request_fields(SET_TAG))], store: StoreDep) -> Response:
    """SetTag (upsert; ``mlflow.runName`` renames the run) → ``{}``."""
    store.set_tag(run_id_of(req), RunTag(req["key"], req.get("value", "")))
    return json_response()


@rpc(router, "runs/delete-tag", methods=["POST"], permission=_perm(Access.EDIT))
def delete_tag(req: Annotated[Fields, Depends(request_fields(DELETE_TAG))], store: StoreDep) -> Response:
    """DeleteTag → ``{}``."""
    store.delete_tag(req["run_id"], req["key"])
    return json_response()


@rpc(router, "runs/log-parameter", methods=["POST"], permission=_perm(Access.EDIT))
def log_param(req: Annotated[Fields, Depends(request_fields(LOG_PARAM))], store: StoreDep) -> Response:
    """LogParam → ``{}``."""
    store.log_param(run_id_of(req), Param(req["key"], req.get("value", "")))
    return json_response()


@rpc(router, "runs/log-metric", methods=["POST"], permission=_perm(Access.EDIT))
def log_metric(req: Annotated[Fields, Depends(request_fields(LOG_METRIC))], store: StoreDep) -> Response:
    """LogMetric → ``{}``."""
    store.log_metric(run_id_of(req), metric_of(req))
    return json_response()


@rpc(router, "runs/log-batch", methods=["POST"], permission=_perm(Access.EDIT))
def log_batch(req: Annotated[Fields, Depends(request_fields(LOG_BATCH))], store: StoreDep) -> Response:
    """LogBatch → ``{}`` once every item is stored."""
    store.log_batch(
        req["run_id"],
        metrics=req.get("metrics", ()),
        params=[Param(p["key"], p.get("value", "")) for p in req.get("params", ())],
        tags=[RunTag(t["key"], t.get("value", "")) for t in req.get("tags", ())],
    )
    return json_response()


def append_model_history(store: TrackingStore, run_id: str, model_json: str) -> None:
    """Append one MLmodel record to the run's ``mlflow.log-model.history`` tag.

    Raises:
        InvalidArgumentError: ``model_json`` is not a JSON object with the mandatory keys.
    """
    try:
        model = json.loads(model_json)
    except ValueError as exc:
        raise InvalidArgumentError(f"Malformed model info: {exc}") from exc
    if not isinstance(model, dict):
        raise InvalidArgumentError("Malformed model info: expected a JSON object.")
    missing = [key for key in _MODEL_JSON_KEYS if key not in model]
    if missing:
        raise InvalidArgumentError(f"Model json is missing mandatory fields: {missing}")
    run = store.get_run(run_id)
    history: list[Any] = []
    previous = run.data.tags.get(MODEL_HISTORY_TAG)
    if previous:
        try:
            loaded = json.loads(previous)
        except ValueError:
            loaded = []
        history = loaded if isinstance(loaded, list) else []
    history.append(model)
    store.set_tag(run_id, RunTag(MODEL_HISTORY_TAG, json.dumps(history)))


@rpc(router, "runs/log-model", methods=["POST"], permission=_perm(Access.EDIT))
def log_model(req: Annotated[Fields, Depends(request_fields(LOG_MODEL))], store: StoreDep) -> Response:
    """LogModel (legacy MLmodel record) → ``{}``."""
    append_model_history(store, req["run_id"], req["model_json"])
    return json_response()


@rpc(router, "runs/log-inputs", methods=["POST"], permission=_perm(Access.EDIT))
def log_inputs(req: Annotated[Fields, Depends(request_fields(LOG_INPUTS))], store: StoreDep) -> Response:
    """LogInputs (datasets and model inputs) → ``{}``."""
    datasets = [
        DatasetInput(
            dataset=Dataset(
                name=d["dataset"]["name"],
                digest=d["dataset"]["digest"],
                source_type=d["dataset"]["source_type"],
                source=d["dataset"]["source"],
                schema=d["dataset"].get("schema"),
                profile=d["dataset"].get("profile"),
            ),
            tags=tuple(InputTag(t["key"], t.get("value", "")) for t in d.get("tags", ())),
        )
        for d in req.get("datasets", ())
    ]
    models = [ModelInput(m["model_id"]) for m in req.get("models", ())]
    store.log_inputs(req["run_id"], datasets=datasets, models=models)
    return json_response()


@rpc(router, "runs/outputs", methods=["POST"], permission=_perm(Access.EDIT))
def log_outputs(req: Annotated[Fields, Depends(request_fields(LOG_OUTPUTS))], store: StoreDep) -> Response:
    """LogOutputs (logged models produced by the run) → ``{}``."""
    models = [ModelOutput(m["model_id"], m.get("step", 0)) for m in req["models"]]
    store.log_outputs(req["run_id"], models)
    return json_response()


@rpc(
    router,
    "runs/search",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
)
def search_runs(req: Annotated[Fields, Depends(request_fields(SEARCH))], store: StoreDep) -> Response:
    """SearchRuns → ``{"runs", "next_page_token"}`` (both omitted when empty)."""
    experiment_ids = req.get("experiment_ids", [])
    if not experiment_ids:
        return json_response()
    page = store.search_runs(
        experiment_ids,
        filter_string=req.get("filter", ""),
        run_view_type=view_type_of(req.get("run_view_type")),
        max_results=req.get("max_results", SEARCH_MAX_RESULTS_DEFAULT),
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    body: dict[str, Any] = {}
    if page.items:
        body["runs"] = [run_to_dict(r) for r in page.items]
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)
