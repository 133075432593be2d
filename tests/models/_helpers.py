"""Helpers of the model-format tests: a runner for Python subprocesses (the real ``mlflow``
package runs only in those)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import mltrail

SRC_DIR = str(Path(mltrail.__file__).resolve().parent.parent)


def run_python(code: str, cwd: Path, *, with_mltrail: bool = True, env: dict[str, str] | None = None) -> Any:
    """Run ``code`` in a fresh interpreter and return the JSON it prints on its last line.

    With ``with_mltrail=False`` the interpreter runs isolated (``-I``) and mltrail's source
    directory is removed from ``sys.path`` before the code runs, so ``import mltrail`` fails.
    """
    prelude = ""
    if not with_mltrail:
        prelude = f"import sys\nsys.path[:] = [p for p in sys.path if p.rstrip('/') != {SRC_DIR!r}]\n"
    full_env = {
        **os.environ,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "PYTHONWARNINGS": "ignore",
        **(env or {}),
    }
    args = [sys.executable, *([] if with_mltrail else ["-I"]), "-c", prelude + textwrap.dedent(code)]
    done = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"subprocess failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
