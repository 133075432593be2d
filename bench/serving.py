"""Scoring-server benchmark: ``mltrail models serve`` against ``mlflow models serve``.

One scikit-learn model (logistic regression on iris, saved once by MLflow 3.17.2 in its own venv,
``bench/.venv-mlflow``) is served by each server with its default settings, and each gets
the same closed-loop load: 8 concurrent keep-alive clients posting 1-row ``dataframe_split``
requests, then 8 clients posting 1,000-row requests. All servers are started first; each load is
then measured in ``--rounds`` alternating rounds (server A, B, C, A, B, C, ...) whose figures are
pooled, so that background load on a shared machine falls on every server alike. Only the server
being measured gets traffic at any moment. mltrail is measured twice: with its defaults
(micro-batching on, as for every scikit-learn model, whose estimators score rows independently)
and with ``--batching off`` (one predict call per request, as MLflow does).

    .venv/bin/python bench/serving.py [--duration 15] [--rounds 5] [--warmup 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import orjson
import requests
from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env
from _serving_load import LoadResult, merge_results, run_load

_HERE = Path(__file__).resolve().parent
_MLTRAIL = _HERE.parent / ".venv" / "bin" / "mltrail"
_CLIENTS = 8
_BIG_ROWS = 1000

_SAVE_MODEL = """
import sys
import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=500).fit(X, y)
mlflow.sklearn.save_model(model, sys.argv[1], input_example=X.head(3))
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _server(argv: Sequence[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{argv[0]} exited early:\n{log.read().decode(errors='replace')}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{port}/ping", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{argv[0]} did not answer /ping within 180 s")
            time.sleep(0.3)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _payloads() -> tuple[bytes, bytes, list[str]]:
    from sklearn.datasets import load_iris

    features = load_iris(as_frame=True).data
    columns = [str(c) for c in features.columns]
    rng = np.random.default_rng(0)
    big = features.to_numpy()[rng.integers(0, len(features), _BIG_ROWS)].tolist()
    one = orjson.dumps({"dataframe_split": {"columns": columns, "data": features.to_numpy()[:1].tolist()}})
    many = orjson.dumps({"dataframe_split": {"columns": columns, "data": big}})
    return one, many, columns


def _check(port: int, body: bytes, rows: int) -> None:
    response = requests.post(
        f"http://127.0.0.1:{port}/invocations",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    response.raise_for_status()
    predictions = response.json()["predictions"]
    if len(predictions) != rows:
        raise RuntimeError(f"expected {rows} predictions, got {len(predictions)}")


def _print(name: str, result: LoadResult) -> None:
    print(
        f"   {name:>9}: {result.rps:8.1f} req/s {result.rows_per_second:11.0f} rows/s "
        f"p50 {result.p50_ms:7.2f} ms p95 {result.p95_ms:7.2f} ms p99 {result.p99_ms:7.2f} ms "
        f"errors {result.errors}",
        flush=True,
    )


def _measure(servers: dict[str, int], args: argparse.Namespace) -> dict[str, dict[str, LoadResult]]:
    one, many, _ = _payloads()
    loads = {"1-row": (one, 1), f"{_BIG_ROWS}-row": (many, _BIG_ROWS)}
    for port in servers.values():
        _check(port, one, 1)
        _check(port, many, _BIG_ROWS)
    rounds: dict[str, dict[str, list[LoadResult]]] = {name: {load: [] for load in loads} for name in servers}
    for load, (body, rows) in loads.items():
        for _ in range(args.rounds):
            for name, port in servers.items():
                rounds[name][load].append(
                    run_load(
                        "127.0.0.1",
                        port,
                        body,
                        clients=_CLIENTS,
                        warmup=args.warmup,
                        duration=args.duration / args.rounds,
                        rows=rows,
                    )
                )
    results = {name: {load: merge_results(r) for load, r in per.items()} for name, per in rounds.items()}
    for name, per in results.items():
        print(f"-- {name}")
        for load, result in per.items():
            _print(load, result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures (and write JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds measured per server and load.")
    parser.add_argument(
        "--rounds", type=int, default=5, help="Alternating rounds the duration is split into."
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="Seconds of load before each round.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args(argv)

    mlflow_python = ensure_mlflow_env()
    work = Path(tempfile.mkdtemp(prefix="mltrail-serving-bench-"))
    model_dir = work / "model"
    subprocess.run([str(mlflow_python), "-c", _SAVE_MODEL, str(model_dir)], check=True)
    mlflow_bin = str(Path(mlflow_python).parent / "mlflow")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    # MLflow starts its server as a `uvicorn` command found on PATH.
    mlflow_env = {**env, "PATH": f"{Path(mlflow_bin).parent}{os.pathsep}{env.get('PATH', '')}"}
    base = [str(_MLTRAIL), "models", "serve", "-m", str(model_dir), "--allow-pickle"]
    mlflow_serve = [mlflow_bin, "models", "serve", "-m", str(model_dir), "--env-manager", "local"]
    commands = {
        f"mlflow {MLFLOW_VERSION}": (mlflow_serve, mlflow_env),
        "mltrail": (base, env),
        "mltrail --batching off": ([*base, "--batching", "off"], env),
    }
    ports = {name: _free_port() for name in commands}
    with contextlib.ExitStack() as stack:
        for name, (command, command_env) in commands.items():
            argv = [*command, "-p", str(ports[name])]
            print(f"-- starting {name}: {' '.join(argv)}", flush=True)
            stack.enter_context(_server(argv, ports[name], command_env))
        runs = _measure(ports, args)

    reference = runs[f"mlflow {MLFLOW_VERSION}"]
    print("\nRatios against MLflow (req/s x, p50 fraction, rows/s x):")
    for name, results in runs.items():
        if name.startswith("mlflow"):
            continue
        small, big = results["1-row"], results[f"{_BIG_ROWS}-row"]
        big_ratio = big.rows_per_second / reference[f"{_BIG_ROWS}-row"].rows_per_second
        print(
            f"  {name:<24} 1-row {small.rps / reference['1-row'].rps:5.1f}x req/s, "
            f"p50 {small.p50_ms / reference['1-row'].p50_ms:5.2f} of MLflow's; "
            f"{_BIG_ROWS}-row {big_ratio:5.1f}x rows/s"
        )
    if args.json is not None:
        out = {
            name: {
                load: {
                    **{k: v for k, v in r.__dict__.items() if k != "latencies"},
                    "rps": r.rps,
                    "rows_per_second": r.rows_per_second,
                }
                for load, r in results.items()
            }
            for name, results in runs.items()
        }
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
