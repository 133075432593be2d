"""Local tracking benchmark: mltrail against MLflow on a SQLite file, no server.

Run ``python bench/tracking_local.py`` (or ``make bench``). It makes sure MLflow 3.17.2 is
installed in ``bench/.venv-mlflow`` (once), then runs each workload in a subprocess with each tool,
every run on its own fresh SQLite file, and prints rates, times and the ratios against the goals:

* 10,000 ``log_metric`` calls through the fluent API, until on disk: mltrail >= 100x MLflow's rate;
* ``log_batch`` of 1,000,000 points (1,000 calls of 1,000 metrics, client API): >= 20x;
* ``search_runs`` over 10,000 runs with a metric filter and an order_by, every page: >= 10x faster.

Options: ``--quick`` for small sizes (a smoke run), ``--skip-mlflow`` to run mltrail only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env  # noqa: E402


@dataclass(frozen=True)
class Workload:
    """One workload: its size in full and quick runs, and how it is judged."""

    name: str
    title: str
    full: int
    quick: int
    goal: float
    by_rate: bool  # judge points per second (True) or wall time (False)

    def label(self, size: int) -> str:
        if self.name == "log_metric":
            return f"log_metric x{size:,} (fluent, until flushed)"
        if self.name == "log_batch":
            return f"log_batch {size * 1000:,} points ({size:,} x 1,000)"
        return f"search_runs over {size:,} runs (filter + order_by)"


WORKLOADS = (
    Workload("log_metric", "fluent log_metric", full=10_000, quick=2_000, goal=100, by_rate=True),
    Workload("log_batch", "client log_batch", full=1_000, quick=20, goal=20, by_rate=True),
    Workload("search_runs", "search_runs", full=10_000, quick=1_000, goal=10, by_rate=False),
)


def _mltrail_python() -> Path:
    venv_python = REPO_DIR / ".venv" / "bin" / "python"
    return venv_python if venv_python.exists() else Path(sys.executable)


def run_workload(tool: str, python: Path, workload: Workload, size: int, root: Path) -> dict[str, Any]:
    """Run one workload in a fresh subprocess on a fresh SQLite file and return its result."""
    workdir = root / f"{tool}-{workload.name}"
    workdir.mkdir(parents=True)
    script = BENCH_DIR / f"_workload_{tool}.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    if tool == "mltrail":
        env["PYTHONPATH"] = str(REPO_DIR / "src")
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    started = time.perf_counter()
    proc = subprocess.run(
        [str(python), str(script), workload.name, str(size), str(workdir)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} {workload.name} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    expected = (
        size if workload.name == "log_metric" else size * 1000 if workload.name == "log_batch" else None
    )
    if expected is not None and result["stored"] != expected:
        raise RuntimeError(f"{tool} {workload.name}: {result['stored']} points stored, expected {expected}")
    return result


def _cell(workload: Workload, result: dict[str, Any] | None) -> str:
    if result is None:
        return "-"
    if workload.by_rate:
        rate = result["points"] / result["seconds"]
        return f"{rate:,.0f} pts/s ({result['seconds']:.2f} s)"
    return f"{result['seconds'] * 1000:,.1f} ms ({result['stored']:,} runs)"


def _ratio(workload: Workload, ours: dict[str, Any], theirs: dict[str, Any]) -> float:
    if workload.by_rate:
        return float((ours["points"] / ours["seconds"]) / (theirs["points"] / theirs["seconds"]))
    return float(theirs["seconds"] / ours["seconds"])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 when a full run misses a goal."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip-mlflow", action="store_true", help="run mltrail only")
    parser.add_argument("--only", choices=[w.name for w in WORKLOADS], action="append", help="run only these")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    args = parser.parse_args(argv)

    workloads = [w for w in WORKLOADS if not args.only or w.name in args.only]
    tools: dict[str, Path] = {"mltrail": _mltrail_python()}
    if not args.skip_mlflow:
        tools["mlflow"] = ensure_mlflow_env()

    results: dict[str, dict[str, dict[str, Any]]] = {tool: {} for tool in tools}
    with tempfile.TemporaryDirectory(prefix="mltrail-bench-") as tmp:
        for workload in workloads:
            size = workload.quick if args.quick else workload.full
            for tool, python in tools.items():
                print(f"  running {tool:<8} {workload.label(size)} ...", file=sys.stderr, flush=True)
                results[tool][workload.name] = run_workload(tool, python, workload, size, Path(tmp))

    headers = ["workload", "mltrail", f"MLflow {MLFLOW_VERSION}", "ratio", "goal", ""]
    rows: list[list[str]] = []
    missed = False
    for workload in workloads:
        size = workload.quick if args.quick else workload.full
        ours = results["mltrail"][workload.name]
        theirs = results.get("mlflow", {}).get(workload.name)
        ratio_cell, verdict = "-", ""
        if theirs is not None:
            ratio = _ratio(workload, ours, theirs)
            ratio_cell = f"{ratio:,.1f}x"
            verdict = "ok" if ratio >= workload.goal else "MISSED"
            missed |= ratio < workload.goal
            if workload.name == "search_runs" and ours["stored"] != theirs["stored"]:
                verdict += f" (result counts differ: {ours['stored']} vs {theirs['stored']})"
        rows.append(
            [
                workload.label(size),
                _cell(workload, ours),
                _cell(workload, theirs),
                ratio_cell,
                f">= {workload.goal:g}x",
                verdict,
            ]
        )
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    print()
    for row in [headers, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    if args.quick:
        print("\n(--quick: small sizes; ratios are indicative only)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
