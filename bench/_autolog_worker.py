"""One side of the autologging benchmark, run in its own process: N fits with or without autolog.

Usage: ``python _autolog_worker.py {mltrail|mlflow} {on|off} FITS WORKDIR``. Prints one JSON line:
``{"seconds": ..., "fits": ..., "runs": ..., "models": ...}``. Imports, store creation and the
``autolog()`` call are outside the timed part; the fits and writing everything to disk are inside.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _data() -> tuple[Any, Any]:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True, as_frame=True)
    return x, y


def _fit_many(fits: int, x: Any, y: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    for _ in range(fits):
        LogisticRegression(max_iter=200).fit(x, y)


def run_mltrail(autolog: bool, fits: int, workdir: Path) -> dict[str, Any]:
    os.environ["MLTRAIL_ARTIFACT_ROOT"] = str(workdir / "artifacts")
    import mltrail
    import mltrail.sklearn

    mltrail.set_tracking_uri(f"sqlite:///{workdir / 'mltrail.db'}")
    x, y = _data()
    if autolog:
        mltrail.sklearn.autolog()
    _fit_many(1, x, y)  # warm-up outside any run: loads lazily imported code once
    mltrail.flush()
    started = time.perf_counter()
    with mltrail.start_run() as run:
        _fit_many(fits, x, y)
    mltrail.flush()
    seconds = time.perf_counter() - started
    stored = mltrail.get_run(run.run_id)
    models = len(stored.outputs.model_outputs) if stored.outputs else 0
    return {"seconds": seconds, "fits": fits, "models": models, "metrics": len(stored.data.metrics)}


def run_mlflow(autolog: bool, fits: int, workdir: Path) -> dict[str, Any]:
    import mlflow
    import mlflow.sklearn

    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    x, y = _data()
    if autolog:
        # Same content as mltrail's defaults: model, signature, input example, dataset.
        mlflow.sklearn.autolog(log_input_examples=True, silent=True)
    _fit_many(1, x, y)
    started = time.perf_counter()
    with mlflow.start_run() as run:
        _fit_many(fits, x, y)
    mlflow.flush_async_logging()
    seconds = time.perf_counter() - started
    client = mlflow.MlflowClient()
    stored = client.get_run(run.info.run_id)
    models = len(stored.outputs.model_outputs) if stored.outputs else 0
    return {"seconds": seconds, "fits": fits, "models": models, "metrics": len(stored.data.metrics)}


def main() -> None:
    tool, mode, fits, workdir = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    run = run_mltrail if tool == "mltrail" else run_mlflow
    print(json.dumps(run(mode == "on", fits, workdir)))


if __name__ == "__main__":
    main()
