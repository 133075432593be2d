"""The benchmark's own MLflow environment: ``bench/.venv-mlflow`` with ``mlflow==3.17.2``.

MLflow is installed in a venv of its own so that the comparison measures MLflow as users install
it, without sharing packages with mltrail. The venv is created once and reused; a stamp file
records the version that was installed.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

__all__ = ["MLFLOW_VERSION", "VENV_DIR", "ensure_mlflow_env"]

MLFLOW_VERSION = "3.17.2"
VENV_DIR = Path(__file__).resolve().parent / ".venv-mlflow"
_STAMP = VENV_DIR / f".mlflow-{MLFLOW_VERSION}"


def _python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def ensure_mlflow_env(venv_dir: Path = VENV_DIR, *, quiet: bool = False) -> Path:
    """Create the MLflow venv unless it already holds the pinned version.

    Args:
        venv_dir: Where the venv lives.
        quiet: Print nothing while installing.

    Returns:
        The path of the venv's Python interpreter.

    Raises:
        subprocess.CalledProcessError: creating the venv or installing MLflow failed.
    """
    python = _python(venv_dir)
    stamp = venv_dir / _STAMP.name
    if stamp.exists() and python.exists():
        return python
    if not quiet:
        print(f"Creating {venv_dir} with mlflow=={MLFLOW_VERSION} (once; reused afterwards)...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("--quiet")
    subprocess.run([*pip, f"mlflow=={MLFLOW_VERSION}"], check=True)
    version = subprocess.run(
        [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if version != MLFLOW_VERSION:
        raise RuntimeError(f"Expected mlflow {MLFLOW_VERSION} in {venv_dir}, found {version}")
    stamp.write_text(version + "\n")
    return python


if __name__ == "__main__":
    print(ensure_mlflow_env())
