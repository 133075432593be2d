"""Request parsing rules of spec §0.2, as units and over HTTP."""

from __future__ import annotations

import json
import math

import httpx
import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.server.parsing import (
    Field,
    Kind,
    Message,
    check_content_type,
    parse_json_body,
    parse_object,
    parse_query,
)
from tests.server.api_helpers import API, Api, assert_error

INNER = Message("Inner", (Field("key", Kind.STRING, required=True), Field("n", Kind.INT64)))
MSG = Message(
    "Sample",
    (
        Field("run_id", Kind.STRING, required=True),
        Field("flag", Kind.BOOL),
        Field("ids", Kind.STRING, repeated=True),
        Field("start_time", Kind.INT64),
        Field("small", Kind.INT32),
        Field("value", Kind.DOUBLE),
        Field("status", Kind.ENUM, enum_values={"RUNNING": 1, "FINISHED": 3}),
        Field("items", Kind.MESSAGE, repeated=True, message=INNER),
    ),
)


# -- units ----------------------------------------------------------------------------------------


def test_query_repeated_params_and_booleans() -> None:
    parsed = parse_query(
        [("run_id", "r"), ("ids", "a"), ("ids", "b"), ("flag", "TRUE"), ("start_time", "12")], MSG
    )
    assert parsed == {"run_id": "r", "ids": ["a", "b"], "flag": True, "start_time": 12}
    assert parse_query([("run_id", "r"), ("flag", "false")], MSG)["flag"] is False
    with pytest.raises(InvalidArgumentError, match="'flag'"):
        parse_query([("run_id", "r"), ("flag", "yes")], MSG)
    with pytest.raises(InvalidArgumentError, match="'start_time'"):
        parse_query([("run_id", "r"), ("start_time", "soon")], MSG)


def test_query_enum_by_name_or_number() -> None:
    assert parse_query([("run_id", "r"), ("status", "3")], MSG)["status"] == "FINISHED"
    assert parse_query([("run_id", "r"), ("status", "RUNNING")], MSG)["status"] == "RUNNING"
    assert "status" not in parse_query([("run_id", "r"), ("status", "BOGUS")], MSG)


def test_camel_case_names_and_conflicts() -> None:
    assert parse_object({"runId": "r", "startTime": "5"}, MSG) == {"run_id": "r", "start_time": 5}
    with pytest.raises(InvalidArgumentError, match="conflicting"):
        parse_object({"run_id": "r", "runId": "r"}, MSG)
    with pytest.raises(InvalidArgumentError, match="conflicting"):
        parse_query([("run_id", "r"), ("runId", "r")], MSG)


def test_int64_numbers_and_strings() -> None:
    assert parse_object({"run_id": "r", "start_time": 1700000000001}, MSG)["start_time"] == 1700000000001
    assert parse_object({"run_id": "r", "start_time": "1700000000001"}, MSG)["start_time"] == 1700000000001
    assert parse_object({"run_id": "r", "start_time": 3.0}, MSG)["start_time"] == 3
    for bad in ("1.5", 1.5, True, "x", [1], 2**63):
        with pytest.raises(InvalidArgumentError):
            parse_object({"run_id": "r", "start_time": bad}, MSG)
    with pytest.raises(InvalidArgumentError):
        parse_object({"run_id": "r", "small": 2**31}, MSG)


def test_doubles_accept_nan_and_infinity_strings() -> None:
    assert math.isnan(parse_object({"run_id": "r", "value": "NaN"}, MSG)["value"])
    assert parse_object({"run_id": "r", "value": "Infinity"}, MSG)["value"] == math.inf
    assert parse_object({"run_id": "r", "value": "-Infinity"}, MSG)["value"] == -math.inf
    assert parse_object({"run_id": "r", "value": 2}, MSG)["value"] == 2.0
    with pytest.raises(InvalidArgumentError):
        parse_object({"run_id": "r", "value": "lots"}, MSG)


def test_enums_in_json() -> None:
    assert parse_object({"run_id": "r", "status": 3}, MSG)["status"] == "FINISHED"
    assert parse_object({"run_id": "r", "status": "FINISHED"}, MSG)["status"] == "FINISHED"
    assert "status" not in parse_object({"run_id": "r", "status": "BOGUS"}, MSG)
    assert "status" not in parse_object({"run_id": "r", "status": 99}, MSG)


def test_required_fields_absent_or_empty_and_nested_paths() -> None:
    for body in ({}, {"run_id": ""}, {"run_id": None}):
        with pytest.raises(InvalidArgumentError, match=r"Missing value for required parameter 'run_id'\."):
            parse_object(body, MSG)
    with pytest.raises(InvalidArgumentError, match=r"'items\[1\]\.key'"):
        parse_object({"run_id": "r", "items": [{"key": "a"}, {"n": 1}]}, MSG)


def test_unknown_keys_ignored_and_null_is_unset() -> None:
    assert parse_object({"run_id": "r", "whatever": 1, "value": None}, MSG) == {"run_id": "r"}


def test_json_bodies() -> None:
    assert parse_json_body(b"", Message("Empty", ())) == {}
    assert parse_json_body(json.dumps(json.dumps({"run_id": "r"})).encode(), MSG) == {"run_id": "r"}
    with pytest.raises(InvalidArgumentError):
        parse_json_body(b"[1, 2]", MSG)
    with pytest.raises(InvalidArgumentError):
        parse_json_body(b"{oops", MSG)


def test_content_type_rule() -> None:
    check_content_type("POST", "application/json")
    check_content_type("PUT", "application/json; charset=utf-8")
    check_content_type("PATCH", None)
    check_content_type("DELETE", "text/plain")
    with pytest.raises(InvalidArgumentError, match="missing"):
        check_content_type("POST", None)
    with pytest.raises(InvalidArgumentError, match=r"\['application/json'\]"):
        check_content_type("POST", "text/plain")


# -- over HTTP -----------------------------------------------------------------------------------


def test_get_repeated_query_params(api: Api) -> None:
    a = api.create_experiment("zz-parse-a-" + api.create_experiment())
    body = api.ok(
        api.get(
            "experiments/search",
            [("max_results", "100"), ("order_by", "name DESC"), ("order_by", "experiment_id")],
        )
    )
    assert a in [e["experiment_id"] for e in body["experiments"]]


def test_get_without_query_reads_a_json_body(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    response = http.request("GET", f"{API}/runs/get", content=json.dumps({"run_id": run_id}))
    assert api.ok(response)["run"]["info"]["run_id"] == run_id


def test_post_content_type_is_required(http: httpx.Client, api: Api) -> None:
    body = json.dumps({"name": "ct-test"})
    missing = http.post(f"{API}/experiments/create", content=body, headers={"content-type": ""})
    assert_error(missing, 400, "INVALID_PARAMETER_VALUE", "Content-Type header is missing")
    wrong = http.post(f"{API}/experiments/create", content=body, headers={"content-type": "text/plain"})
    assert_error(wrong, 400, "INVALID_PARAMETER_VALUE", "application/json")
    with_params = http.post(
        f"{API}/experiments/create",
        content=json.dumps({"name": "ct-test-charset-" + api.create_experiment()}),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert with_params.status_code == 200, with_params.text


def test_camel_case_and_conflicting_spellings_over_http(api: Api) -> None:
    run_id = api.run_id()
    api.ok(api.post("runs/log-metric", {"runId": run_id, "key": "m", "value": 1.5, "timestamp": 7}))
    assert api.get_run(run_id)["data"]["metrics"][0]["value"] == 1.5
    assert_error(
        api.post(
            "runs/log-metric", {"run_id": run_id, "runId": run_id, "key": "m", "value": 1, "timestamp": 1}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "conflicting",
    )


def test_int64_strings_and_double_encoded_body(http: httpx.Client, api: Api) -> None:
    experiment_id = api.create_experiment()
    body = {"experiment_id": experiment_id, "start_time": "1700000000001"}
    response = http.post(
        f"{API}/runs/create",
        content=json.dumps(json.dumps(body)),
        headers={"content-type": "application/json"},
    )
    assert api.ok(response)["run"]["info"]["start_time"] == 1700000000001


def test_unknown_enum_name_is_unset(api: Api) -> None:
    run_id = api.run_id()
    info = api.ok(api.post("runs/update", {"run_id": run_id, "status": "BOGUS", "run_name": "kept"}))[
        "run_info"
    ]
    assert info["status"] == "RUNNING" and info["run_name"] == "kept"


def test_malformed_bodies_are_400(http: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    assert_error(
        http.post(f"{API}/experiments/create", content=b"{nope", headers=headers),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        http.post(f"{API}/experiments/create", content=b"[]", headers=headers), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(
        http.post(f"{API}/experiments/create", content=b'{"name": 5, "tags": "x"}', headers=headers),
        400,
        "INVALID_PARAMETER_VALUE",
    )
