"""The web UI's JSON routes and file routes over HTTP, on a live server with real data."""

from __future__ import annotations

import math
import random
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mltrail.tracking.entities import Metric, Param
from mltrail.tracking.store.sql import SqlTrackingStore
from tests.server.api_helpers import AJAX, PROXY, Api, assert_error, unique
from tests.server.conftest import ServedApp

UI = "/ajax-api/mltrail/ui"
UI_API = "/api/mltrail/ui"


def _metrics(api: Api, run_id: str, points: list[dict[str, Any]]) -> None:
    for start in range(0, len(points), 1000):
        api.ok(api.post("runs/log-batch", {"run_id": run_id, "metrics": points[start : start + 1000]}))


def _series(http: httpx.Client, prefix: str = UI, **params: Any) -> httpx.Response:
    return http.get(f"{prefix}/metric-series", params=params)


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


# -- metric-series ------------------------------------------------------------------------------


def test_series_of_a_long_metric_keep_every_bucket_extreme(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    rng = random.Random(3)
    values = [rng.gauss(0, 1) for _ in range(20_000)]
    values[4321] = 100.0
    values[15_000] = -100.0
    _metrics(
        api,
        run_id,
        [{"key": "loss", "value": v, "timestamp": 1000 + i, "step": i} for i, v in enumerate(values)],
    )
    body = _ok(_series(http, run_id=run_id, metric_key="loss", max_points=200))
    [series] = body["series"]
    assert (series["run_id"], series["metric_key"]) == (run_id, "loss")
    assert series["total_points"] == 20_000 and series["downsampled"] is True
    steps, stamps, got = series["steps"], series["timestamps"], series["values"]
    assert len(steps) == len(stamps) == len(got) <= 200
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 19_999
    assert all(t == 1000 + s for s, t in zip(steps, stamps, strict=True))
    assert all(got[i] == values[s] for i, s in enumerate(steps))
    assert 100.0 in got and -100.0 in got
    width = math.ceil(20_000 / 99)
    for start in range(0, 20_000, width):
        chunk = values[start : start + width]
        kept = [v for s, v in zip(steps, got, strict=True) if start <= s < start + width]
        assert min(chunk) in kept and max(chunk) in kept
    # The same route on the /api prefix.
    assert _ok(_series(http, UI_API, run_id=run_id, metric_key="loss", max_points=200)) == body


def test_series_ranges_zoom_in_at_full_resolution(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    _metrics(
        api,
        run_id,
        [{"key": "m", "value": i * 0.5, "timestamp": 5000 + 2 * i, "step": i} for i in range(3000)],
    )
    [zoom] = _ok(_series(http, run_id=run_id, metric_key="m", x_min=100, x_max=299))["series"]
    assert zoom["total_points"] == 200 and zoom["downsampled"] is False
    assert zoom["steps"] == list(range(100, 300))
    # Fractional chart coordinates include the integers inside them.
    [frac] = _ok(_series(http, run_id=run_id, metric_key="m", x_min=99.5, x_max=101.9))["series"]
    assert frac["steps"] == [100, 101]
    [by_time] = _ok(_series(http, run_id=run_id, metric_key="m", x_axis="timestamp", x_min=5010, x_max=5015))[
        "series"
    ]
    assert by_time["timestamps"] == [5010, 5012, 5014] and by_time["steps"] == [5, 6, 7]
    [empty] = _ok(_series(http, run_id=run_id, metric_key="m", x_min=10, x_max=5))["series"]
    assert empty["total_points"] == 0 and empty["steps"] == []
    [whole] = _ok(_series(http, run_id=run_id, metric_key="m", max_points=10000))["series"]
    assert whole["downsampled"] is False and len(whole["steps"]) == 3000


def test_series_encode_nan_and_infinities(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    points = [
        {"key": "m", "value": 1.5, "timestamp": 1, "step": 0},
        {"key": "m", "value": "NaN", "timestamp": 2, "step": 1},
        {"key": "m", "value": "Infinity", "timestamp": 3, "step": 2},
        {"key": "m", "value": "-Infinity", "timestamp": 4, "step": 3},
    ]
    _metrics(api, run_id, points)
    [series] = _ok(_series(http, run_id=run_id, metric_key="m"))["series"]
    assert series["values"] == [1.5, "NaN", "Infinity", "-Infinity"]
    # Downsampled series keep them visible too.
    many = [{"key": "n", "value": float(i % 7), "timestamp": 10 + i, "step": i} for i in range(500)]
    many[100]["value"] = "NaN"
    many[300]["value"] = "Infinity"
    _metrics(api, run_id, many)
    [reduced] = _ok(_series(http, run_id=run_id, metric_key="n", max_points=10))["series"]
    assert reduced["downsampled"] and len(reduced["values"]) <= 10
    assert "NaN" in reduced["values"] and "Infinity" in reduced["values"]


def test_series_of_several_runs_and_missing_metrics(http: httpx.Client, api: Api) -> None:
    exp = api.create_experiment()
    a, b = api.run_id(exp), api.run_id(exp)
    _metrics(api, a, [{"key": "x", "value": 1.0, "timestamp": 1, "step": 0}])
    body = _ok(
        http.get(
            f"{UI}/metric-series",
            params=[("run_id", b), ("run_id", a), ("metric_key", "x"), ("metric_key", "nope")],
        )
    )
    assert [(s["run_id"], s["metric_key"], s["total_points"]) for s in body["series"]] == [
        (b, "x", 0),
        (b, "nope", 0),
        (a, "x", 1),
        (a, "nope", 0),
    ]
    assert body["series"][1] == {
        "run_id": b,
        "metric_key": "nope",
        "total_points": 0,
        "downsampled": False,
        "steps": [],
        "timestamps": [],
        "values": [],
    }


def test_series_bad_input(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    bad = "INVALID_PARAMETER_VALUE"
    assert_error(http.get(f"{UI}/metric-series", params={"metric_key": "x"}), 400, bad, "'run_id'")
    assert_error(http.get(f"{UI}/metric-series", params={"run_id": run_id}), 400, bad, "'metric_key'")
    assert_error(_series(http, run_id=run_id, metric_key="x", max_points=9), 400, bad, "max_points")
    assert_error(_series(http, run_id=run_id, metric_key="x", max_points=10001), 400, bad, "max_points")
    assert_error(_series(http, run_id=run_id, metric_key="x", max_points="many"), 400, bad, "max_points")
    assert_error(_series(http, run_id=run_id, metric_key="x", x_axis="wall"), 400, bad, "x_axis")
    assert_error(_series(http, run_id=run_id, metric_key="x", x_min="soon"), 400, bad, "x_min")
    assert_error(_series(http, run_id=run_id, metric_key="x", x_max="NaN"), 400, bad, "x_max")
    many_runs: list[tuple[str, str | int | float | bool | None]] = [("metric_key", "x")]
    many_runs += [("run_id", f"{i:032x}") for i in range(101)]
    assert_error(http.get(f"{UI}/metric-series", params=many_runs), 400, bad, "100 run_id")
    many_keys: list[tuple[str, str | int | float | bool | None]] = [("run_id", run_id)]
    many_keys += [("metric_key", f"k{i}") for i in range(51)]
    assert_error(http.get(f"{UI}/metric-series", params=many_keys), 400, bad, "50 metric_key")
    assert_error(_series(http, run_id="0" * 32, metric_key="x"), 404, "RESOURCE_DOES_NOT_EXIST", "0" * 32)


# -- runs/count and runs/groups -----------------------------------------------------------------


def _populate(api: Api) -> tuple[str, dict[str, str]]:
    exp = api.create_experiment()
    specs: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        ("a", {"loss": 0.5, "acc": 0.9}, {"lr": "0.1"}),
        ("b", {"loss": 0.25, "acc": "NaN"}, {"lr": "0.1"}),
        ("c", {"loss": 1.0}, {"lr": "0.01"}),
        ("d", {"loss": "Infinity"}, {"lr": "0.001"}),
        ("e", {"acc": 0.1}, {}),
    ]
    ids = {}
    for name, metrics, params in specs:
        run_id = str(api.create_run(exp, run_name=name)["info"]["run_id"])
        api.ok(
            api.post(
                "runs/log-batch",
                {
                    "run_id": run_id,
                    "metrics": [
                        {"key": k, "value": v, "timestamp": 1, "step": 0} for k, v in metrics.items()
                    ],
                    "params": [{"key": k, "value": v} for k, v in params.items()],
                },
            )
        )
        ids[name] = run_id
    return exp, ids


def test_count_follows_the_search_filter(http: httpx.Client, api: Api) -> None:
    exp, ids = _populate(api)
    count = lambda body: _ok(http.post(f"{UI}/runs/count", json=body))["count"]  # noqa: E731
    assert count({"experiment_ids": [exp]}) == 5
    assert count({"experiment_ids": [exp], "filter": "metrics.loss > 0.3"}) == 3
    assert count({"experiment_ids": [exp], "filter": "params.lr = '0.1'"}) == 2
    api.ok(api.post("runs/delete", {"run_id": ids["a"]}))
    assert count({"experiment_ids": [exp]}) == 4
    assert count({"experiment_ids": [exp], "run_view_type": "DELETED_ONLY"}) == 1
    assert count({"experiment_ids": [exp], "run_view_type": "ALL"}) == 5
    assert count({}) == 0
    assert _ok(http.post(f"{UI_API}/runs/count", json={"experiment_ids": [exp]}))["count"] == 4


def test_bad_filters_answer_like_search(http: httpx.Client, api: Api) -> None:
    exp, _ = _populate(api)
    body = {"experiment_ids": [exp], "filter": "metrics.loss >> 1"}
    searched = assert_error(api.post("runs/search", body), 400, "INVALID_PARAMETER_VALUE")
    counted = assert_error(http.post(f"{UI}/runs/count", json=body), 400, "INVALID_PARAMETER_VALUE")
    grouped = assert_error(
        http.post(f"{UI}/runs/groups", json={**body, "group_by": "params.lr"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert searched["message"] == counted["message"] == grouped["message"]
    assert_error(
        http.post(f"{UI}/runs/count", json={"experiment_ids": ["abc"]}), 400, "INVALID_PARAMETER_VALUE", "abc"
    )


def test_groups_values_and_aggregates(http: httpx.Client, api: Api) -> None:
    exp, _ = _populate(api)
    body = _ok(
        http.post(
            f"{UI}/runs/groups",
            json={"experiment_ids": [exp], "group_by": "params.lr", "metric_keys": ["loss", "acc"]},
        )
    )
    assert body["total_runs"] == 5 and body["truncated"] is False
    groups = {g["value"]: g for g in body["groups"]}
    assert [g["value"] for g in body["groups"]] == ["0.001", "0.01", "0.1", None]
    assert [g["run_count"] for g in body["groups"]] == [1, 1, 2, 1]
    # Computed here from the runs themselves (NaN left out).
    assert groups["0.1"]["metrics"]["loss"] == {"count": 2, "mean": 0.375, "min": 0.25, "max": 0.5}
    assert groups["0.1"]["metrics"]["acc"] == {"count": 1, "mean": 0.9, "min": 0.9, "max": 0.9}
    assert groups["0.001"]["metrics"]["loss"] == {
        "count": 1,
        "mean": "Infinity",
        "min": "Infinity",
        "max": "Infinity",
    }
    assert groups[None]["metrics"]["loss"] == {"count": 0, "mean": None, "min": None, "max": None}
    assert groups[None]["metrics"]["acc"]["mean"] == pytest.approx(0.1)
    by_status = _ok(
        http.post(
            f"{UI_API}/runs/groups",
            json={"experiment_ids": [exp], "group_by": "attributes.status", "filter": "metrics.loss < 2"},
        )
    )
    assert [(g["value"], g["run_count"], g["metrics"]) for g in by_status["groups"]] == [("RUNNING", 3, {})]


def test_groups_bad_input(http: httpx.Client, api: Api) -> None:
    exp = api.create_experiment()
    bad = "INVALID_PARAMETER_VALUE"
    assert_error(http.post(f"{UI}/runs/groups", json={"experiment_ids": [exp]}), 400, bad, "'group_by'")
    for key in ("lr", "metrics.loss", "attributes.secret"):
        assert_error(
            http.post(f"{UI}/runs/groups", json={"experiment_ids": [exp], "group_by": key}),
            400,
            bad,
            "group_by",
        )
    too_many = {
        "experiment_ids": [exp],
        "group_by": "params.lr",
        "metric_keys": [f"m{i}" for i in range(101)],
    }
    assert_error(http.post(f"{UI}/runs/groups", json=too_many), 400, bad, "100 metric_keys")
    assert_error(
        http.post(f"{UI}/runs/groups", content=b"{}", headers={"Content-Type": "text/plain"}),
        400,
        bad,
        "Content-Type",
    )


def test_groups_are_capped(http: httpx.Client, api: Api, server: ServedApp) -> None:
    exp = api.create_experiment()
    # Many runs are logged straight to the server's database (the same store the server reads).
    store = SqlTrackingStore(server.settings.backend_store_uri, server.workdir.as_uri())
    try:
        for i in range(1001):
            run_id = store.create_run(exp).info.run_id
            store.log_batch(run_id, params=[Param("seed", f"{i:04d}")], metrics=[Metric("loss", i, 1, 0)])
    finally:
        store.close()
    body = _ok(
        http.post(
            f"{UI}/runs/groups",
            json={"experiment_ids": [exp], "group_by": "params.seed", "metric_keys": ["loss"]},
        )
    )
    assert body["truncated"] is True and body["total_runs"] == 1001
    assert len(body["groups"]) == 1000
    assert body["groups"][0]["value"] == "0000" and body["groups"][-1]["value"] == "0999"
    assert body["groups"][5]["metrics"]["loss"] == {"count": 1, "mean": 5.0, "min": 5.0, "max": 5.0}
    assert _ok(http.post(f"{UI}/runs/count", json={"experiment_ids": [exp]}))["count"] == 1001


# -- experiments/columns ------------------------------------------------------------------------


def test_columns_of_experiments(http: httpx.Client, api: Api) -> None:
    exp, _ = _populate(api)
    other = api.create_experiment()
    extra = api.run_id(other)
    api.ok(api.post("runs/set-tag", {"run_id": extra, "key": "team", "value": "x"}))
    body = _ok(http.get(f"{UI}/experiments/columns", params={"experiment_id": exp}))
    assert body == {"params": ["lr"], "metrics": ["acc", "loss"], "tags": ["mlflow.runName"]}
    both = _ok(
        http.get(f"{UI_API}/experiments/columns", params=[("experiment_id", exp), ("experiment_id", other)])
    )
    assert both["tags"] == ["mlflow.runName", "team"]
    assert_error(http.get(f"{UI}/experiments/columns"), 400, "INVALID_PARAMETER_VALUE", "'experiment_id'")
    assert_error(
        http.get(f"{UI}/experiments/columns", params={"experiment_id": "x1"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "x1",
    )


# -- get-artifact -------------------------------------------------------------------------------


def _upload(http: httpx.Client, api: Api, run_id: str, path: str, content: bytes) -> None:
    root = api.get_run(run_id)["info"]["artifact_uri"]
    assert root.startswith("mlflow-artifacts:/")
    base = root.removeprefix("mlflow-artifacts:/").lstrip("/")
    assert http.put(f"{PROXY}/artifacts/{base}/{path}", content=content).status_code == 200


_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("plot.png", _PNG, "image/png"),
        ("photo.jpg", b"\xff\xd8\xff\xe0 jpeg", "image/jpeg"),
        ("sound.wav", b"RIFF....WAVE", "audio/x-wav"),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"),
        ("report.pdf", b"%PDF-1.4", "application/pdf"),
        ("data.json", b'{"a": 1}', "application/json; charset=utf-8"),
        ("notes.txt", b"hello", "text/plain; charset=utf-8"),
        ("table.csv", b"a,b\n1,2\n", "text/csv; charset=utf-8"),
        ("page.html", b"<script>alert(1)</script>", "text/plain; charset=utf-8"),
        ("image.svg", b"<svg onload='alert(1)'/>", "text/plain; charset=utf-8"),
        ("feed.xml", b"<?xml version='1.0'?><a/>", "text/plain; charset=utf-8"),
        ("code.js", b"alert(1)", "text/plain; charset=utf-8"),
        ("MLmodel", b"flavors:\n  python_function: {}\n", "text/plain; charset=utf-8"),
        ("weights.bin", bytes(range(256)) * 4, "application/octet-stream"),
        ("page.htm", b"\x00\x01<html>", "application/octet-stream"),
    ],
)
def test_artifact_types_are_safe(
    http: httpx.Client, api: Api, name: str, content: bytes, media_type: str
) -> None:
    run_id = api.run_id()
    _upload(http, api, run_id, f"dir/{name}", content)
    got = http.get("/get-artifact", params={"run_id": run_id, "path": f"dir/{name}"})
    assert got.status_code == 200, got.text
    assert got.content == content
    assert got.headers["content-type"] == media_type
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    assert got.headers["content-disposition"] == f'inline; filename="{name}"'


def test_artifact_download_disposition_and_run_uuid(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    _upload(http, api, run_id, "a b/ünï.txt", b"accents")
    got = http.get("/get-artifact", params={"run_uuid": run_id, "path": "a b/ünï.txt", "download": "true"})
    assert got.status_code == 200 and got.content == b"accents"
    assert got.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote('ünï.txt')}"
    inline = http.get("/get-artifact", params={"run_id": run_id, "path": "a b/ünï.txt"})
    assert inline.headers["content-disposition"].startswith("inline; ")


def test_large_artifacts_stream_whole(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    content = random.Random(5).randbytes(3 * 1024 * 1024 + 17)
    _upload(http, api, run_id, "big.bin", content)
    with http.stream("GET", "/get-artifact", params={"run_id": run_id, "path": "big.bin"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.read() == content


def test_artifact_errors(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    _upload(http, api, run_id, "sub/f.txt", b"x")
    bad, missing = "INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST"
    for path in ("../secret", "sub/../../x", "/etc/passwd", "%2e%2e/x", "sub\\f.txt"):
        assert_error(http.get("/get-artifact", params={"run_id": run_id, "path": path}), 400, bad)
    assert_error(http.get("/get-artifact", params={"run_id": run_id, "path": "sub"}), 400, bad, "directory")
    assert_error(http.get("/get-artifact", params={"run_id": run_id}), 400, bad, "'path'")
    assert_error(http.get("/get-artifact", params={"path": "sub/f.txt"}), 400, bad, "'run_id'")
    assert_error(
        http.get("/get-artifact", params={"run_id": run_id, "path": "sub/none.txt"}),
        404,
        missing,
        "'sub/none.txt'",
    )
    assert_error(http.get("/get-artifact", params={"run_id": "0" * 32, "path": "sub/f.txt"}), 404, missing)


def test_model_version_artifacts(http: httpx.Client, api: Api) -> None:
    run_id = api.run_id()
    _upload(http, api, run_id, "model/MLmodel", b"flavors: {}\n")
    _upload(http, api, run_id, "model/plot.png", _PNG)
    root = api.get_run(run_id)["info"]["artifact_uri"]
    name = unique("model")
    api.ok(api.post("registered-models/create", {"name": name}))
    api.ok(api.post("model-versions/create", {"name": name, "source": f"{root}/model", "run_id": run_id}))
    got = http.get("/model-versions/get-artifact", params={"name": name, "version": "1", "path": "MLmodel"})
    assert got.status_code == 200, got.text
    assert got.content == b"flavors: {}\n"
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.headers["x-content-type-options"] == "nosniff"
    png = http.get("/model-versions/get-artifact", params={"name": name, "version": 1, "path": "plot.png"})
    assert png.headers["content-type"] == "image/png" and png.content == _PNG
    # runs:/ sources resolve through the run's artifact root.
    api.ok(
        api.post("model-versions/create", {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id})
    )
    via_run = http.get(
        "/model-versions/get-artifact", params={"name": name, "version": "2", "path": "MLmodel"}
    )
    assert via_run.status_code == 200 and via_run.content == b"flavors: {}\n"
    missing = "RESOURCE_DOES_NOT_EXIST"
    params = {"name": name, "version": "9", "path": "MLmodel"}
    assert_error(http.get("/model-versions/get-artifact", params=params), 404, missing)
    params = {"name": unique("none"), "version": "1", "path": "MLmodel"}
    assert_error(http.get("/model-versions/get-artifact", params=params), 404, missing)
    params = {"name": name, "version": "1", "path": "nothing"}
    assert_error(http.get("/model-versions/get-artifact", params=params), 404, missing)
    params = {"name": name, "version": "1", "path": "../MLmodel"}
    assert_error(http.get("/model-versions/get-artifact", params=params), 400, "INVALID_PARAMETER_VALUE")


def test_ui_routes_are_not_on_the_tracking_prefixes(http: httpx.Client) -> None:
    assert http.get(f"{AJAX}/metric-series").status_code == 404
