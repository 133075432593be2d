"""The scoring protocol over HTTP (spec MODELS-SERVING §7): every request format and content type,
the health and version routes, and every error case with its status and body, against real
``mltrail models serve`` processes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mltrail
import mltrail.pyfunc
from tests.scoring import _models
from tests.scoring.conftest import Server

ROWS = [0, 1, 50, 51, 100]


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    frame, _ = _models.iris()
    return frame.iloc[ROWS].reset_index(drop=True)


@pytest.fixture(scope="module")
def expected(model_dirs: dict[str, Path], features: pd.DataFrame) -> list[int]:
    predictions = mltrail.pyfunc.load_model(model_dirs["sklearn"]).predict(features)
    return [int(p) for p in predictions]


def _json(**payload: Any) -> str:
    return json.dumps(payload)


# -- request formats ----------------------------------------------------------------------------


def test_dataframe_split(sklearn_server: Server, features: pd.DataFrame, expected: list[int]) -> None:
    body = _json(dataframe_split=features.to_dict(orient="split"))
    response = sklearn_server.post(body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"predictions": expected}


def test_dataframe_split_without_index_and_utf8_charset(
    sklearn_server: Server, features: pd.DataFrame, expected: list[int]
) -> None:
    body = _json(dataframe_split={"columns": list(features.columns), "data": features.to_numpy().tolist()})
    response = sklearn_server.post(body, "application/json; charset=UTF-8")
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}


def test_dataframe_records(sklearn_server: Server, features: pd.DataFrame, expected: list[int]) -> None:
    response = sklearn_server.post(_json(dataframe_records=features.to_dict(orient="records")))
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}


def test_instances_rows(sklearn_server: Server, features: pd.DataFrame, expected: list[int]) -> None:
    response = sklearn_server.post(_json(instances=features.to_dict(orient="records")))
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}


def test_inputs_columns(sklearn_server: Server, features: pd.DataFrame, expected: list[int]) -> None:
    response = sklearn_server.post(_json(inputs=features.to_dict(orient="list")))
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}


def test_csv(sklearn_server: Server, features: pd.DataFrame, expected: list[int]) -> None:
    response = sklearn_server.post(features.to_csv(index=False), "text/csv")
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}


def test_parquet(sklearn_server: Server, features: pd.DataFrame, expected: list[int]) -> None:
    buffer = io.BytesIO()
    features.to_parquet(buffer)
    response = sklearn_server.post(buffer.getvalue(), "application/vnd.apache.parquet")
    assert response.status_code == 200
    assert response.json() == {"predictions": expected}


def test_params_reach_the_model(scaler_server: Server) -> None:
    body = _json(dataframe_split={"columns": ["x", "y"], "data": [[1.5, 1], [2, 10]]}, params={"factor": 2})
    response = scaler_server.post(body)
    assert response.status_code == 200
    assert [row["scaled"] for row in response.json()["predictions"]] == [4.0, 14.0]


def test_params_default_when_absent(scaler_server: Server) -> None:
    response = scaler_server.post(_json(dataframe_records=[{"x": 3.0, "y": 1}]))
    assert response.status_code == 200
    assert response.json()["predictions"][0]["scaled"] == 4.0


def test_llm_form_is_passed_through_and_unwrapped(echo_server: Server) -> None:
    payload = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}
    response = echo_server.post(json.dumps(payload))
    assert response.status_code == 200
    # No "predictions" wrapper, and (without a params schema) every key is data.
    assert response.json() == {"input": payload, "params": {}}


def test_instances_of_a_schemaless_model_arrive_as_column_arrays(echo_server: Server) -> None:
    response = echo_server.post(_json(instances=[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]))
    assert response.status_code == 200
    assert response.json()["predictions"]["input"] == {"a": {"array": [1, 2]}, "b": {"array": ["x", "y"]}}


def test_inputs_tensor_of_a_schemaless_model(echo_server: Server) -> None:
    response = echo_server.post(_json(inputs=[[1, 2], [3, 4]]))
    assert response.status_code == 200
    assert response.json()["predictions"]["input"] == {"array": [[1, 2], [3, 4]]}


def test_params_without_a_params_schema_are_dropped(echo_server: Server) -> None:
    response = echo_server.post(_json(inputs={"a": [1]}, params={"k": 1}))
    assert response.status_code == 200
    assert response.json()["predictions"]["params"] is None


def test_type_hinted_model_takes_inputs_unconverted(hinted_server: Server) -> None:
    response = hinted_server.post(_json(inputs=["ab", "c"]))
    assert response.status_code == 200
    assert response.json() == {"predictions": ["AB", "C"]}


def test_type_hinted_model_requires_the_inputs_key(hinted_server: Server) -> None:
    response = hinted_server.post(_json(dataframe_split={"columns": ["a"], "data": [["x"]]}))
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert body["message"].startswith("Request payload must be a dictionary with 'inputs' key")


# -- other routes -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ping", "/health"])
def test_health_routes(sklearn_server: Server, path: str) -> None:
    import requests

    response = requests.get(sklearn_server.url + path, timeout=10)
    assert response.status_code == 200
    assert response.text == "\n"
    assert response.headers["content-type"] == "application/json"


def test_version(sklearn_server: Server) -> None:
    import requests

    response = requests.get(sklearn_server.url + "/version", timeout=10)
    assert response.status_code == 200
    assert response.text == mltrail.__version__


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/invocations", 405), ("POST", "/ping", 405)])
def test_wrong_method(sklearn_server: Server, method: str, path: str, status: int) -> None:
    import requests

    assert requests.request(method, sklearn_server.url + path, timeout=10).status_code == status


def test_unknown_path(sklearn_server: Server) -> None:
    import requests

    response = requests.get(sklearn_server.url + "/nope", timeout=10)
    assert response.status_code == 404


# -- errors -------------------------------------------------------------------------------------

_TYPES_MESSAGE = (
    "This predictor only supports the following content types: Types: "
    "['text/csv', 'application/json', 'application/vnd.apache.parquet']. Got '{}'."
)


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("text/plain", _TYPES_MESSAGE.format("text/plain")),
        ("application/x-www-form-urlencoded", _TYPES_MESSAGE.format("application/x-www-form-urlencoded")),
        (None, _TYPES_MESSAGE.format("")),
        ("application/json; charset=latin-1", "The scoring server only supports UTF-8"),
    ],
)
def test_unsupported_content_types(sklearn_server: Server, content_type: str | None, message: str) -> None:
    response = sklearn_server.post("{}", content_type)
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == message


def test_unknown_content_type_parameter(sklearn_server: Server) -> None:
    response = sklearn_server.post("{}", "application/json; format=pandas-split")
    assert response.status_code == 415
    assert response.text.startswith("Unrecognized content type parameters: format. IMPORTANT:")


_FORMATS = "{'inputs', 'dataframe_records', 'dataframe_split', 'instances'}"


@pytest.mark.parametrize(
    ("body", "message_start"),
    [
        ("{nope", "Invalid input. Ensure that input is a valid JSON formatted string."),
        (
            "[1, 2]",
            f"Invalid input. The input must be a JSON dictionary with exactly one of the input "
            f"fields {_FORMATS}. Received a list.",
        ),
        ("3", "Invalid input. The input must be a JSON dictionary with exactly one of the input fields"),
        (
            '{"foo": 1}',
            f"The input must be a JSON dictionary with exactly one of the input fields {_FORMATS}. "
            "Received dictionary with input fields: []. IMPORTANT:",
        ),
        (
            '{"inputs": 1, "instances": 2}',
            "The input must be a JSON dictionary with exactly one of the input "
            f"fields {_FORMATS}. Received dictionary with input fields: ['inputs', 'instances'].",
        ),
        ('{"columns": ["a"], "data": [[1]]}', "The input must be a JSON dictionary with exactly one"),
        ('{"inputs": [1], "signature_name": "x"}', 'Invalid input. "signature_name" parameter is currently'),
        ('{"dataframe_split": {"columns": ["a"]}}', "Invalid input. Dataframe split format must have 'data'"),
        (
            '{"dataframe_split": [[1]]}',
            "Invalid input. Dataframe split format must be a dictionary. Got list.",
        ),
        (
            '{"dataframe_records": {"a": 1}}',
            "Invalid input. Dataframe records format must be a list of records. Got dictionary.",
        ),
    ],
)
def test_malformed_json_requests(sklearn_server: Server, body: str, message_start: str) -> None:
    response = sklearn_server.post(body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()
    assert error["error_code"] == "BAD_REQUEST"
    assert error["sqlstate"] == "KAM00"
    assert error["error_class"] == "INVALID_PARAMETER_VALUE"
    assert error["message"].startswith(message_start)


def test_malformed_csv(sklearn_server: Server) -> None:
    response = sklearn_server.post('a,b\n1,2\n"unterminated', "text/csv")
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "BAD_REQUEST"
    assert error["message"].startswith(
        "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid CSV"
    )
    assert "stack_trace" in error


def test_malformed_parquet(sklearn_server: Server) -> None:
    response = sklearn_server.post(b"not parquet", "application/vnd.apache.parquet")
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "BAD_REQUEST"
    assert "valid Parquet Pandas DataFrame" in error["message"]


def test_missing_column_is_a_schema_error(sklearn_server: Server, features: pd.DataFrame) -> None:
    body = _json(dataframe_split=features.iloc[:, :2].to_dict(orient="split"))
    response = sklearn_server.post(body)
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert error["sqlstate"] == "KAM01"
    assert error["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"
    assert error["message"].startswith("Failed to predict data '")
    assert "Failed to enforce schema" in error["message"]
    assert "Model is missing inputs ['petal length (cm)', 'petal width (cm)']" in error["message"]


def test_value_of_the_wrong_type_is_a_schema_error(scaler_server: Server) -> None:
    response = scaler_server.post(_json(dataframe_split={"columns": ["x", "y"], "data": [["a", 1]]}))
    assert response.status_code == 400
    error = response.json()
    assert error["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"
    assert "Incompatible input types for column 'x'" in error["message"]


def test_param_of_the_wrong_type(scaler_server: Server) -> None:
    body = _json(dataframe_split={"columns": ["x", "y"], "data": [[1.0, 1]]}, params={"factor": "big"})
    response = scaler_server.post(body)
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Param 'factor' expects a double value" in error["message"]


def test_model_exception_is_a_bad_request_with_its_stack_trace(scaler_server: Server) -> None:
    response = scaler_server.post(_json(dataframe_split={"columns": ["x", "y"], "data": [[-1.0, 1]]}))
    assert response.status_code == 400
    error = response.json()
    assert error["error_code"] == "BAD_REQUEST"
    assert error["message"].startswith("Encountered an unexpected error while evaluating the model.")
    assert "ValueError: x must not be -1" in error["stack_trace"]


def test_request_timeout_answers_504(scaler_server: Server) -> None:
    body = _json(dataframe_split={"columns": ["x", "y"], "data": [[1.0, 1]]}, params={"sleep": 3.0})
    response = scaler_server.post(body)
    assert response.status_code == 504
    assert response.text == "Request processing time exceeded limit"
    # The server keeps answering afterwards.
    ok = scaler_server.post(_json(dataframe_split={"columns": ["x", "y"], "data": [[1.0, 1]]}))
    assert ok.status_code == 200


def test_predictions_of_numpy_output_keep_their_values(
    sklearn_server: Server, features: pd.DataFrame, expected: list[int]
) -> None:
    big = pd.concat([features] * 200, ignore_index=True)
    response = sklearn_server.post(_json(dataframe_split=big.to_dict(orient="split")))
    assert response.status_code == 200
    assert np.array_equal(response.json()["predictions"], expected * 200)
