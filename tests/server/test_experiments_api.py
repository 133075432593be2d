"""Experiment RPCs over HTTP: happy paths, response shapes and error codes (spec §1)."""

from __future__ import annotations

import pytest

from tests.server.api_helpers import Api, assert_error, unique


def test_create_and_get_returns_the_full_experiment(api: Api) -> None:
    name = unique()
    body = api.ok(api.post("experiments/create", {"name": name, "tags": [{"key": "team", "value": "a"}]}))
    experiment_id = body["experiment_id"]
    assert isinstance(experiment_id, str) and experiment_id.isdigit()

    experiment = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert experiment["experiment_id"] == experiment_id
    assert experiment["name"] == name
    assert experiment["lifecycle_stage"] == "active"
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert experiment["tags"] == [{"key": "team", "value": "a"}]
    assert isinstance(experiment["creation_time"], int)
    assert isinstance(experiment["last_update_time"], int)


def test_explicit_artifact_location_is_kept(api: Api) -> None:
    experiment_id = api.create_experiment(artifact_location="s3://bucket/some/where")
    experiment = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert experiment["artifact_location"] == "s3://bucket/some/where"


def test_get_by_name(api: Api) -> None:
    name = unique()
    experiment_id = api.create_experiment(name)
    body = api.ok(api.get("experiments/get-by-name", {"experiment_name": name}))
    assert body["experiment"]["experiment_id"] == experiment_id


def test_unknown_experiment_is_404(api: Api) -> None:
    assert_error(api.get("experiments/get", {"experiment_id": "987654"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(
        api.get("experiments/get-by-name", {"experiment_name": unique()}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_duplicate_name_is_400_even_when_deleted(api: Api) -> None:
    name = unique()
    experiment_id = api.create_experiment(name)
    assert_error(api.post("experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS")
    api.ok(api.post("experiments/delete", {"experiment_id": experiment_id}))
    assert_error(api.post("experiments/create", {"name": name}), 400, "RESOURCE_ALREADY_EXISTS")


def test_missing_name_is_400_with_mlflow_message(api: Api) -> None:
    for body in ({}, {"name": ""}):
        assert_error(
            api.post("experiments/create", body),
            400,
            "INVALID_PARAMETER_VALUE",
            "Missing value for required parameter 'name'",
        )


def test_delete_and_restore_cascade_to_runs(api: Api) -> None:
    experiment_id = api.create_experiment()
    run_id = api.run_id(experiment_id)
    assert api.ok(api.post("experiments/delete", {"experiment_id": experiment_id})) == {}
    experiment = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert experiment["lifecycle_stage"] == "deleted"
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    # Deleting twice, or restoring an active experiment, is a 404.
    assert_error(
        api.post("experiments/delete", {"experiment_id": experiment_id}), 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert api.ok(api.post("experiments/restore", {"experiment_id": experiment_id})) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "active"
    assert_error(
        api.post("experiments/restore", {"experiment_id": experiment_id}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_rename(api: Api) -> None:
    experiment_id = api.create_experiment()
    new_name = unique("renamed")
    assert (
        api.ok(api.post("experiments/update", {"experiment_id": experiment_id, "new_name": new_name})) == {}
    )
    experiment = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert experiment["name"] == new_name


def test_rename_errors(api: Api) -> None:
    taken = unique()
    api.create_experiment(taken)
    experiment_id = api.create_experiment()
    assert_error(
        api.post("experiments/update", {"experiment_id": experiment_id, "new_name": taken}),
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert_error(
        api.post("experiments/update", {"experiment_id": experiment_id}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'new_name'",
    )
    api.ok(api.post("experiments/delete", {"experiment_id": experiment_id}))
    # MLflow answers 500 INVALID_STATE; mltrail answers 400 (docs/compatibility.md).
    assert_error(
        api.post("experiments/update", {"experiment_id": experiment_id, "new_name": unique()}),
        400,
        "INVALID_STATE",
    )


def test_experiment_tags(api: Api) -> None:
    experiment_id = api.create_experiment()
    api.ok(
        api.post(
            "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v1"}
        )
    )
    api.ok(
        api.post(
            "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v2"}
        )
    )
    experiment = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert experiment["tags"] == [{"key": "k", "value": "v2"}]
    api.ok(api.post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"}))
    experiment = api.ok(api.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]
    assert "tags" not in experiment
    assert_error(
        api.post("experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": "k"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_set_tag_on_deleted_experiment_is_400(api: Api) -> None:
    experiment_id = api.create_experiment()
    api.ok(api.post("experiments/delete", {"experiment_id": experiment_id}))
    assert_error(
        api.post(
            "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": "k", "value": "v"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_search_with_filter_order_and_paging(api: Api, method: str) -> None:
    marker = unique("search")
    ids = [api.create_experiment(f"{marker}-{i}") for i in range(5)]
    query = {"filter": f"name LIKE '{marker}-%'", "order_by": ["name ASC"], "max_results": 2}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        fields = dict(query, **({"page_token": token} if token else {}))
        response = (
            api.get("experiments/search", fields)
            if method == "GET"
            else api.post("experiments/search", fields)
        )
        body = api.ok(response)
        seen.extend(e["experiment_id"] for e in body["experiments"])
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
    assert seen == ids
    assert pages == 3


def test_search_view_types_by_name_and_number(api: Api) -> None:
    marker = unique("view")
    active = api.create_experiment(f"{marker}-a")
    deleted = api.create_experiment(f"{marker}-d")
    api.ok(api.post("experiments/delete", {"experiment_id": deleted}))
    flt = f"name LIKE '{marker}-%'"

    def ids(view_type: object) -> set[str]:
        body = api.ok(
            api.post("experiments/search", {"filter": flt, "max_results": 10, "view_type": view_type})
        )
        return {e["experiment_id"] for e in body.get("experiments", [])}

    assert ids("ACTIVE_ONLY") == ids(1) == {active}
    assert ids("DELETED_ONLY") == ids(2) == {deleted}
    assert ids("ALL") == ids(3) == {active, deleted}
    assert ids("BOGUS") == {active}  # unknown enum names read as unset (the default view)


def test_search_without_hits_is_an_empty_object(api: Api) -> None:
    body = api.ok(api.post("experiments/search", {"filter": f"name = '{unique()}'", "max_results": 5}))
    assert body == {}


def test_search_errors(api: Api) -> None:
    assert_error(api.post("experiments/search", {"max_results": 0}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(api.post("experiments/search", {"max_results": 50001}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        api.post("experiments/search", {"max_results": 5, "page_token": "not-a-token"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.post("experiments/search", {"max_results": 5, "filter": "name ~~ 'x'"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_non_integer_experiment_id_is_400(api: Api) -> None:
    response = api.get("experiments/get", {"experiment_id": "abc"})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_search_datasets_is_ajax_only(api: Api, ajax: Api) -> None:
    run_id = api.run_id()
    experiment_id = api.get_run(run_id)["info"]["experiment_id"]
    dataset = {"name": "train-set", "digest": "abc123", "source_type": "local", "source": "{}"}
    api.ok(
        api.post(
            "runs/log-inputs",
            {
                "run_id": run_id,
                "datasets": [
                    {"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "train"}]}
                ],
            },
        )
    )
    body = ajax.ok(ajax.post("experiments/search-datasets", {"experiment_ids": [experiment_id]}))
    assert body["dataset_summaries"] == [
        {"experiment_id": experiment_id, "name": "train-set", "digest": "abc123", "context": "train"}
    ]
    assert api.post("experiments/search-datasets", {"experiment_ids": [experiment_id]}).status_code == 404
    assert_error(
        ajax.post("experiments/search-datasets", {"experiment_ids": []}), 400, "INVALID_PARAMETER_VALUE"
    )
    too_many = [str(i) for i in range(21)]
    assert_error(
        ajax.post("experiments/search-datasets", {"experiment_ids": too_many}), 400, "INVALID_PARAMETER_VALUE"
    )


def test_ajax_prefix_serves_the_same_rpcs(ajax: Api) -> None:
    name = unique()
    experiment_id = ajax.create_experiment(name)
    assert ajax.ok(ajax.get("experiments/get-by-name", {"experiment_name": name}))["experiment"][
        "experiment_id"
    ] == (experiment_id)
