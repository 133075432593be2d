"""Logged-model RPCs over HTTP (spec REST-TRACKING §3): shapes, errors, body rules, paging tokens,
artifact listing and the UI file helper."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mltrail.server.app import create_app
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from tests.server.api_helpers import AJAX, API, PROXY, Api, assert_error
from tests.server.conftest import ServedApp


def _create(api: Api, experiment_id: str | None = None, **fields: Any) -> dict[str, Any]:
    experiment_id = experiment_id or api.create_experiment()
    model: dict[str, Any] = api.ok(api.post("logged-models", {"experiment_id": experiment_id, **fields}))[
        "model"
    ]
    return model


def _model_url(api: Api, model_id: str, tail: str = "") -> str:
    return f"{api.prefix}/logged-models/{model_id}{tail}"


def _request(api: Api, method: str, model_id: str, tail: str = "", body: Any = None) -> httpx.Response:
    return api.http.request(method, _model_url(api, model_id, tail), json=body)


@pytest.fixture(params=[API, AJAX], ids=["api", "ajax"])
def either(request: pytest.FixtureRequest, http: httpx.Client) -> Api:
    """The RPC helper under each of the two prefixes."""
    return Api(http, str(request.param))


def test_create_shape(either: Api) -> None:
    exp_id = either.create_experiment()
    run_id = either.run_id(exp_id)
    model = _create(
        either,
        exp_id,
        name="clf",
        model_type="sklearn",
        source_run_id=run_id,
        params=[{"key": "alpha", "value": "0.5"}],
        tags=[{"key": "team", "value": "ml"}],
    )
    info = model["info"]
    assert info["model_id"].startswith("m-") and len(info["model_id"]) == 34
    assert info["experiment_id"] == exp_id
    assert info["name"] == "clf"
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["model_type"] == "sklearn"
    assert info["source_run_id"] == run_id
    assert isinstance(info["creation_timestamp_ms"], int)
    assert info["last_updated_timestamp_ms"] == info["creation_timestamp_ms"]
    assert info["artifact_uri"].endswith(f"/{exp_id}/models/{info['model_id']}/artifacts")
    assert info["tags"] == [{"key": "team", "value": "ml"}]
    assert "registrations" not in info and "status_message" not in info
    assert model["data"] == {"params": [{"key": "alpha", "value": "0.5"}]}
    bare = _create(either, exp_id)
    assert bare["info"]["name"] and bare["data"] == {}
    assert "tags" not in bare["info"] and "model_type" not in bare["info"]


def test_create_errors(api: Api) -> None:
    assert_error(api.post("logged-models", {}), 400, "INVALID_PARAMETER_VALUE", "'experiment_id'")
    assert_error(api.post("logged-models", {"experiment_id": "424242"}), 404, "RESOURCE_DOES_NOT_EXIST")
    exp_id = api.create_experiment()
    assert_error(
        api.post("logged-models", {"experiment_id": exp_id, "name": "a/b"}), 400, "INVALID_PARAMETER_VALUE"
    )
    api.ok(api.post("experiments/delete", {"experiment_id": exp_id}))
    assert_error(api.post("logged-models", {"experiment_id": exp_id}), 400, "INVALID_PARAMETER_VALUE")
    no_type = api.http.post(f"{API}/logged-models", content=b'{"experiment_id": "0"}')
    assert_error(no_type, 400, "INVALID_PARAMETER_VALUE", "Content-Type")


def test_get_and_delete(either: Api) -> None:
    model = _create(either)
    model_id = model["info"]["model_id"]
    assert either.ok(either.get(f"logged-models/{model_id}")) == {"model": model}
    assert either.ok(_request(either, "DELETE", model_id, body={"model_id": model_id})) == {}
    assert_error(either.get(f"logged-models/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST", model_id)
    deleted = either.ok(either.get(f"logged-models/{model_id}", {"allow_deleted": "true"}))["model"]
    assert deleted["info"]["model_id"] == model_id
    assert_error(
        either.get(f"logged-models/{model_id}", {"allow_deleted": "maybe"}), 400, "INVALID_PARAMETER_VALUE"
    )
    missing = "m-" + "0" * 32
    assert_error(_request(either, "DELETE", missing, body={}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_finalize_needs_model_id_in_the_body(api: Api) -> None:
    model_id = _create(api)["info"]["model_id"]
    response = _request(api, "PATCH", model_id, body={"status": "LOGGED_MODEL_READY"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'model_id'")
    response = _request(api, "PATCH", model_id, body={"model_id": model_id})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "'status'")
    # PATCH does not check the content type; enums may be sent by number.
    raw = api.http.patch(
        _model_url(api, model_id), content=f'{{"model_id": "{model_id}", "status": 2}}'.encode()
    )
    assert api.ok(raw)["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    failed = _request(
        api, "PATCH", model_id, body={"model_id": model_id, "status": "LOGGED_MODEL_UPLOAD_FAILED"}
    )
    assert api.ok(failed)["model"]["info"]["status"] == "LOGGED_MODEL_UPLOAD_FAILED"
    missing = "m-" + "1" * 32
    response = _request(api, "PATCH", missing, body={"model_id": missing, "status": "LOGGED_MODEL_READY"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


def test_tags_and_params(api: Api) -> None:
    model_id = _create(api)["info"]["model_id"]
    body = {"tags": [{"key": "a", "value": "1"}, {"key": "dir/b", "value": "2"}]}
    assert api.ok(_request(api, "PATCH", model_id, "/tags", body)) == {}
    assert api.ok(_request(api, "DELETE", model_id, "/tags/dir/b", {})) == {}
    info = api.ok(api.get(f"logged-models/{model_id}"))["model"]["info"]
    assert info["tags"] == [{"key": "a", "value": "1"}]
    assert_error(_request(api, "DELETE", model_id, "/tags/nope", {}), 404, "RESOURCE_DOES_NOT_EXIST")
    params = {"params": [{"key": "lr", "value": "0.1"}]}
    assert_error(
        api.post(f"logged-models/{model_id}/params", params), 400, "INVALID_PARAMETER_VALUE", "'model_id'"
    )
    assert api.ok(api.post(f"logged-models/{model_id}/params", {"model_id": model_id, **params})) == {}
    data = api.ok(api.get(f"logged-models/{model_id}"))["model"]["data"]
    assert data["params"] == [{"key": "lr", "value": "0.1"}]


def test_registrations_come_from_the_model_versions_tag(api: Api) -> None:
    model_id = _create(api)["info"]["model_id"]
    tag = {"key": "mlflow.modelVersions", "value": '[{"name": "clf", "version": "3"}]'}
    api.ok(_request(api, "PATCH", model_id, "/tags", {"tags": [tag]}))
    info = api.ok(api.get(f"logged-models/{model_id}"))["model"]["info"]
    assert info["registrations"] == [{"name": "clf", "version": "3"}]


def test_metrics_logged_with_model_id(api: Api) -> None:
    exp_id = api.create_experiment()
    run_id = api.run_id(exp_id)
    model_id = _create(api, exp_id, source_run_id=run_id)["info"]["model_id"]
    metric = {
        "key": "acc",
        "value": 0.9,
        "timestamp": 5,
        "step": 2,
        "model_id": model_id,
        "dataset_name": "eval",
        "dataset_digest": "abc",
    }
    api.ok(api.post("runs/log-batch", {"run_id": run_id, "metrics": [metric]}))
    api.ok(
        api.post(
            "runs/log-metric",
            {"run_id": run_id, "key": "nan", "value": "NaN", "timestamp": 6, "model_id": model_id},
        )
    )
    data = api.ok(api.get(f"logged-models/{model_id}"))["model"]["data"]
    assert data["metrics"] == [
        {**metric, "run_id": run_id},
        {"key": "nan", "value": "NaN", "timestamp": 6, "step": 0, "model_id": model_id, "run_id": run_id},
    ]
    bad = {**metric, "model_id": "m-" + "9" * 32}
    assert_error(
        api.post("runs/log-batch", {"run_id": run_id, "metrics": [bad]}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_search_shapes_and_errors(either: Api) -> None:
    exp_id = either.create_experiment()
    assert either.ok(either.post("logged-models/search", {"experiment_ids": [exp_id]})) == {}
    ids = [
        _create(either, exp_id, name=f"m{i}", params=[{"key": "k", "value": str(i)}])["info"]["model_id"]
        for i in range(3)
    ]
    body = {
        "experiment_ids": [exp_id],
        "max_results": 2,
        "order_by": [{"field_name": "name", "ascending": False}],
    }
    first = either.ok(either.post("logged-models/search", body))
    assert [m["info"]["name"] for m in first["models"]] == ["m2", "m1"]
    token = first["next_page_token"]
    second = either.ok(either.post("logged-models/search", {**body, "page_token": token}))
    assert [m["info"]["name"] for m in second["models"]] == ["m0"] and "next_page_token" not in second
    # The token belongs to its search: other experiment ids, filter or order are rejected.
    for change in (
        {"filter": "name = 'm0'"},
        {"order_by": [{"field_name": "name"}]},
        {"experiment_ids": [exp_id, "0"]},
    ):
        response = either.post("logged-models/search", {**body, **change, "page_token": token})
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", "page token")
    assert_error(
        either.post("logged-models/search", {**body, "page_token": "%%%"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(either.post("logged-models/search", {}), 400, "INVALID_PARAMETER_VALUE", "'experiment_ids'")
    filtered = either.ok(
        either.post("logged-models/search", {"experiment_ids": [exp_id], "filter": "params.k = '1'"})
    )
    assert [m["info"]["model_id"] for m in filtered["models"]] == [ids[1]]
    bad_filter = either.post("logged-models/search", {"experiment_ids": [exp_id], "filter": "params.k > 1"})
    assert_error(bad_filter, 400, "INVALID_PARAMETER_VALUE")
    bad_order = either.post(
        "logged-models/search", {"experiment_ids": [exp_id], "order_by": [{"ascending": True}]}
    )
    assert_error(bad_order, 400, "INVALID_PARAMETER_VALUE", "field_name")
    no_name = either.post(
        "logged-models/search", {"experiment_ids": [exp_id], "datasets": [{"dataset_digest": "x"}]}
    )
    assert_error(no_name, 400, "INVALID_PARAMETER_VALUE", "dataset_name")


def _upload(http: httpx.Client, artifact_uri: str, rel: str, data: bytes) -> None:
    assert artifact_uri.startswith("mlflow-artifacts:/")
    root = artifact_uri[len("mlflow-artifacts:") :].lstrip("/")
    response = http.put(f"{PROXY}/artifacts/{root}/{rel}", content=data)
    assert response.status_code == 200, response.text


def test_list_logged_model_artifacts(api: Api, http: httpx.Client) -> None:
    model = _create(api)["info"]
    model_id, root = model["model_id"], model["artifact_uri"]
    listing = api.ok(api.get(f"logged-models/{model_id}/artifacts/directories"))
    assert listing == {"root_uri": root}
    _upload(http, root, "MLmodel", b"flavors: {}\n")
    _upload(http, root, "sub/model.pkl", b"12345")
    listing = api.ok(api.get(f"logged-models/{model_id}/artifacts/directories"))
    assert listing["root_uri"] == root
    assert sorted(listing["files"], key=lambda f: f["path"]) == [
        {"path": "MLmodel", "is_dir": False, "file_size": 12},
        {"path": "sub", "is_dir": True},
    ]
    sub = api.ok(
        api.get(f"logged-models/{model_id}/artifacts/directories", {"artifact_directory_path": "sub"})
    )
    assert sub["files"] == [{"path": "sub/model.pkl", "is_dir": False, "file_size": 5}]
    response = api.get(f"logged-models/{model_id}/artifacts/directories", {"artifact_directory_path": "../x"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    missing = api.get(f"logged-models/m-{'5' * 32}/artifacts/directories")
    assert_error(missing, 404, "RESOURCE_DOES_NOT_EXIST")


def test_artifact_file_helper_is_ajax_only(ajax: Api, api: Api, http: httpx.Client) -> None:
    model = _create(ajax)["info"]
    model_id = model["model_id"]
    _upload(http, model["artifact_uri"], "sub/conda.yaml", b"name: env\n")
    url = f"{AJAX}/logged-models/{model_id}/artifacts/files"
    response = http.get(url, params={"artifact_file_path": "sub/conda.yaml"})
    assert response.status_code == 200 and response.content == b"name: env\n"
    assert "attachment" in response.headers["content-disposition"]
    assert_error(http.get(url), 400, "BAD_REQUEST", "artifact_file_path")
    assert_error(http.get(url, params={"artifact_file_path": "nope.txt"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(http.get(url, params={"artifact_file_path": "../../x"}), 400, "INVALID_PARAMETER_VALUE")
    assert http.get(f"{API}/logged-models/{model_id}/artifacts/files").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "declaration"),
    [
        (
            "POST",
            "logged-models",
            PermissionDeclaration(ResourceKind.EXPERIMENT, Access.EDIT, "experiment_id"),
        ),
        (
            "POST",
            "logged-models/search",
            PermissionDeclaration(ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
        ),
        (
            "GET",
            "logged-models/{model_id}",
            PermissionDeclaration(ResourceKind.LOGGED_MODEL, Access.READ, "model_id"),
        ),
        (
            "PATCH",
            "logged-models/{model_id}",
            PermissionDeclaration(ResourceKind.LOGGED_MODEL, Access.EDIT, "model_id"),
        ),
        (
            "DELETE",
            "logged-models/{model_id}",
            PermissionDeclaration(ResourceKind.LOGGED_MODEL, Access.MANAGE, "model_id"),
        ),
        (
            "DELETE",
            "logged-models/{model_id}/tags/{tag_key:path}",
            PermissionDeclaration(ResourceKind.LOGGED_MODEL, Access.EDIT, "model_id"),
        ),
        (
            "GET",
            "logged-models/{model_id}/artifacts/directories",
            PermissionDeclaration(ResourceKind.LOGGED_MODEL, Access.READ, "model_id"),
        ),
    ],
)
def test_permission_declarations(
    server: ServedApp, method: str, path: str, declaration: PermissionDeclaration
) -> None:
    app: FastAPI = create_app(server.settings)
    for prefix in (API, AJAX):
        assert app.state.context.permissions.lookup(method, f"{prefix}/{path}") == declaration
    files = app.state.context.permissions.lookup("GET", f"{AJAX}/logged-models/{{model_id}}/artifacts/files")
    assert files == PermissionDeclaration(ResourceKind.LOGGED_MODEL, Access.READ, "model_id")
