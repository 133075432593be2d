"""The server's fast paths give exactly what the general code gives.

The plain request parser against the full one, ``RpcRoute``'s direct endpoint calls against
FastAPI's dependency solving, its path pre-check, and the inline metric encoding against
``metric_to_dict``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.testclient import TestClient

from mltrail.errors import InvalidArgumentError
from mltrail.server.app import create_app
from mltrail.server.parsing import _parse_full, _parse_plain, parse_object
from mltrail.server.routers import runs
from mltrail.server.routers.metrics import _metric_dicts
from mltrail.server.routing import RpcRoute, _direct_arguments
from mltrail.server.settings import ServerSettings
from mltrail.tracking.entities import Metric
from mltrail.tracking.wire import metric_to_dict
from tests.server.api_helpers import API, Api, assert_error

# -- plain parsing --------------------------------------------------------------------------------

PLAIN_BODIES = [
    (
        runs.LOG_BATCH,
        {
            "run_id": "r1",
            "metrics": [
                {"key": "a", "value": 1.5, "timestamp": 10, "step": 2},
                {"key": "b", "value": 3, "timestamp": 11},
            ],
            "params": [{"key": "p", "value": "v"}],
            "tags": [],
            "unknown_field": {"ignored": True},
        },
    ),
    (runs.LOG_METRIC, {"run_id": "r1", "key": "loss", "value": 0.25, "timestamp": 1, "step": 0}),
    (runs.SEARCH, {"experiment_ids": ["1", "2"], "filter": "", "max_results": 10, "order_by": []}),
    (runs.CREATE, {"experiment_id": "0", "run_name": "x", "start_time": None, "tags": None}),
]


@pytest.mark.parametrize(("message", "body"), PLAIN_BODIES, ids=lambda v: getattr(v, "name", ""))
def test_plain_bodies_take_the_plain_path_with_the_full_result(message: Any, body: dict[str, Any]) -> None:
    plain = _parse_plain(body, message)
    assert plain is not None
    assert plain == _parse_full(body, message)
    assert parse_object(body, message) == plain


NOT_PLAIN_BODIES = [
    # lowerCamel spelling, int64 as a string, infinity spelled as a string, a number for a
    # string, an enum by name, a nested int64 as a string.
    (runs.LOG_METRIC, {"runId": "r1", "key": "k", "value": 1.0, "timestamp": 1}),
    (runs.LOG_METRIC, {"run_id": "r1", "key": "k", "value": 1.0, "timestamp": "17"}),
    (runs.LOG_METRIC, {"run_id": "r1", "key": "k", "value": "Infinity", "timestamp": 1}),
    (runs.LOG_METRIC, {"run_id": "r1", "key": 5, "value": 1.0, "timestamp": 1}),
    (runs.SEARCH, {"experiment_ids": ["1"], "run_view_type": "ALL"}),
    (runs.LOG_BATCH, {"run_id": "r1", "metrics": [{"key": "k", "value": 1.0, "timestamp": "3"}]}),
]


@pytest.mark.parametrize(("message", "body"), NOT_PLAIN_BODIES)
def test_other_bodies_fall_back_to_the_full_parser(message: Any, body: dict[str, Any]) -> None:
    assert _parse_plain(body, message) is None
    assert parse_object(body, message) == _parse_full(body, message)


def test_nan_and_numbers_as_strings_still_parse() -> None:
    parsed = parse_object({"run_id": "r", "key": 5, "value": "NaN", "timestamp": "17"}, runs.LOG_METRIC)
    assert parsed["key"] == "5"
    assert math.isnan(parsed["value"])
    assert parsed["timestamp"] == 17


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"run_id": "r", "value": 1.0, "timestamp": 1}, "Missing value for required parameter 'key'"),
        ({"run_id": "r", "key": "", "value": 1.0, "timestamp": 1}, "required parameter 'key'"),
        ({"run_id": "r", "key": "k", "value": 1.0, "timestamp": 2**63}, "'timestamp' supplied"),
        ({"run_id": "r", "key": "k", "value": True, "timestamp": 1}, "'value' supplied"),
        (
            {"run_id": "r", "runId": "s", "key": "k", "value": 1.0, "timestamp": 1},
            "conflicting fields: 'run_id' and 'runId'",
        ),
    ],
)
def test_errors_are_those_of_the_full_parser(body: dict[str, Any], text: str) -> None:
    assert _parse_plain(body, runs.LOG_METRIC) is None
    with pytest.raises(InvalidArgumentError, match=text):
        parse_object(body, runs.LOG_METRIC)


def test_nested_errors_keep_their_path() -> None:
    body = {
        "run_id": "r",
        "metrics": [{"key": "k", "value": 1.0, "timestamp": 1}, {"key": "k", "value": 1.0}],
    }
    with pytest.raises(InvalidArgumentError, match=r"'metrics\[1\]\.timestamp'"):
        parse_object(body, runs.LOG_BATCH)


# -- RpcRoute ---------------------------------------------------------------------------------------


@pytest.fixture
def app_settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'mltrail.db'}", artifacts_destination=str(tmp_path / "art")
    )


def test_tracking_rpcs_are_called_directly_and_others_by_fastapi(app_settings: ServerSettings) -> None:
    app = create_app(app_settings)
    routes = {(r.path, tuple(sorted(r.methods or ()))): r for r in app.routes if isinstance(r, APIRoute)}
    assert all(isinstance(r, RpcRoute) for r in routes.values())
    log_metric = routes[(f"{API}/runs/log-metric", ("POST",))]
    assert _direct_arguments(log_metric) == [("req", "message", runs.LOG_METRIC), ("store", "store", None)]
    path_routes = [r for r in routes.values() if r.param_convertors]
    assert path_routes, "the artifact routes take a path parameter"
    assert all(_direct_arguments(r) is None for r in path_routes)


def test_direct_routes_answer_as_before(app_settings: ServerSettings) -> None:
    with TestClient(create_app(app_settings)) as client:
        api = Api(cast(httpx.Client, client))  # the test client speaks httpx's API
        run_id = api.run_id()
        logged = api.post("runs/log-metric", {"run_id": run_id, "key": "m", "value": 2, "timestamp": 5})
        assert api.ok(logged) == {}
        history = api.get("metrics/get-history", {"run_id": run_id, "metric_key": "m"})
        assert api.ok(history) == {"metrics": [{"key": "m", "value": 2.0, "timestamp": 5, "step": 0}]}
        missing = api.post("runs/log-metric", {"run_id": run_id, "value": 1, "timestamp": 1})
        assert_error(missing, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'key'")
        unknown = api.post("runs/log-metric", {"run_id": "0" * 32, "key": "k", "value": 1, "timestamp": 1})
        assert_error(unknown, 404, "RESOURCE_DOES_NOT_EXIST")
        assert client.get(f"{API}/runs/log-metric").status_code == 405
        assert client.post(f"{API}/runs/log-metric-nope", json={}).status_code == 404


def test_routes_still_match_under_a_root_path(app_settings: ServerSettings) -> None:
    with TestClient(create_app(app_settings), root_path="/prefix") as client:
        assert client.get("/prefix/health").text == "OK"
        api = Api(cast(httpx.Client, client), prefix=f"/prefix{API}")
        assert api.ok(api.get("experiments/search", {"max_results": 5}))["experiments"]


# -- metric encoding ------------------------------------------------------------------------------


def test_inline_metric_encoding_equals_metric_to_dict() -> None:
    points = [
        Metric("a", 1.5, 10, 1),
        Metric("a", math.nan, 11, 2),
        Metric("a", math.inf, 12, 3),
        Metric("a", -math.inf, 13, 4),
        Metric("a", 2.0, 14, 5, dataset_name="d", dataset_digest="x"),
        Metric("a", 3.0, 15, 6, model_id="m-1"),
        Metric("a", 4.0, 16, 7, run_id="r"),
    ]
    for with_run_id in (True, False):
        assert _metric_dicts(points, with_run_id) == [
            metric_to_dict(m, with_run_id=with_run_id) for m in points
        ]
