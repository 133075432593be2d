"""Registry routes over HTTP (spec REST-REGISTRY §2): response shapes, the method mix, error statuses,
both prefixes, and mltrail's alias history and rollback routes."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from mltrail.server.permissions import declaration_of
from mltrail.server.routers import model_aliases, model_versions, registered_models
from tests.server.api_helpers import AJAX, API, Api, assert_error, unique

MLTRAIL = "/api/2.0/mltrail"


def _model(api: Api, versions: int = 0) -> str:
    name = unique("model")
    api.ok(api.post("registered-models/create", {"name": name}))
    for i in range(versions):
        api.ok(api.post("model-versions/create", {"name": name, "source": f"s3://bucket/{name}/{i}"}))
    return name


def _delete(http: httpx.Client, path: str, body: dict[str, Any], prefix: str = API) -> httpx.Response:
    return http.request("DELETE", f"{prefix}/{path}", json=body)


def _patch(http: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    return http.patch(f"{API}/{path}", json=body)


def test_create_and_get_shapes(api: Api) -> None:
    name = unique("model")
    created = api.ok(
        api.post(
            "registered-models/create",
            {"name": name, "tags": [{"key": "k", "value": "v"}], "description": "d", "user_id": "ann"},
        )
    )["registered_model"]
    assert created["name"] == name
    assert created["tags"] == [{"key": "k", "value": "v"}]
    assert isinstance(created["creation_timestamp"], int)
    assert "latest_versions" not in created and "aliases" not in created
    version = api.ok(api.post("model-versions/create", {"name": name, "source": "s3://b/m"}))["model_version"]
    assert version["version"] == "1"
    assert version["status"] == "READY"
    assert version["current_stage"] == "None"
    assert (version["description"], version["run_id"], version["run_link"]) == ("", "", "")
    assert "aliases" not in version and "tags" not in version
    got = api.ok(api.get("registered-models/get", {"name": name}))["registered_model"]
    assert [v["version"] for v in got["latest_versions"]] == ["1"]
    assert got["user_id"] == "ann"


def test_duplicate_create_is_400_resource_already_exists(api: Api) -> None:
    name = _model(api)
    assert_error(
        api.post("registered-models/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS", "already exists"
    )


def test_errors_and_statuses(api: Api) -> None:
    name = _model(api, 1)
    assert_error(
        api.get("registered-models/get", {"name": "nope-x"}), 404, "RESOURCE_DOES_NOT_EXIST", "not found"
    )
    assert_error(api.post("registered-models/create", {"name": "a/b"}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("registered-models/create", {}), 400, "INVALID_PARAMETER_VALUE", "'name'")
    assert_error(
        api.get("model-versions/get", {"name": name, "version": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "must be an integer",
    )
    assert_error(
        api.get("model-versions/get", {"name": name, "version": "9"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert_error(
        api.get("registered-models/alias", {"name": name, "alias": "ghost"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "alias ghost not found",
    )
    assert_error(
        api.post("model-versions/transition-stage", {"name": name, "version": "1", "stage": "Live"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "stage",
    )
    # MLflow answers 500 here; mltrail answers 400 so clients do not retry (docs/compatibility.md).
    assert_error(
        api.post(
            "model-versions/transition-stage",
            {"name": name, "version": "1", "stage": "Archived", "archive_existing_versions": True},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_method_mix(api: Api, http: httpx.Client) -> None:
    name = _model(api, 2)
    assert api.post("registered-models/update", {"name": name, "description": "x"}).status_code == 405
    updated = api.ok(_patch(http, "registered-models/update", {"name": name, "description": "x"}))
    assert updated["registered_model"]["description"] == "x"
    described = api.ok(
        _patch(http, "model-versions/update", {"name": name, "version": "1", "description": "v"})
    )
    assert described["model_version"]["description"] == "v"
    assert api.get("registered-models/search", {"filter": f"name = '{name}'"}).status_code == 200
    assert api.post("registered-models/search", {}).status_code == 405
    for call in (api.post, api.get):
        body = api.ok(call("registered-models/get-latest-versions", {"name": name}))
        assert [v["version"] for v in body["model_versions"]] == ["2"]
    # DELETE reads its JSON body; a query string alone is not enough.
    response = http.request("DELETE", f"{API}/model-versions/delete", params={"name": name, "version": "2"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Missing value")
    api.ok(_delete(http, "model-versions/delete", {"name": name, "version": "2"}))
    api.ok(_delete(http, "registered-models/delete-tag", {"name": name, "key": "missing"}))
    api.ok(_delete(http, "registered-models/delete", {"name": name}))
    assert_error(api.get("registered-models/get", {"name": name}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_alias_routes_share_one_path(api: Api, http: httpx.Client) -> None:
    name = _model(api, 2)
    api.ok(api.post("registered-models/alias", {"name": name, "alias": "champ", "version": "1"}))
    got = api.ok(api.get("registered-models/alias", {"name": name, "alias": "champ"}))["model_version"]
    assert (got["version"], got["aliases"]) == ("1", ["champ"])
    model = api.ok(api.get("registered-models/get", {"name": name}))["registered_model"]
    assert model["aliases"] == [{"alias": "champ", "version": "1"}]
    assert_error(
        api.post("registered-models/alias", {"name": name, "alias": "latest", "version": "1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "reserved",
    )
    api.ok(_delete(http, "registered-models/alias", {"name": name, "alias": "champ"}))
    api.ok(_delete(http, "registered-models/alias", {"name": name, "alias": "champ"}))


def test_search_shapes_and_paging(api: Api) -> None:
    prefix = unique("page")
    for i in range(3):
        api.ok(api.post("registered-models/create", {"name": f"{prefix}-{i}"}))
    first = api.ok(
        api.get("registered-models/search", {"filter": f"name LIKE '{prefix}%'", "max_results": 2})
    )
    assert len(first["registered_models"]) == 2 and first["next_page_token"]
    rest = api.ok(
        api.get(
            "registered-models/search",
            {"filter": f"name LIKE '{prefix}%'", "max_results": 2, "page_token": first["next_page_token"]},
        )
    )
    assert [m["name"] for m in rest["registered_models"]] == [f"{prefix}-2"]
    assert "next_page_token" not in rest
    assert api.ok(api.get("registered-models/search", {"filter": "name = 'nothing-here'"})) == {}
    assert api.ok(api.get("model-versions/search", {"filter": "name = 'nothing-here'"})) == {}
    assert_error(api.get("registered-models/search", {"max_results": 1001}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        api.get("registered-models/search", {"order_by": "creation_timestamp"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_tags_and_download_uri(api: Api, http: httpx.Client) -> None:
    name = _model(api, 1)
    api.ok(api.post("model-versions/set-tag", {"name": name, "version": "1", "key": "k", "value": "v"}))
    got = api.ok(api.get("model-versions/get", {"name": name, "version": "1"}))["model_version"]
    assert got["tags"] == [{"key": "k", "value": "v"}]
    api.ok(_delete(http, "model-versions/delete-tag", {"name": name, "version": "1", "key": "k"}))
    uri = api.ok(api.get("model-versions/get-download-uri", {"name": name, "version": "1"}))
    assert uri == {"artifact_uri": f"s3://bucket/{name}/0"}


def test_ajax_prefix_serves_the_same_routes(http: httpx.Client) -> None:
    ajax = Api(http, AJAX)
    name = unique("model")
    ajax.ok(ajax.post("registered-models/create", {"name": name}))
    assert ajax.ok(ajax.get("registered-models/get", {"name": name}))["registered_model"]["name"] == name


def test_alias_history_and_rollback_routes(api: Api, http: httpx.Client) -> None:
    name = _model(api, 3)
    auth = {"Authorization": "Basic " + base64.b64encode(b"alice:secret").decode()}
    api.ok(
        api.post("registered-models/alias", {"name": name, "alias": "champ", "version": "1"}, headers=auth)
    )
    api.ok(
        api.post(
            "registered-models/alias",
            {"name": name, "alias": "champ", "version": "3", "reason": "better", "user_id": "bob"},
        )
    )
    history = api.ok(http.get(f"{MLTRAIL}/registered-models/alias/history", params={"name": name}))["events"]
    assert [(e["action"], e.get("from_version"), e["to_version"], e["user_id"]) for e in history] == [
        ("SET", None, "1", "alice"),
        ("SET", "1", "3", "bob"),
    ]
    assert history[1]["reason"] == "better"
    rolled = api.ok(
        http.post(
            f"{MLTRAIL}/registered-models/alias/rollback",
            json={"name": name, "alias": "champ", "reason": "regression", "user_id": "carol"},
        )
    )["event"]
    assert (rolled["action"], rolled["from_version"], rolled["to_version"]) == ("ROLLBACK", "3", "1")
    assert rolled["user_id"] == "carol"
    current = api.ok(api.get("registered-models/alias", {"name": name, "alias": "champ"}))["model_version"]
    assert current["version"] == "1"
    only = api.ok(http.get(f"{MLTRAIL}/registered-models/alias/history", params={"name": name, "alias": "x"}))
    assert only == {}
    assert_error(
        http.post(f"{MLTRAIL}/registered-models/alias/rollback", json={"name": name, "alias": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        http.get(f"{MLTRAIL}/registered-models/alias/history", params={"name": "nope-zz"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_every_registry_route_declares_a_registered_model_permission() -> None:
    routes = [r for m in (registered_models, model_versions, model_aliases) for r in m.router.routes]
    assert len(routes) == 2 * 23
    for route in routes:
        declaration = declaration_of(route)
        assert declaration is not None, route
        assert declaration.resource == "registered_model"


@pytest.mark.parametrize("prefix", [API, AJAX])
def test_unknown_registry_path_is_html_404(http: httpx.Client, prefix: str) -> None:
    response = http.get(f"{prefix}/registered-models/nope")
    assert response.status_code == 404
    assert not response.headers["content-type"].startswith("application/json")
