"""Tracking-server benchmark: ``mltrail server`` against ``mlflow server`` over HTTP.

Run ``.venv/bin/python bench/server.py [--quick] [--backend sqlite|postgresql|both] [--skip-mlflow]``.
For each backend, both tools' servers are started with their default worker settings, each on a
fresh backend (its own SQLite file in a temporary directory, or its own new PostgreSQL database
that is dropped afterwards) and its own free loopback port, and waited for through ``/health``.
They then take turns: each workload runs against mltrail, then against MLflow, with the same REST
requests, so that both meet the same background load. Both are stopped at the end, on failure and
on Ctrl-C too. MLflow 3.17.2 runs from ``bench/.venv-mlflow``.

Workloads and goals (mltrail against MLflow):

* single ``runs/log-metric`` calls from one client: >= 50x the requests per second;
* ``runs/log-batch`` of 1,000 metrics a request, 1,000,000 points: >= 20x the points per second;
* ``runs/search`` over 10,000 runs, metric filter and order_by, every page: >= 10x faster;
* ``metrics/get-history`` of a 100,000-point metric: >= 20x faster;
* 16 concurrent clients logging single points: >= 50x the aggregate rate, and no errors;
* RSS of the whole server process tree after the workloads: at most a fifth of MLflow's.

MLflow's side of the rate workloads is timed on fewer requests (see ``MLFLOW_SIZES``) so that a
full run fits in about 25 minutes on two cores; its per-request cost grows with the size of the run,
so the smaller sample flatters MLflow, not mltrail. The command exits 1 when a full run misses a goal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env  # noqa: E402
from _server_data import SearchRun, expected_matches, search_runs_data  # noqa: E402
from _server_procs import (  # noqa: E402
    ServerProcess,
    analyze_database,
    clean_env,
    free_port,
    postgres_database,
)
from _server_workloads import (  # noqa: E402
    Api,
    ConcurrentLogMetric,
    GetHistory,
    LogBatch,
    LogMetric,
    Measure,
    SearchRuns,
    Workload,
)

PG_HOST = "postgres@127.0.0.1:5432"
CLIENTS = 16
_MLFLOW_PG_DRIVER = "psycopg[binary]"


@dataclass(frozen=True)
class Sizes:
    """How much one tool does in one run of the benchmark."""

    log_metric_calls: int
    log_batch_calls: int
    search_runs: int
    history_points: int
    concurrent_calls_each: int


MLTRAIL_SIZES = {
    "full": Sizes(10_000, 1_000, 10_000, 100_000, 500),
    "quick": Sizes(500, 20, 1_000, 10_000, 50),
}
MLFLOW_SIZES = {
    "full": Sizes(1_000, 200, 10_000, 100_000, 50),
    "quick": Sizes(100, 10, 1_000, 10_000, 10),
}


@dataclass(frozen=True)
class Goal:
    """One row of the report: how a workload is compared and what it must reach."""

    key: str
    title: str
    goal: float
    higher_is_better: bool  # rates (True) or times and memory (False)


GOALS = (
    Goal("log_metric", "runs/log-metric, 1 client", 50, True),
    Goal("log_batch", "runs/log-batch, 1,000 metrics/request", 20, True),
    Goal("search", "runs/search, filter + order_by, all pages", 10, False),
    Goal("history", "metrics/get-history, unpaged", 20, False),
    Goal("concurrent", f"runs/log-metric, {CLIENTS} clients", 50, True),
    Goal("memory", "server RSS after the workloads", 5, False),
)


def _mltrail_command() -> list[str]:
    script = REPO_DIR / ".venv" / "bin" / "mltrail"
    if script.exists():
        return [str(script), "server"]
    return [sys.executable, "-m", "mltrail.cli.main", "server"]


def _ensure_mlflow_postgres_driver(python: Path) -> None:
    """MLflow needs a PostgreSQL driver (psycopg, SQLAlchemy 2.1's default); install it once."""
    probe = subprocess.run([str(python), "-c", "import psycopg"], capture_output=True, check=False)
    if probe.returncode != 0:
        print(
            f"  installing {_MLFLOW_PG_DRIVER} into the MLflow venv (once) ...", file=sys.stderr, flush=True
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                _MLFLOW_PG_DRIVER,
            ],
            check=True,
        )


def _mltrail_seed(api: Api, experiment_id: str, n: int) -> None:
    """Create the search runs through mltrail's API: create, log-batch, update, four at a time."""
    now = int(time.time() * 1000)
    local = threading_local_api(api.base_url)

    def one(run: SearchRun) -> None:
        client = local()
        run_id = client.post(
            "runs/create",
            {"experiment_id": experiment_id, "run_name": run.name, "start_time": now - n + run.index},
        )["run"]["info"]["run_id"]
        client.post(
            "runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [
                    {"key": "accuracy", "value": run.accuracy, "timestamp": now, "step": 0},
                    {"key": "loss", "value": run.loss, "timestamp": now, "step": 0},
                ],
                "params": [{"key": "lr", "value": run.lr}],
            },
        )
        client.post("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now})

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in pool.map(one, search_runs_data(n)):
            pass


def threading_local_api(base_url: str) -> Callable[[], Api]:
    """A factory giving each thread its own keep-alive :class:`Api`."""
    local = threading.local()

    def get() -> Api:
        api: Api | None = getattr(local, "api", None)
        if api is None:
            api = Api(base_url)
            local.api = api
        return api

    return get


def _then_analyze(seed: Callable[[Api, str, int], None], database: str) -> Callable[[Api, str, int], None]:
    """``seed``, then ``ANALYZE`` of the database it filled.

    Autovacuum analyzes a table within about a minute of a bulk load; the search rounds start
    seconds after seeding, when the planner would still see the empty tables of a fresh database
    and pick nested loops over 10,000 runs. Both tools' databases get the same treatment.
    """

    def seed_and_analyze(api: Api, experiment_id: str, n: int) -> None:
        seed(api, experiment_id, n)
        analyze_database(database)

    return seed_and_analyze


def _mlflow_seeder(python: Path, uri: str) -> Callable[[Api, str, int], None]:
    def seed(api: Api, experiment_id: str, n: int) -> None:
        now = int(time.time() * 1000)
        subprocess.run(
            [
                str(python),
                str(BENCH_DIR / "_server_mlflow_seed.py"),
                uri,
                experiment_id,
                str(n),
                "mlflow-artifacts:/",
                str(now),
            ],
            check=True,
            capture_output=True,
            env=clean_env(),
        )

    return seed


@dataclass
class ToolServer:
    """One tool's running server on its fresh backend, and what has been measured on it."""

    tool: str
    backend: str
    sizes: Sizes
    server: ServerProcess
    api: Api
    seed: Callable[[Api, str, int], None]
    startup_seconds: float
    measures: dict[str, Measure]

    def workload(self, name: str) -> tuple[str, Workload]:
        """A label and a fresh workload object for this server."""
        n = self.sizes
        if name == "log_metric":
            return f"log-metric x{n.log_metric_calls:,}", LogMetric(self.api, n.log_metric_calls)
        if name == "log_batch":
            return f"log-batch {n.log_batch_calls:,} x 1,000", LogBatch(self.api, n.log_batch_calls)
        if name == "search":
            expected = expected_matches(n.search_runs)
            return f"search {n.search_runs:,} runs", SearchRuns(self.api, n.search_runs, self.seed, expected)
        if name == "history":
            return f"get-history {n.history_points:,} points", GetHistory(self.api, n.history_points)
        workload = ConcurrentLogMetric(self.server.url, CLIENTS, n.concurrent_calls_each)
        return f"{CLIENTS} clients x {n.concurrent_calls_each:,} log-metric", workload

    def results(self) -> dict[str, Any]:
        """The raw results, with the RSS of the server's process tree measured now."""
        rss, processes = self.server.rss()
        print(
            f"  {self.backend:<10} {self.tool:<8} RSS {rss / 2**20:,.0f} MiB in {processes} processes",
            file=sys.stderr,
            flush=True,
        )
        return {
            "tool": self.tool,
            "backend": self.backend,
            "sizes": asdict(self.sizes),
            "startup_seconds": self.startup_seconds,
            "workloads": {name: asdict(m) | {"rate": m.rate} for name, m in self.measures.items()},
            "memory": {"rss_bytes": rss, "processes": processes},
        }


def start_tool(
    stack: contextlib.ExitStack,
    tool: str,
    backend: str,
    sizes: Sizes,
    workdir: Path,
    mlflow_python: Path | None,
) -> ToolServer:
    """Start one tool's server on a fresh backend; ``stack`` stops it and drops its database."""
    workdir.mkdir(parents=True)
    if backend == "sqlite":
        server_uri = f"sqlite:///{workdir / f'{tool}.db'}"
    else:
        database = stack.enter_context(postgres_database(f"bench_{tool}"))
        driver = "postgresql+psycopg" if tool == "mltrail" else "postgresql"
        server_uri = f"{driver}://{PG_HOST}/{database}"
    port = free_port()
    common = ["--backend-store-uri", server_uri, "--artifacts-destination", str(workdir / "artifacts")]
    common += ["--host", "127.0.0.1", "--port", str(port)]
    seed: Callable[[Api, str, int], None]
    if tool == "mltrail":
        command = [*_mltrail_command(), *common]
        seed = _mltrail_seed
    else:
        assert mlflow_python is not None
        command = [str(mlflow_python.parent / "mlflow"), "server", *common]
        seed = _mlflow_seeder(mlflow_python, server_uri)
    if backend == "postgresql":
        seed = _then_analyze(seed, database)
    server = ServerProcess(tool, command, port, clean_env(), workdir, workdir / "server.log")
    stack.callback(server.stop)
    print(f"  {backend:<10} {tool:<8} starting the server ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    server.start()
    startup = time.perf_counter() - started
    api = Api(server.url)
    stack.callback(api.close)
    return ToolServer(tool, backend, sizes, server, api, seed, startup, {})


# Timed rounds per workload; the tools take turns round by round.
ROUNDS = {"log_metric": 5, "log_batch": 5, "search": 2, "history": 3, "concurrent": 5}


def run_backend(
    backend: str, mode: str, root: Path, mlflow_python: Path | None, only: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Both servers on fresh backends, side by side, taking turns round by round.

    Each workload is prepared on both servers (untimed), then its timed rounds alternate
    between the tools, so that both meet the same background load on a shared machine. Only
    the server being measured is sent requests; the other one idles.
    """
    with contextlib.ExitStack() as stack:
        servers = [start_tool(stack, "mltrail", backend, MLTRAIL_SIZES[mode], root / "mltrail", None)]
        if mlflow_python is not None:
            servers.append(
                start_tool(stack, "mlflow", backend, MLFLOW_SIZES[mode], root / "mlflow", mlflow_python)
            )
        for name, rounds in ROUNDS.items():
            if only and name not in only:
                continue
            workloads: list[Workload] = []
            for server in servers:
                label, workload = server.workload(name)
                print(f"  {backend:<10} {server.tool:<8} {label}: preparing ...", file=sys.stderr, flush=True)
                workload.prepare()
                workloads.append(workload)
            for index in range(rounds):
                for workload in workloads:
                    workload.run_round(index, rounds)
            for server, workload in zip(servers, workloads, strict=True):
                server.measures[name] = measure = workload.finish()
                print(f"  {backend:<10} {server.tool:<8} {_describe(measure)}", file=sys.stderr, flush=True)
        return {server.tool: server.results() for server in servers}


def client_ceiling(mode: str, root: Path) -> float:
    """Requests per second of the 16-client workload against a server that does no work.

    The clients are threads of this process; on a small machine they, not the server, can bound
    the aggregate rate. This figure is the most any server could be credited with here.
    """
    root.mkdir(parents=True)
    port = free_port()
    command = [sys.executable, str(BENCH_DIR / "_null_http.py"), str(port)]
    server = ServerProcess("null", command, port, clean_env(), root, root / "server.log")
    server.start()
    try:
        workload = ConcurrentLogMetric(server.url, CLIENTS, MLTRAIL_SIZES[mode].concurrent_calls_each)
        workload.prepare()
        for index in range(ROUNDS["concurrent"]):
            workload.run_round(index, ROUNDS["concurrent"])
        for api in workload.apis:
            api.close()
        return workload.operations / sum(workload.seconds)
    finally:
        server.stop()


def _describe(m: Measure) -> str:
    text = f"{m.seconds:.3f} s, {m.operations:,} requests, {m.points:,} points ({m.rate:,.0f}/s)"
    return text + (f", {m.errors} errors" if m.errors else "")


def _value(goal: Goal, result: dict[str, Any]) -> float:
    if goal.key == "memory":
        return float(result["memory"]["rss_bytes"])
    workload = result["workloads"][goal.key]
    if goal.key == "log_metric" or goal.key == "concurrent":
        return float(workload["points"] / workload["seconds"])
    if goal.key == "log_batch":
        return float(workload["rate"])
    return float(workload["seconds"])


def _cell(goal: Goal, result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    value = _value(goal, result)
    if goal.key == "memory":
        return f"{value / 2**20:,.0f} MiB ({result['memory']['processes']} procs)"
    workload = result["workloads"][goal.key]
    if goal.key in ("log_metric", "concurrent"):
        errors = f", {workload['errors']} err" if goal.key == "concurrent" else ""
        return f"{value:,.0f} req/s ({workload['operations']:,} req{errors})"
    if goal.key == "log_batch":
        return f"{value:,.0f} pts/s ({workload['points']:,} pts)"
    if goal.key == "search":
        return f"{value * 1000:,.0f} ms ({workload['points']:,} found)"
    return f"{value * 1000:,.0f} ms ({workload['points']:,} pts)"


def report(
    backend: str, ours: dict[str, Any], theirs: dict[str, Any] | None, only: Sequence[str] = ()
) -> tuple[str, bool]:
    """The table for one backend, and whether every goal was met."""
    headers = ["workload", f"MLflow {MLFLOW_VERSION}", "mltrail", "ratio", "goal", "result"]
    rows: list[list[str]] = []
    all_met = True
    for goal in GOALS:
        if only and goal.key not in only and goal.key != "memory":
            continue
        ratio_cell, verdict = "-", "-"
        if theirs is not None:
            a, b = _value(goal, ours), _value(goal, theirs)
            ratio = a / b if goal.higher_is_better else b / a
            met = ratio >= goal.goal
            if goal.key == "concurrent" and ours["workloads"]["concurrent"]["errors"]:
                met = False
            all_met &= met
            ratio_cell, verdict = f"{ratio:,.1f}x", "met" if met else "NOT MET"
        rows.append(
            [goal.title, _cell(goal, theirs), _cell(goal, ours), ratio_cell, f">= {goal.goal:g}x", verdict]
        )
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [f"Backend: {backend}"]
    for row in [headers, ["-" * w for w in widths], *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines), all_met


def _scaling_note(mode: str) -> str:
    ours, theirs = MLTRAIL_SIZES[mode], MLFLOW_SIZES[mode]
    return (
        f"Sizes ({mode}): log-metric {ours.log_metric_calls:,} calls (MLflow {theirs.log_metric_calls:,}); "
        f"log-batch {ours.log_batch_calls * 1000:,} points (MLflow {theirs.log_batch_calls * 1000:,}); "
        f"search {ours.search_runs:,} runs; get-history {ours.history_points:,} points; "
        f"{CLIENTS} clients x {ours.concurrent_calls_each:,} calls "
        f"(MLflow x {theirs.concurrent_calls_each:,}). "
        "Rates compare per-second figures; MLflow's smaller samples favour MLflow."
    )


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table per backend; exit 1 when a full run misses a goal."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--skip-mlflow", action="store_true", help="run mltrail only")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--only",
        choices=list(ROUNDS),
        action="append",
        default=[],
        help="run only these workloads (repeatable)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)

    mode = "quick" if args.quick else "full"
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    mlflow_python = None if args.skip_mlflow else ensure_mlflow_env()
    if mlflow_python is not None and "postgresql" in backends:
        _ensure_mlflow_postgres_driver(mlflow_python)

    all_results: dict[str, dict[str, Any]] = {}
    tables: list[str] = []
    missed = False
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mltrail-server-bench-") as tmp:
        for backend in backends:
            all_results[backend] = run_backend(backend, mode, Path(tmp) / backend, mlflow_python, args.only)
            table, met = report(
                backend, all_results[backend]["mltrail"], all_results[backend].get("mlflow"), args.only
            )
            tables.append(table)
            missed |= not met
        ceiling = None
        if not args.only or "concurrent" in args.only:
            print("  client ceiling: 16 clients against a server that does no work ...", file=sys.stderr)
            ceiling = client_ceiling(mode, Path(tmp) / "ceiling")
            all_results["client_ceiling_rps"] = {"rate": ceiling}
    print()
    print("\n\n".join(tables))
    print()
    print(_scaling_note(mode))
    if ceiling is not None:
        print(
            f"Client ceiling: the {CLIENTS}-client workload against a server that answers at once "
            f"without work reaches {ceiling:,.0f} req/s on this machine (the bound on any server's "
            "figure for that row)."
        )
    print(f"Total time: {time.perf_counter() - started:,.0f} s")
    if args.quick:
        print("(--quick: small sizes; ratios are indicative only)")
    if args.json:
        args.json.write_text(json.dumps(all_results, indent=2))
    return 1 if missed and not args.quick and mlflow_python is not None else 0


if __name__ == "__main__":
    sys.exit(main())
