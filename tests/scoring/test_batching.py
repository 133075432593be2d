"""Adaptive micro-batching: grouping, per-caller results, error isolation and the latency bound,
both on the batcher alone and through real servers with many concurrent clients."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
import requests
import yaml

import mltrail.pyfunc
from mltrail.scoring.app import create_app
from mltrail.scoring.batching import MicroBatcher
from mltrail.scoring.predictor import Predictor, model_declares_batchable
from mltrail.scoring.settings import ScoringSettings
from tests.scoring import _models
from tests.scoring.conftest import MLTRAIL, Server, free_port, start_server, stop_server

# -- the batcher alone --------------------------------------------------------------------------


def _doubler(calls: list[list[int]], delay: float = 0.0) -> object:
    def run(items: Sequence[int]) -> list[int]:
        calls.append(list(items))
        time.sleep(delay)
        return [2 * i for i in items]

    return run


def test_concurrent_items_are_grouped_and_each_gets_its_own_result() -> None:
    calls: list[list[int]] = []

    async def main() -> list[int]:
        with ThreadPoolExecutor(1) as executor:
            batcher: MicroBatcher[int, int] = MicroBatcher(
                _doubler(calls, 0.01),  # type: ignore[arg-type]
                max_batch_size=8,
                max_delay=0.05,
                executor=executor,
            )
            results = await asyncio.gather(*(batcher.submit(i) for i in range(40)))
            await batcher.aclose()
            return list(results)

    assert asyncio.run(main()) == [2 * i for i in range(40)]
    assert sorted(i for call in calls for i in call) == list(range(40))
    assert max(len(call) for call in calls) == 8
    assert len(calls) <= 6


def test_a_lone_request_under_serial_load_does_not_wait() -> None:
    calls: list[list[int]] = []

    async def main() -> float:
        with ThreadPoolExecutor(1) as executor:
            batcher: MicroBatcher[int, int] = MicroBatcher(
                _doubler(calls),  # type: ignore[arg-type]
                max_batch_size=8,
                max_delay=0.5,
                executor=executor,
            )
            await batcher.submit(1)
            start = time.perf_counter()
            await batcher.submit(2)
            elapsed = time.perf_counter() - start
            await batcher.aclose()
            return elapsed

    assert asyncio.run(main()) < 0.25


def test_the_wait_for_partners_stays_within_max_delay() -> None:
    calls: list[list[int]] = []
    max_delay = 0.2

    async def main() -> float:
        with ThreadPoolExecutor(1) as executor:
            batcher: MicroBatcher[int, int] = MicroBatcher(
                _doubler(calls),  # type: ignore[arg-type]
                max_batch_size=64,
                max_delay=max_delay,
                executor=executor,
            )
            # A concurrent burst first, so that the batcher waits for partners afterwards.
            await asyncio.gather(*(batcher.submit(i) for i in range(4)))
            start = time.perf_counter()
            await batcher.submit(99)
            elapsed = time.perf_counter() - start
            await batcher.aclose()
            return elapsed

    elapsed = asyncio.run(main())
    assert calls[-1] == [99]
    # It waited for partners, but not longer than the bound (plus scheduling slack).
    assert max_delay * 0.9 <= elapsed < max_delay + 0.25


def test_a_failing_group_fails_only_its_own_items() -> None:
    def run(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky")
        return list(items)

    async def main() -> tuple[list[object], list[object]]:
        with ThreadPoolExecutor(1) as executor:
            batcher: MicroBatcher[int, int] = MicroBatcher(
                run, max_batch_size=1, max_delay=0.0, executor=executor
            )
            results = await asyncio.gather(*(batcher.submit(i) for i in (12, 13, 14)), return_exceptions=True)
            await batcher.aclose()
            return list(results), []

    results, _ = asyncio.run(main())
    assert results[0] == 12 and results[2] == 14
    assert isinstance(results[1], ValueError)


def test_invalid_batcher_settings() -> None:
    with ThreadPoolExecutor(1) as executor, pytest.raises(ValueError, match="max_batch_size"):
        MicroBatcher(lambda items: items, max_batch_size=0, max_delay=0.0, executor=executor)


# -- grouping in the predictor ------------------------------------------------------------------


def test_score_many_splits_rows_back_and_isolates_a_bad_request(model_dirs: dict[str, Path]) -> None:
    predictor = Predictor(mltrail.pyfunc.load_model(model_dirs["scaler"]))
    bodies = [
        json.dumps({"dataframe_split": {"columns": ["x", "y"], "data": [[float(i), i]] * (i % 3 + 1)}})
        for i in range(6)
    ]
    bad = json.dumps({"dataframe_split": {"columns": ["x", "y"], "data": [[-1.0, 0]]}})
    replies = predictor.score_many(
        [(b.encode(), "application/json") for b in [*bodies[:3], bad, *bodies[3:]]]
    )
    assert replies[3].status == 400
    good = [r for i, r in enumerate(replies) if i != 3]
    for i, reply in enumerate(good):
        assert reply.status == 200
        rows = json.loads(reply.content)["predictions"]
        assert [row["scaled"] for row in rows] == [2.0 * i] * (i % 3 + 1)


def test_score_many_groups_compatible_requests_into_one_call(model_dirs: dict[str, Path]) -> None:
    predictor = Predictor(mltrail.pyfunc.load_model(model_dirs["scaler"]))
    bodies = [json.dumps({"dataframe_records": [{"x": float(i), "y": 0}]}).encode() for i in range(5)]
    replies = predictor.score_many([(b, "application/json") for b in bodies])
    # The model reports how many rows its call received: all five requests shared one call.
    assert [json.loads(r.content)["predictions"][0]["n"] for r in replies] == [5] * 5
    assert [json.loads(r.content)["predictions"][0]["scaled"] for r in replies] == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_requests_with_different_params_are_not_grouped(model_dirs: dict[str, Path]) -> None:
    predictor = Predictor(mltrail.pyfunc.load_model(model_dirs["scaler"]))
    bodies = [
        json.dumps({"dataframe_records": [{"x": 1.0, "y": 0}], "params": {"factor": f}}).encode()
        for f in (1.0, 2.0, 1.0)
    ]
    replies = [
        json.loads(r.content)["predictions"][0]
        for r in predictor.score_many([(b, "application/json") for b in bodies])
    ]
    assert [r["scaled"] for r in replies] == [1.0, 2.0, 1.0]
    assert [r["n"] for r in replies] == [2, 1, 2]


def test_batching_is_declared_by_the_model(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    scaler = mltrail.pyfunc.load_model(model_dirs["scaler"])
    echo = mltrail.pyfunc.load_model(model_dirs["echo"])
    sklearn_model = mltrail.pyfunc.load_model(model_dirs["sklearn"])
    assert model_declares_batchable(scaler)
    assert model_declares_batchable(sklearn_model)
    assert not model_declares_batchable(echo)
    assert create_app(scaler, ScoringSettings()).batcher is not None
    assert create_app(echo, ScoringSettings()).batcher is None
    assert create_app(echo, ScoringSettings(batching="on")).batcher is not None
    assert create_app(scaler, ScoringSettings(batching="off")).batcher is None


def test_batchable_false_in_mlmodel_opts_out(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dirs["sklearn"], copy)
    meta = yaml.safe_load((copy / "MLmodel").read_text())
    meta["flavors"]["python_function"]["batchable"] = False
    (copy / "MLmodel").write_text(yaml.safe_dump(meta))
    assert not model_declares_batchable(mltrail.pyfunc.load_model(copy))
    meta["flavors"]["python_function"]["predict_fn"] = "transform"
    del meta["flavors"]["python_function"]["batchable"]
    (copy / "MLmodel").write_text(yaml.safe_dump(meta))
    assert not model_declares_batchable(mltrail.pyfunc.load_model(copy))


# -- over HTTP ----------------------------------------------------------------------------------


def _hammer(server: Server, bodies: list[bytes], clients: int) -> list[requests.Response]:
    results: list[requests.Response | None] = [None] * len(bodies)
    barrier = threading.Barrier(clients)

    def client(offset: int) -> None:
        session = requests.Session()
        barrier.wait()
        for index in range(offset, len(bodies), clients):
            results[index] = session.post(
                f"{server.url}/invocations",
                data=bodies[index],
                headers={"Content-Type": "application/json"},
                timeout=60,
            )

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def test_many_concurrent_clients_each_get_their_own_predictions(scaler_server: Server) -> None:
    bodies = [
        json.dumps({"dataframe_split": {"columns": ["x", "y"], "data": [[float(i), i], [0.5, i]]}}).encode()
        for i in range(160)
    ]
    responses = _hammer(scaler_server, bodies, clients=16)
    grouped = 0
    for i, response in enumerate(responses):
        assert response.status_code == 200
        rows = response.json()["predictions"]
        assert [row["scaled"] for row in rows] == [2.0 * i, 0.5 + i]
        grouped += rows[0]["n"] > 2
    # Some requests shared a predict call with others (the model saw more rows than they sent).
    assert grouped > 0


@pytest.fixture(scope="module")
def batching_sklearn_server(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    port = free_port()
    argv = [MLTRAIL, "models", "serve", "-m", str(model_dirs["sklearn"]), "-p", str(port), "--batching", "on"]
    server = start_server(argv, port, tmp_path_factory.mktemp("logs") / "sklearn-batching.log")
    yield server
    stop_server(server.process)


def test_sklearn_with_batching_on_matches_direct_predictions(
    batching_sklearn_server: Server, model_dirs: dict[str, Path]
) -> None:
    features, _ = _models.iris()
    model = mltrail.pyfunc.load_model(model_dirs["sklearn"])
    expected = [int(p) for p in model.predict(features)]
    columns = list(features.columns)
    bodies = [
        json.dumps(
            {"dataframe_split": {"columns": columns, "data": features.iloc[[i]].to_numpy().tolist()}}
        ).encode()
        for i in range(len(features))
    ]
    responses = _hammer(batching_sklearn_server, bodies, clients=8)
    assert [r.json()["predictions"] for r in responses] == [[e] for e in expected]


def test_sklearn_rows_with_mixed_formats_under_batching(batching_sklearn_server: Server) -> None:
    features, _ = _models.iris()
    frame = features.iloc[:3]
    bodies = [
        json.dumps({"dataframe_records": frame.to_dict(orient="records")}).encode(),
        json.dumps({"dataframe_split": frame.iloc[:, :2].to_dict(orient="split")}).encode(),
        json.dumps({"dataframe_split": frame.to_dict(orient="split")}).encode(),
    ] * 4
    responses = _hammer(batching_sklearn_server, bodies, clients=6)
    statuses = [r.status_code for r in responses]
    assert statuses == [200, 400, 200] * 4
    assert responses[0].json() == responses[2].json()
    assert pd.Series([len(r.json()["predictions"]) for r in responses if r.status_code == 200]).eq(3).all()


def test_data_already_in_the_schema_layout_skips_nothing_that_enforcement_checks(
    model_dirs: dict[str, Path],
) -> None:
    predictor = Predictor(mltrail.pyfunc.load_model(model_dirs["sklearn"]))
    columns = _models.IRIS_COLUMNS

    def score(rows: list[list[object]], names: list[str] = columns) -> tuple[int, dict[str, object]]:
        body = json.dumps({"dataframe_split": {"columns": names, "data": rows}}).encode()
        reply = predictor.score(body, "application/json")
        return reply.status, json.loads(reply.content)

    assert score([[5.1, 3.5, 1.4, 0.2]]) == (200, {"predictions": [0]})
    # Integers are converted safely by enforcement; the answer is the same.
    assert score([[5, 3, 1, 0]])[0] == 200
    # A missing value in a required column is still rejected.
    status, error = score([[None, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2]])
    assert status == 400 and "missing values" in str(error["message"])
    # Columns in another order are reordered by enforcement.
    reordered = [columns[1], columns[0], columns[2], columns[3]]
    assert score([[3.5, 5.1, 1.4, 0.2]], reordered) == (200, {"predictions": [0]})
