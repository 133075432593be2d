"""docs/cli.md: the walkthrough block runs as written and the error example is what users see."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "cli.md").read_text()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLTRAIL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    return env


def _block_after(heading: str, language: str) -> str:
    section = DOC[DOC.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block after {heading!r}"
    return match.group(1)


def test_walkthrough_runs_as_written(tmp_path: Path) -> None:
    assert shutil.which("mltrail", path=_env()["PATH"]), "the mltrail console script is not installed"
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    script = "set -euo pipefail\n" + _block_after("## Walkthrough", "bash")
    proc = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "Created experiment 'wine-baseline' with id 2" in out
    assert "Renamed experiment 2 to 'wine-tuned'." in out
    assert "Would remove 1 deleted run." in out
    assert "Removed 0 deleted runs." in out
    assert "Removed 1 deleted run." in out
    assert '"name": "wine-tuned"' in out
    assert "already at the newest revision" in out
    assert (tmp_path / "other.db").exists()
    # The run and its artifacts are gone for good; the experiment directory stays.
    assert list((tmp_path / "mltrail-artifacts" / "1").iterdir()) == []


def test_error_example_matches_the_real_output(tmp_path: Path) -> None:
    console = _block_after("**Errors**", "console").splitlines()
    command = console[0].removeprefix("$ ")
    expected_stderr = console[1:3]
    proc = subprocess.run(
        command, shell=True, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stderr.splitlines() == expected_stderr
    assert str(proc.returncode) == console[4]
