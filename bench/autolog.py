"""Autologging overhead benchmark: mltrail.sklearn.autolog() against mlflow.sklearn.autolog().

Run ``python bench/autolog.py``. For each tool, in fresh processes on fresh local SQLite stores,
it times 200 fits of a small scikit-learn model (LogisticRegression on iris) inside one run,
once without and once with autologging (model, signature, input example, dataset and training
metrics on both sides), and reports the time autologging adds. Goal: mltrail's added time is at
most a third of MLflow's. MLflow 3.17.2 comes from ``bench/.venv-mlflow`` (created once).

Options: ``--fits N`` (default 200), ``--skip-mlflow``, ``--json FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env  # noqa: E402

GOAL = 1 / 3


def _mltrail_python() -> Path:
    venv_python = REPO_DIR / ".venv" / "bin" / "python"
    return venv_python if venv_python.exists() else Path(sys.executable)


def run_side(tool: str, python: Path, mode: str, fits: int, root: Path) -> dict[str, Any]:
    """Run one worker process on a fresh store and return its JSON result."""
    workdir = root / f"{tool}-{mode}"
    workdir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    if tool == "mltrail":
        env["PYTHONPATH"] = str(REPO_DIR / "src")
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    # One BLAS thread on both sides: on a shared machine spinning BLAS threads swamp a small fit.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    proc = subprocess.run(
        [str(python), str(BENCH_DIR / "_autolog_worker.py"), tool, mode, str(fits), str(workdir)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} autolog={mode} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table; exit 1 when the goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fits", type=int, default=200)
    parser.add_argument("--skip-mlflow", action="store_true", help="run mltrail only")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    args = parser.parse_args(argv)

    tools: dict[str, Path] = {"mltrail": _mltrail_python()}
    if not args.skip_mlflow:
        tools["mlflow"] = ensure_mlflow_env()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="mltrail-bench-autolog-") as tmp:
        for tool, python in tools.items():
            results[tool] = {}
            for mode in ("off", "on"):
                print(
                    f"  running {tool:<8} {args.fits} fits, autolog {mode} ...", file=sys.stderr, flush=True
                )
                results[tool][mode] = run_side(tool, python, mode, args.fits, Path(tmp))

    print(f"\n{args.fits} fits of LogisticRegression(iris) in one run, fresh local SQLite store\n")
    print("| tool | without autolog | with autolog | added | added per fit | models logged |")
    print("|---|---|---|---|---|---|")
    added: dict[str, float] = {}
    for tool, modes in results.items():
        off, on = modes["off"]["seconds"], modes["on"]["seconds"]
        added[tool] = on - off
        name = "mltrail" if tool == "mltrail" else f"MLflow {MLFLOW_VERSION}"
        print(
            f"| {name} | {off:.2f} s | {on:.2f} s | {added[tool]:.2f} s | "
            f"{added[tool] / args.fits * 1000:.1f} ms | {modes['on']['models']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    if "mlflow" not in added:
        return 0
    ratio = added["mltrail"] / added["mlflow"]
    met = ratio <= GOAL
    print(
        f"\nmltrail's added time / MLflow's: {ratio:.3f} (goal <= {GOAL:.3f}): {'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
