"""Metric history RPCs over HTTP (spec §2.4): ordering, paging, sampling, bulk reads."""

from __future__ import annotations

from tests.server.api_helpers import Api, assert_error


def _log(api: Api, run_id: str, points: list[tuple[int, float, int]], key: str = "loss") -> None:
    metrics = [{"key": key, "value": v, "timestamp": ts, "step": step} for step, v, ts in points]
    api.ok(api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics}))


def test_history_is_ordered_and_has_no_run_id(api: Api) -> None:
    run_id = api.run_id()
    _log(api, run_id, [(3, 1.0, 30), (1, 2.0, 10), (2, 3.0, 20), (2, 3.0, 20)])
    body = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "loss"}))
    assert body == {
        "metrics": [
            {"key": "loss", "value": 2.0, "timestamp": 10, "step": 1},
            {"key": "loss", "value": 3.0, "timestamp": 20, "step": 2},
            {"key": "loss", "value": 1.0, "timestamp": 30, "step": 3},
        ]
    }


def test_history_paging(api: Api) -> None:
    run_id = api.run_id()
    _log(api, run_id, [(i, float(i), 100 + i) for i in range(5)])
    steps: list[int] = []
    token = None
    pages = 0
    while True:
        params = {"run_uuid": run_id, "metric_key": "loss", "max_results": 2}
        if token:
            params["page_token"] = token
        body = api.ok(api.get("metrics/get-history", params))
        steps.extend(m["step"] for m in body["metrics"])
        pages += 1
        token = body.get("next_page_token")
        if not token:
            break
    assert steps == [0, 1, 2, 3, 4]
    assert pages == 3


def test_history_edge_cases(api: Api) -> None:
    run_id = api.run_id()
    assert api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "none"})) == {}
    assert_error(
        api.get("metrics/get-history", {"run_id": "c" * 32, "metric_key": "x"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert_error(
        api.get("metrics/get-history", {"run_id": run_id, "metric_key": "x", "max_results": 0}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.get("metrics/get-history", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE", "'metric_key'"
    )


def test_bulk_interval_samples_each_run_keeping_ends(api: Api) -> None:
    experiment_id = api.create_experiment()
    runs = [api.run_id(experiment_id) for _ in range(2)]
    for run_id in runs:
        _log(api, run_id, [(i, float(i), 1000 + i) for i in range(100)])
    body = api.ok(
        api.get(
            "metrics/get-history-bulk-interval",
            [("run_ids", runs[0]), ("run_ids", runs[1]), ("metric_key", "loss"), ("max_results", "10")],
        )
    )
    for run_id in runs:
        steps = [m["step"] for m in body["metrics"] if m["run_id"] == run_id]
        assert 2 <= len(steps) <= 10
        assert steps[0] == 0 and steps[-1] == 99
        assert steps == sorted(steps)
    bounded = api.ok(
        api.get(
            "metrics/get-history-bulk-interval",
            {"run_ids": runs[0], "metric_key": "loss", "start_step": 10, "end_step": 20},
        )
    )
    assert [m["step"] for m in bounded["metrics"]] == list(range(10, 21))


def test_bulk_interval_errors(api: Api) -> None:
    run_id = api.run_id()
    base = {"run_ids": run_id, "metric_key": "loss"}
    assert_error(
        api.get("metrics/get-history-bulk-interval", dict(base, start_step=1)), 400, "INVALID_PARAMETER_VALUE"
    )
    assert_error(
        api.get("metrics/get-history-bulk-interval", dict(base, start_step=5, end_step=1)),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert_error(
        api.get("metrics/get-history-bulk-interval", dict(base, max_results=2501)),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    many = [("run_ids", f"{i:032x}") for i in range(101)] + [("metric_key", "loss")]
    assert_error(api.get("metrics/get-history-bulk-interval", many), 400, "INVALID_PARAMETER_VALUE", "100")
    assert_error(
        api.get("metrics/get-history-bulk-interval", {"metric_key": "loss"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "'run_ids'",
    )


def test_bulk_history_is_ajax_only_and_sorted_by_run(api: Api, ajax: Api) -> None:
    experiment_id = api.create_experiment()
    runs = sorted(api.run_id(experiment_id) for _ in range(2))
    for run_id in runs:
        _log(api, run_id, [(2, 2.0, 20), (1, 1.0, 10)])
    params = [("run_id", runs[1]), ("run_id", runs[0]), ("metric_key", "loss")]
    body = ajax.ok(ajax.get("metrics/get-history-bulk", params))
    assert [(m["run_id"], m["step"]) for m in body["metrics"]] == [
        (runs[0], 1),
        (runs[0], 2),
        (runs[1], 1),
        (runs[1], 2),
    ]
    limited = ajax.ok(ajax.get("metrics/get-history-bulk", [*params, ("max_results", "3")]))
    assert len(limited["metrics"]) == 3
    assert api.get("metrics/get-history-bulk", params).status_code == 404
    assert_error(
        ajax.get("metrics/get-history-bulk", [*params, ("max_results", "25001")]),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_nan_and_infinity_round_trip(api: Api) -> None:
    run_id = api.run_id()
    metrics = [
        {"key": "nan", "value": "NaN", "timestamp": 1},
        {"key": "pinf", "value": "Infinity", "timestamp": 1},
        {"key": "ninf", "value": "-Infinity", "timestamp": 1},
    ]
    api.ok(api.post("runs/log-batch", {"run_id": run_id, "metrics": metrics}))
    nan = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "nan"}))["metrics"][0]
    assert nan["value"] == "NaN"
    pinf = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "pinf"}))["metrics"][0]
    ninf = api.ok(api.get("metrics/get-history", {"run_id": run_id, "metric_key": "ninf"}))["metrics"][0]
    # The SQL store clamps ±inf to ±max double, as MLflow's does.
    assert pinf["value"] == 1.7976931348623157e308
    assert ninf["value"] == -1.7976931348623157e308
