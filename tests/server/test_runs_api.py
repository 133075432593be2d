"""Run RPCs over HTTP: lifecycle, logging, inputs/outputs, search (spec §2)."""

from __future__ import annotations

import json
import time

from tests.server.api_helpers import Api, assert_error, unique

MODEL_JSON = {
    "artifact_path": "model",
    "flavors": {"python_function": {}},
    "utc_time_created": "2024-01-01 00:00:00.000000",
    "run_id": "",
}


def test_create_run_shape(api: Api) -> None:
    experiment_id = api.create_experiment()
    run = api.create_run(
        experiment_id,
        user_id="alice",
        start_time=1700000000001,
        run_name="my-run",
        tags=[{"key": "a", "value": "b"}],
    )
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert len(info["run_id"]) == 32
    assert info["run_name"] == "my-run"
    assert info["experiment_id"] == experiment_id
    assert info["user_id"] == "alice"
    assert info["status"] == "RUNNING"
    assert info["start_time"] == 1700000000001
    assert "end_time" not in info
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{info['run_id']}/artifacts"
    assert info["lifecycle_stage"] == "active"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags == {"a": "b", "mlflow.runName": "my-run"}
    assert run["inputs"] == {} and run["outputs"] == {}


def test_create_run_generates_a_name_and_echoes_empty_user(api: Api) -> None:
    run = api.create_run()
    assert run["info"]["run_name"]
    assert run["info"]["user_id"] == ""
    assert {"key": "mlflow.runName", "value": run["info"]["run_name"]} in run["data"]["tags"]


def test_create_run_errors(api: Api) -> None:
    assert_error(api.post("runs/create", {}), 400, "INVALID_PARAMETER_VALUE", "'experiment_id'")
    assert_error(api.post("runs/create", {"experiment_id": "424242"}), 404, "RESOURCE_DOES_NOT_EXIST")
    experiment_id = api.create_experiment()
    api.ok(api.post("experiments/delete", {"experiment_id": experiment_id}))
    assert_error(api.post("runs/create", {"experiment_id": experiment_id}), 400, "INVALID_PARAMETER_VALUE")
    assert_error(
        api.post(
            "runs/create",
            {
                "experiment_id": api.create_experiment(),
                "run_name": "a",
                "tags": [{"key": "mlflow.runName", "value": "b"}],
            },
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_get_run_by_run_uuid_and_unknown(api: Api) -> None:
    run_id = api.run_id()
    assert api.ok(api.get("runs/get", {"run_uuid": run_id}))["run"]["info"]["run_id"] == run_id
    assert_error(api.get("runs/get", {"run_id": "f" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.get("runs/get", {"run_id": ""}), 400, "INVALID_PARAMETER_VALUE", "'run_id'")


def test_update_run(api: Api) -> None:
    run_id = api.run_id()
    body = api.ok(
        api.post(
            "runs/update",
            {"run_uuid": run_id, "status": "FINISHED", "end_time": "1700000000999", "run_name": "x"},
        )
    )
    info = body["run_info"]
    assert info["status"] == "FINISHED"
    assert info["end_time"] == 1700000000999
    assert info["run_name"] == "x"
    tags = {t["key"]: t["value"] for t in api.get_run(run_id)["data"]["tags"]}
    assert tags["mlflow.runName"] == "x"
    # Only given fields change; the status may be sent as its number.
    info = api.ok(api.post("runs/update", {"run_id": run_id, "status": 4}))["run_info"]
    assert info["status"] == "FAILED" and info["run_name"] == "x" and info["end_time"] == 1700000000999


def test_delete_and_restore_run(api: Api) -> None:
    run_id = api.run_id()
    assert api.ok(api.post("runs/delete", {"run_id": run_id})) == {}
    assert api.ok(api.post("runs/delete", {"run_id": run_id})) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "deleted"
    assert_error(
        api.post("runs/log-parameter", {"run_id": run_id, "key": "p", "value": "1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "active",
    )
    assert api.ok(api.post("runs/restore", {"run_id": run_id})) == {}
    assert api.get_run(run_id)["info"]["lifecycle_stage"] == "active"
    assert_error(api.post("runs/delete", {"run_id": "e" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/restore", {"run_id": "e" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_tags(api: Api) -> None:
    run_id = api.run_id()
    api.ok(api.post("runs/set-tag", {"run_uuid": run_id, "key": "k", "value": "1"}))
    api.ok(api.post("runs/set-tag", {"run_id": run_id, "key": "k", "value": "2"}))
    api.ok(api.post("runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "renamed"}))
    run = api.get_run(run_id)
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert tags["k"] == "2"
    assert run["info"]["run_name"] == "renamed"
    api.ok(api.post("runs/delete-tag", {"run_id": run_id, "key": "k"}))
    assert "k" not in {t["key"] for t in api.get_run(run_id)["data"]["tags"]}
    assert_error(api.post("runs/delete-tag", {"run_id": run_id, "key": "k"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert_error(api.post("runs/set-tag", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE", "'key'")


def test_params_are_immutable(api: Api) -> None:
    run_id = api.run_id()
    api.ok(api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}))
    api.ok(api.post("runs/log-parameter", {"run_uuid": run_id, "key": "lr", "value": "0.1"}))
    assert_error(
        api.post("runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.2"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert api.get_run(run_id)["data"]["params"] == [{"key": "lr", "value": "0.1"}]


def test_log_metric_and_latest_value_rule(api: Api) -> None:
    run_id = api.run_id()
    for step, value, ts in [(2, 5.0, 10), (1, 9.0, 20), (2, 4.0, 5)]:
        api.ok(
            api.post(
                "runs/log-metric",
                {"run_id": run_id, "key": "loss", "value": value, "timestamp": ts, "step": step},
            )
        )
    metrics = api.get_run(run_id)["data"]["metrics"]
    assert metrics == [{"key": "loss", "value": 5.0, "timestamp": 10, "step": 2}]


def test_log_metric_errors(api: Api) -> None:
    run_id = api.run_id()
    assert_error(
        api.post("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1.0}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'timestamp'",
    )
    assert_error(
        api.post("runs/log-metric", {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.post("runs/log-metric", {"run_id": run_id, "key": "../bad", "value": 1, "timestamp": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.post("runs/log-metric", {"run_id": "d" * 32, "key": "m", "value": 1, "timestamp": 1}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_log_batch(api: Api) -> None:
    run_id = api.run_id()
    now = int(time.time() * 1000)
    body = {
        "run_id": run_id,
        "metrics": [
            {"key": "acc", "value": 0.5, "timestamp": now, "step": 1},
            {"key": "acc", "value": 0.7, "timestamp": now, "step": 2},
        ],
        "params": [{"key": "p", "value": "v"}],
        "tags": [{"key": "t", "value": "w"}],
    }
    assert api.ok(api.post("runs/log-batch", body)) == {}
    run = api.get_run(run_id)
    assert run["data"]["metrics"] == [{"key": "acc", "value": 0.7, "timestamp": now, "step": 2}]
    assert run["data"]["params"] == [{"key": "p", "value": "v"}]
    assert {"key": "t", "value": "w"} in run["data"]["tags"]
    assert api.ok(api.post("runs/log-batch", {"run_id": run_id})) == {}


def test_log_batch_errors_name_the_item_and_store_nothing(api: Api) -> None:
    run_id = api.run_id()
    assert_error(
        api.post("runs/log-batch", {"run_id": run_id, "metrics": [{"key": "a", "value": 1}]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'metrics[0].timestamp'",
    )
    assert_error(
        api.post("runs/log-batch", {"run_id": run_id, "params": [{"value": "x"}]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'params[0].key'",
    )
    too_many = [{"key": f"m{i}", "value": 1, "timestamp": 1} for i in range(1001)]
    assert_error(
        api.post("runs/log-batch", {"run_id": run_id, "metrics": too_many}), 400, "INVALID_PARAMETER_VALUE"
    )
    dup = [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}]
    bad = {"run_id": run_id, "metrics": [{"key": "ok", "value": 1, "timestamp": 1}], "params": dup}
    assert_error(api.post("runs/log-batch", bad), 400, "INVALID_PARAMETER_VALUE")
    data = api.get_run(run_id)["data"]
    assert "metrics" not in data and "params" not in data


def test_long_param_values_are_truncated(api: Api) -> None:
    run_id = api.run_id()
    api.ok(api.post("runs/log-parameter", {"run_id": run_id, "key": "long", "value": "x" * 7000}))
    params = api.get_run(run_id)["data"]["params"]
    assert params == [{"key": "long", "value": "x" * 6000}]


def test_log_model_appends_history(api: Api) -> None:
    run_id = api.run_id()
    for path in ("m1", "m2"):
        model = dict(MODEL_JSON, artifact_path=path, run_id=run_id)
        api.ok(api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps(model)}))
    tags = {t["key"]: t["value"] for t in api.get_run(run_id)["data"]["tags"]}
    history = json.loads(tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["m1", "m2"]
    assert_error(
        api.post("runs/log-model", {"run_id": run_id, "model_json": json.dumps({"artifact_path": "x"})}),
        400,
        "INVALID_PARAMETER_VALUE",
        "mandatory",
    )
    assert_error(
        api.post("runs/log-model", {"run_id": run_id, "model_json": "{not json"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.post("runs/log-model", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE", "'model_json'"
    )


def test_log_inputs_and_outputs(api: Api) -> None:
    run_id = api.run_id()
    dataset = {
        "name": "ds",
        "digest": "d1",
        "source_type": "local",
        "source": '{"uri": "/data"}',
        "schema": '{"cols": []}',
        "profile": '{"rows": 3}',
    }
    api.ok(
        api.post(
            "runs/log-inputs",
            {
                "run_id": run_id,
                "datasets": [
                    {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
                ],
                "models": [{"model_id": "m-" + "a" * 32}],
            },
        )
    )
    api.ok(api.post("runs/outputs", {"run_id": run_id, "models": [{"model_id": "m-" + "b" * 32, "step": 3}]}))
    run = api.get_run(run_id)
    assert run["inputs"]["dataset_inputs"] == [
        {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}
    ]
    assert run["inputs"]["model_inputs"] == [{"model_id": "m-" + "a" * 32}]
    assert run["outputs"]["model_outputs"] == [{"model_id": "m-" + "b" * 32, "step": 3}]
    assert_error(
        api.post("runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": {"name": "x"}}]}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'datasets[0].dataset.digest'",
    )
    assert_error(api.post("runs/outputs", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE", "'models'")


def test_search_runs_filters_orders_and_pages(api: Api) -> None:
    experiment_id = api.create_experiment()
    run_ids = []
    for i in range(7):
        run_id = api.run_id(experiment_id)
        run_ids.append(run_id)
        api.ok(
            api.post(
                "runs/log-batch",
                {
                    "run_id": run_id,
                    "metrics": [{"key": "score", "value": i, "timestamp": 1}],
                    "params": [{"key": "i", "value": str(i)}],
                },
            )
        )
    seen: list[str] = []
    token = None
    while True:
        body = {
            "experiment_ids": [experiment_id],
            "filter": "metrics.score >= 2 and params.i != '5'",
            "order_by": ["metrics.score DESC"],
            "max_results": 2,
        }
        if token:
            body["page_token"] = token
        page = api.ok(api.post("runs/search", body))
        seen.extend(r["info"]["run_id"] for r in page["runs"])
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == [run_ids[6], run_ids[4], run_ids[3], run_ids[2]]


def test_search_runs_view_types_and_empty_results(api: Api) -> None:
    experiment_id = api.create_experiment()
    keep, gone = api.run_id(experiment_id), api.run_id(experiment_id)
    api.ok(api.post("runs/delete", {"run_id": gone}))

    def ids(view: object) -> set[str]:
        body = api.ok(api.post("runs/search", {"experiment_ids": [experiment_id], "run_view_type": view}))
        return {r["info"]["run_id"] for r in body.get("runs", [])}

    assert ids("ACTIVE_ONLY") == {keep}
    assert ids("DELETED_ONLY") == ids(2) == {gone}
    assert ids("ALL") == {keep, gone}
    assert api.ok(api.post("runs/search", {"experiment_ids": []})) == {}
    assert (
        api.ok(api.post("runs/search", {"experiment_ids": [experiment_id], "filter": "params.none = 'x'"}))
        == {}
    )


def test_search_runs_errors(api: Api) -> None:
    experiment_id = api.create_experiment()
    assert_error(
        api.post(
            "runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.a > 1 OR metrics.b > 2"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.post("runs/search", {"experiment_ids": [experiment_id], "max_results": 50001}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.post("runs/search", {"experiment_ids": [experiment_id], "page_token": "garbage"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert api.get("runs/search").status_code == 405


def test_dataset_search_key(api: Api) -> None:
    experiment_id = api.create_experiment()
    run_id = api.run_id(experiment_id)
    other = api.run_id(experiment_id)
    dataset = {"name": unique("ds"), "digest": "dd", "source_type": "local", "source": "{}"}
    api.ok(
        api.post(
            "runs/log-inputs",
            {
                "run_id": run_id,
                "datasets": [{"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "eval"}]}],
            },
        )
    )
    body = api.ok(
        api.post("runs/search", {"experiment_ids": [experiment_id], "filter": "dataset.context = 'eval'"})
    )
    assert [r["info"]["run_id"] for r in body["runs"]] == [run_id]
    assert other != run_id
