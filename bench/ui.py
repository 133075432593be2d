"""UI benchmark: mltrail's web UI against MLflow 3.17.2's, in headless Debian Chromium.

Run ``.venv/bin/python bench/ui.py [--runs N] [--big-points N] [--repeat N] [--mltrail-only]
[--keep] [--screenshots DIR] [--json FILE]``.

Both tools get the same data (``_ui_data.py``): ``--runs`` finished runs (default 10,000) in one
experiment, each with five params and five metrics, and one run in a second experiment whose
metric ``big`` has ``--big-points`` points (default 1,000,000). mltrail's SQLite database is
written through mltrail's client before its server starts; MLflow's is created by MLflow's own
store (schema and ``Default`` experiment) and then filled with ``sqlite3``, since MLflow's client
would take many minutes for the runs alone. Then ``mltrail server`` (this repository's ``.venv``)
and ``mlflow server`` (``bench/.venv-mlflow``) start side by side on their databases, each with
its default workers (MLflow's with a longer worker ping timeout, see ``_MLFLOW_UVICORN_OPTS``),
on free loopback ports.

Three measurements (``_ui_browser.py``), each in a fresh browser context:

1. navigation start until the runs table shows its first row;
2. a click on "sort by m0" until the run with the highest m0 is the first row;
3. navigation start until the chart of the million-point metric is drawn on the run page.

Every scenario runs once untimed on each side first (the servers' caches warm up as they would
for any user), then ``--repeat`` times (default 5), the tools taking turns so that both meet the
same background load. The table shows medians and the ratio MLflow / mltrail (higher: mltrail
faster).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env  # noqa: E402
from _server_procs import ServerProcess, clean_env, free_port  # noqa: E402
from _ui_browser import (  # noqa: E402
    CHROMIUM,
    SCENARIOS,
    TIMEOUT_MS,
    Side,
    launch,
    measure_once,
    mlflow_side,
    mltrail_side,
)
from _ui_data import BenchData, load_mlflow, load_mltrail, now_ms  # noqa: E402
from playwright.sync_api import Browser, sync_playwright  # noqa: E402
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # noqa: E402

ARTIFACT_ROOT = "mlflow-artifacts:/"
TITLES = {
    "first_rows": "experiment page: first runs shown",
    "resort": "re-sort by metric m0 (click to new first row)",
    "big_chart": "run page: chart of the {points} metric drawn",
}
# MLflow's default server is uvicorn with 4 workers, whose supervisor kills a worker that does not
# answer its ping within 5 s. On a loaded machine a worker busy with the runs page misses it, and
# the page's requests die with it; a longer ping timeout keeps MLflow's defaults otherwise.
_MLFLOW_UVICORN_OPTS = "--timeout-worker-healthcheck 120"
# MLflow's store creates its schema and the Default experiment (id 0) the first time it opens a
# database, as `mlflow server` does; the benchmark's rows go in after that.
_MLFLOW_INIT = (
    "import sys; from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore; "
    "SqlAlchemyStore(sys.argv[1], sys.argv[2])"
)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _server(tool: str, command: list[str], db_path: Path, workdir: Path) -> ServerProcess:
    port = free_port()
    artifacts = workdir / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    args = ["--backend-store-uri", f"sqlite:///{db_path}", "--artifacts-destination", str(artifacts)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    return ServerProcess(tool, [*command, *args], port, clean_env(), workdir, workdir / "server.log")


def _mltrail_command() -> list[str]:
    script = REPO_DIR / ".venv" / "bin" / "mltrail"
    if script.exists():
        return [str(script), "server"]
    return [sys.executable, "-m", "mltrail.cli.main", "server"]


def prepare_mltrail(stack: contextlib.ExitStack, root: Path, runs: int, points: int, now: int) -> Side:
    """Load mltrail's database, start its server (stopped by ``stack``), return its UI side."""
    workdir = root / "mltrail"
    workdir.mkdir(parents=True)
    db_path = workdir / "mltrail.db"
    _log(f"  mltrail  writing {runs:,} runs and {points:,} points through the client ...")
    started = time.perf_counter()
    data = load_mltrail(db_path, ARTIFACT_ROOT, runs, points, now)
    _log(f"  mltrail  data written in {time.perf_counter() - started:,.1f} s")
    server = _server("mltrail", _mltrail_command(), db_path, workdir)
    stack.callback(server.stop)
    server.start()
    _log(f"  mltrail  server at {server.url}")
    return mltrail_side(server.url, data)


def prepare_mlflow(stack: contextlib.ExitStack, root: Path, runs: int, points: int, now: int) -> Side:
    """Create and fill MLflow's database, start ``mlflow server`` (stopped by ``stack``)."""
    python = ensure_mlflow_env()
    workdir = root / "mlflow"
    workdir.mkdir(parents=True)
    db_path = workdir / "mlflow.db"
    _log("  mlflow   creating the schema with MLflow's store ...")
    subprocess.run(
        [str(python), "-c", _MLFLOW_INIT, f"sqlite:///{db_path}", ARTIFACT_ROOT],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    _log(f"  mlflow   writing {runs:,} runs and {points:,} points with sqlite3 ...")
    started = time.perf_counter()
    data = load_mlflow(db_path, ARTIFACT_ROOT, runs, points, now)
    _log(f"  mlflow   data written in {time.perf_counter() - started:,.1f} s")
    command = [str(python.parent / "mlflow"), "server", "--uvicorn-opts", _MLFLOW_UVICORN_OPTS]
    server = _server("mlflow", command, db_path, workdir)
    stack.callback(server.stop)
    server.start()
    _log(f"  mlflow   server at {server.url}")
    return mlflow_side(server.url, data)


def _attempt(browser: Browser, side: Side, scenario: str, label: str, shot: Path | None = None) -> float:
    """One measurement; ``inf`` when the page did not get there within the time limit."""
    try:
        ms = measure_once(browser, side, scenario, shot)
    except PlaywrightTimeoutError:
        _log(f"  {side.tool:<8} {scenario:<10} {label} timed out after {TIMEOUT_MS / 1000:,.0f} s")
        return math.inf
    _log(f"  {side.tool:<8} {scenario:<10} {label} {ms:,.0f} ms")
    return ms


def run_measurements(
    sides: list[Side], repeat: int, screenshots: Path | None
) -> dict[str, dict[str, list[float]]]:
    """Warm up, then measure every scenario ``repeat`` times per side, the sides taking turns.

    A side that times out is not measured again on that scenario (each try would cost the whole
    time limit); its result is that one timeout.

    Returns:
        ``{tool: {scenario: [milliseconds, ...]}}``, ``inf`` for a timeout.
    """
    results: dict[str, dict[str, list[float]]] = {side.tool: {s: [] for s in SCENARIOS} for side in sides}
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            for scenario in SCENARIOS:
                active: list[Side] = []
                for side in sides:
                    shot = screenshots / f"{side.tool}-{scenario}.png" if screenshots else None
                    if math.isinf(_attempt(browser, side, scenario, "warm-up", shot)):
                        results[side.tool][scenario].append(math.inf)
                    else:
                        active.append(side)
                for index in range(repeat):
                    for side in list(active):
                        ms = _attempt(browser, side, scenario, f"#{index + 1}")
                        results[side.tool][scenario].append(ms)
                        if math.isinf(ms):
                            active.remove(side)
        finally:
            browser.close()
    return results


def _cell(samples: list[float]) -> str:
    if not samples:
        return "-"
    median = statistics.median(samples)
    if math.isinf(median):
        return f"> {TIMEOUT_MS / 1000:,.0f} s (timed out)"
    return f"{median:,.0f} ms ({min(samples):,.0f}-{max(samples):,.0f})"


def _ratio(theirs: list[float], ours: list[float]) -> str:
    if not theirs or not ours or math.isinf(statistics.median(ours)):
        return "-"
    a, b = statistics.median(theirs), statistics.median(ours)
    if math.isinf(a):
        return f"> {TIMEOUT_MS / b:,.0f}x"
    return f"{a / b:,.1f}x"


def report(results: dict[str, dict[str, list[float]]], data: BenchData) -> str:
    """The side-by-side table: medians (min-max) and the ratio MLflow / mltrail."""
    headers = ["measurement", f"MLflow {MLFLOW_VERSION}", "mltrail", "MLflow / mltrail"]
    rows: list[list[str]] = []
    ours = results["mltrail"]
    theirs = results.get("mlflow")
    for scenario in SCENARIOS:
        title = TITLES[scenario].format(points=f"{data.big_points:,}-point")
        ratio = _ratio(theirs[scenario], ours[scenario]) if theirs else "-"
        rows.append([title, _cell(theirs[scenario]) if theirs else "-", _cell(ours[scenario]), ratio])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [f"{data.runs:,} runs x (5 params + 5 metrics); big metric {data.big_points:,} points"]
    for row in [headers, ["-" * w for w in widths], *rows]:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return "\n".join(lines)


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Load the data, start the servers, measure, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs in the experiment (default 10,000)")
    parser.add_argument(
        "--big-points", type=int, default=1_000_000, help="points of the big metric (default 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed measurements per scenario and tool")
    parser.add_argument("--mltrail-only", action="store_true", help="measure mltrail only")
    parser.add_argument("--keep", action="store_true", help="keep the data directory (its path is printed)")
    parser.add_argument("--screenshots", type=Path, help="save each warm-up page's final state here")
    parser.add_argument("--json", type=Path, help="also write the raw milliseconds to this file")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.big_points < 1000 or args.repeat < 1:
        parser.error("--runs and --repeat must be >= 1, --big-points >= 1000")
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing: apt-get install -y chromium")
    signal.signal(signal.SIGTERM, _on_sigterm)

    root = Path(tempfile.mkdtemp(prefix="mltrail-ui-bench-"))
    started = time.perf_counter()
    now = now_ms()
    try:
        with contextlib.ExitStack() as stack:
            sides = [prepare_mltrail(stack, root, args.runs, args.big_points, now)]
            if not args.mltrail_only:
                sides.append(prepare_mlflow(stack, root, args.runs, args.big_points, now))
            results = run_measurements(sides, args.repeat, args.screenshots)
    finally:
        if args.keep:
            _log(f"  data kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(report(results, sides[0].data))
    print()
    print(
        f"Medians of {args.repeat} measurements (min-max), each in a fresh browser context, after one "
        f"untimed warm-up. Total time: {time.perf_counter() - started:,.0f} s"
    )
    if args.json:
        # JSON has no infinity: a timeout is written as null.
        raw = {
            tool: {k: [None if math.isinf(v) else v for v in vs] for k, vs in r.items()}
            for tool, r in results.items()
        }
        payload = {"sizes": asdict(sides[0].data), "repeat": args.repeat, "milliseconds": raw}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
