"""Experiment RPCs (spec REST-TRACKING §1) and the UI's dataset summary search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from mltrail.errors import InvalidArgumentError
from mltrail.server.deps import StoreDep, json_response, request_fields
from mltrail.server.parsing import Field, Kind, Message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import (
    KEY_VALUE,
    VIEW_TYPE_VALUES,
    enum_field,
    int64,
    repeated_string,
    string,
    view_type_of,
)
from mltrail.server.routing import AJAX_TRACKING_PREFIX, rpc
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_DEFAULT
from mltrail.tracking.wire import dataset_summary_to_dict, experiment_to_dict

__all__ = ["router"]

router = APIRouter()

_SEARCH_DATASETS_MAX_EXPERIMENTS = 20

CREATE = Message(
    "CreateExperiment",
    (
        string("name", required=True),
        string("artifact_location"),
        Field("tags", Kind.MESSAGE, repeated=True, message=KEY_VALUE),
    ),
)
GET = Message("GetExperiment", (string("experiment_id", required=True),))
GET_BY_NAME = Message("GetExperimentByName", (string("experiment_name", required=True),))
SEARCH = Message(
    "SearchExperiments",
    (
        int64("max_results"),
        string("page_token"),
        string("filter"),
        repeated_string("order_by"),
        enum_field("view_type", VIEW_TYPE_VALUES),
    ),
)
BY_ID = Message("ExperimentById", (string("experiment_id", required=True),))
UPDATE = Message(
    "UpdateExperiment", (string("experiment_id", required=True), string("new_name", required=True))
)
SET_TAG = Message(
    "SetExperimentTag",
    (string("experiment_id", required=True), string("key", required=True), string("value")),
)
DELETE_TAG = Message(
    "DeleteExperimentTag", (string("experiment_id", required=True), string("key", required=True))
)
SEARCH_DATASETS = Message("SearchDatasets", (repeated_string("experiment_ids"),))

_CREATE = PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT)
_SEARCH = PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ)


def _read(field: str = "experiment_id") -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, field)


def _edit() -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "experiment_id")


def _manage() -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.EXPERIMENT, Access.MANAGE, "experiment_id")


Fields = dict[str, Any]


@rpc(router, "experiments/create", methods=["POST"], permission=_CREATE)
def create_experiment(req: Annotated[Fields, Depends(request_fields(CREATE))], store: StoreDep) -> Response:
    """CreateExperiment → ``{"experiment_id"}``."""
    tags = [(t["key"], t.get("value", "")) for t in req.get("tags", ())]
    experiment_id = store.create_experiment(req["name"], req.get("artifact_location") or None, tags)
    return json_response({"experiment_id": experiment_id})


@rpc(router, "experiments/get", methods=["GET"], permission=_read())
def get_experiment(req: Annotated[Fields, Depends(request_fields(GET))], store: StoreDep) -> Response:
    """GetExperiment → ``{"experiment"}`` (deleted experiments too)."""
    return json_response({"experiment": experiment_to_dict(store.get_experiment(req["experiment_id"]))})


@rpc(router, "experiments/get-by-name", methods=["GET"], permission=_read("experiment_name"))
def get_experiment_by_name(
    req: Annotated[Fields, Depends(request_fields(GET_BY_NAME))], store: StoreDep
) -> Response:
    """GetExperimentByName → ``{"experiment"}``."""
    experiment = store.get_experiment_by_name(req["experiment_name"])
    return json_response({"experiment": experiment_to_dict(experiment)})


@rpc(router, "experiments/search", methods=["GET", "POST"], permission=_SEARCH)
def search_experiments(req: Annotated[Fields, Depends(request_fields(SEARCH))], store: StoreDep) -> Response:
    """SearchExperiments → ``{"experiments", "next_page_token"}`` (both omitted when empty)."""
    page = store.search_experiments(
        view_type=view_type_of(req.get("view_type")),
        max_results=req.get("max_results", SEARCH_MAX_RESULTS_DEFAULT),
        filter_string=req.get("filter") or None,
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    body: dict[str, Any] = {}
    if page.items:
        body["experiments"] = [experiment_to_dict(e) for e in page.items]
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return json_response(body)


@rpc(router, "experiments/delete", methods=["POST"], permission=_manage())
def delete_experiment(req: Annotated[Fields, Depends(request_fields(BY_ID))], store: StoreDep) -> Response:
    """DeleteExperiment (soft, cascades to runs) → ``{}``."""
    store.delete_experiment(req["experiment_id"])
    return json_response()


@rpc(router, "experiments/restore", methods=["POST"], permission=_manage())
def restore_experiment(req: Annotated[Fields, Depends(request_fields(BY_ID))], store: StoreDep) -> Response:
    """RestoreExperiment → ``{}``."""
    store.restore_experiment(req["experiment_id"])
    return json_response()


@rpc(router, "experiments/update", methods=["POST"], permission=_edit())
def update_experiment(req: Annotated[Fields, Depends(request_fields(UPDATE))], store: StoreDep) -> Response:
    """UpdateExperiment (rename) → ``{}``."""
    store.rename_experiment(req["experiment_id"], req["new_name"])
    return json_response()


@rpc(router, "experiments/set-experiment-tag", methods=["POST"], permission=_edit())
def set_experiment_tag(req: Annotated[Fields, Depends(request_fields(SET_TAG))], store: StoreDep) -> Response:
    """SetExperimentTag → ``{}``."""
    store.set_experiment_tag(req["experiment_id"], req["key"], req.get("value", ""))
    return json_response()


@rpc(router, "experiments/delete-experiment-tag", methods=["POST"], permission=_edit())
def delete_experiment_tag(
    req: Annotated[Fields, Depends(request_fields(DELETE_TAG))], store: StoreDep
) -> Response:
    """DeleteExperimentTag → ``{}``."""
    store.delete_experiment_tag(req["experiment_id"], req["key"])
    return json_response()


@rpc(
    router,
    "experiments/search-datasets",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
    prefixes=AJAX_TRACKING_PREFIX,
)
def search_datasets(
    req: Annotated[Fields, Depends(request_fields(SEARCH_DATASETS))], store: StoreDep
) -> Response:
    """The UI's dataset picker → ``{"dataset_summaries"}`` for 1..20 experiments."""
    ids = req.get("experiment_ids", [])
    if not ids or len(ids) > _SEARCH_DATASETS_MAX_EXPERIMENTS:
        raise InvalidArgumentError(
            f"SearchDatasets requires between 1 and {_SEARCH_DATASETS_MAX_EXPERIMENTS} experiment_ids, "
            f"got {len(ids)}."
        )
    summaries = store.search_datasets(ids)
    body: dict[str, Any] = {}
    if summaries:
        body["dataset_summaries"] = [dataset_summary_to_dict(s) for s in summaries]
    return json_response(body)
