"""Tracing benchmark: the in-process cost of a traced call, mltrail against MLflow.

Run ``python bench/tracing.py``. Each tool runs in its own subprocess on a fresh SQLite file (MLflow
3.17.2 from ``bench/.venv-mlflow``, created once): 10,000 calls of a trivial function decorated with
``mltrail.trace`` / ``mlflow.trace``, timed against the same calls undecorated; then the export is
flushed and the stored traces are counted. Goals:

* mltrail's added time per call is at most a third of MLflow's;
* every one of mltrail's traces is stored once the export is flushed (none dropped or failed).

Options: ``--calls N`` (default 10,000), ``--quick`` (2,000 calls), ``--skip-mlflow``,
``--json FILE`` (raw results). Exits with status 1 when a goal is missed.

The tracing server (OTLP ingest and trace search over HTTP) is benchmarked by ``bench/tracing_server.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env  # noqa: E402

_WORKLOAD = BENCH_DIR / "_tracing_workload.py"


def _run(python: str, tool: str, calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-tracing-{tool}-") as directory:
        out = subprocess.run(
            [python, str(_WORKLOAD), tool, str(calls), directory],
            check=True,
            capture_output=True,
            text=True,
            cwd=directory,
            timeout=3600,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["added_us_per_call"] = (result["traced_s"] - result["baseline_s"]) / calls * 1e6
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="2,000 calls")
    parser.add_argument("--skip-mlflow", action="store_true")
    parser.add_argument("--json", dest="json_file", default=None)
    args = parser.parse_args()
    calls = 2_000 if args.quick else args.calls

    results = {"mltrail": _run(sys.executable, "mltrail", calls)}
    if not args.skip_mlflow:
        results["mlflow"] = _run(str(ensure_mlflow_env()), "mlflow", calls)

    print(f"\nTraced trivial function, {calls:,} calls, SQLite store (MLflow {MLFLOW_VERSION})\n")
    print(f"{'tool':<10}{'added/call':>14}{'flush':>10}{'stored':>16}{'dropped':>9}{'failed':>8}")
    for tool, r in results.items():
        stored = f"{r['stored']:,}/{calls:,}"
        dropped = "-" if r["dropped"] is None else str(r["dropped"])
        failed = "-" if r["failed"] is None else str(r["failed"])
        added = f"{r['added_us_per_call']:>11.0f} us"
        print(f"{tool:<10}{added}{r['flush_s']:>9.2f}s{stored:>16}{dropped:>9}{failed:>8}")

    ok = True
    mine = results["mltrail"]
    if mine["stored"] != calls or mine["dropped"] or mine["failed"]:
        print(f"\nGOAL MISSED: mltrail stored {mine['stored']:,} of {calls:,} traces")
        ok = False
    if "mlflow" in results:
        ratio = results["mlflow"]["added_us_per_call"] / mine["added_us_per_call"]
        verdict = "met" if ratio >= 3 else "MISSED"
        print(f"\nmltrail's added time per call is 1/{ratio:.1f} of MLflow's (goal: at most 1/3): {verdict}")
        ok = ok and ratio >= 3
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(results, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
