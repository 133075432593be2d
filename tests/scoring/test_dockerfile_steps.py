"""The generated Dockerfile's steps work: its install command and its entry point, run in a fresh
virtual environment (no container engine runs here), serve a model that answers a request.

The install command runs exactly as generated, plus ``--find-links`` to a wheel of this
repository, since the mltrail version being tested is not published.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from mltrail import __version__
from mltrail.deploy.dockerfile import (
    MODEL_MOUNT,
    SERVING_PORT,
    default_mltrail_requirement,
    write_build_context,
)
from tests.scoring import _models
from tests.scoring.conftest import free_port, start_server, stop_server

_REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _instruction(lines: list[str], keyword: str) -> str:
    return next(line for line in lines if line.startswith(keyword + " "))[len(keyword) + 1 :]


def test_install_and_entrypoint_serve_a_request(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    dockerfile = write_build_context(model_dirs["sklearn"], context)
    lines = dockerfile.read_text().splitlines()
    model_dir = str(context / "model")

    install = shlex.split(_instruction(lines, "RUN pip install"))
    install = ["pip", "install", *install]
    assert install[:3] == ["pip", "install", "--no-cache-dir"]
    entrypoint = json.loads(_instruction(lines, "ENTRYPOINT"))
    assert entrypoint[0] == "mltrail"

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"

    def local(arg: str) -> str:
        return arg.replace(MODEL_MOUNT, model_dir)

    assert default_mltrail_requirement() in install
    wheels = tmp_path / "wheels"
    pip = [str(bin_dir / "python"), "-m", "pip"]
    built = subprocess.run(
        [*pip, "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(_REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    # pip's cache makes reinstalling the wheels fast; --no-cache-dir is dropped only here.
    argv = [*pip, *[local(a) for a in install[1:] if a != "--no-cache-dir"], "--find-links", str(wheels)]
    result = subprocess.run([*argv, "--quiet"], capture_output=True, text=True, timeout=540)
    assert result.returncode == 0, result.stdout + result.stderr

    port = free_port()
    command = [str(bin_dir / "mltrail"), *[local(a) for a in entrypoint[1:]]]
    command[command.index(str(SERVING_PORT))] = str(port)
    assert command[command.index("--host") + 1] == "0.0.0.0"
    server = start_server(command, port, tmp_path / "server.log", env={"PATH": str(bin_dir)})
    try:
        features, _ = _models.iris()
        body = {"dataframe_split": features.iloc[[0, 100]].to_dict(orient="split")}
        response = requests.post(f"{server.url}/invocations", json=body, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json() == {"predictions": [0, 2]}
        assert requests.get(f"{server.url}/health", timeout=10).text == "\n"
        assert requests.get(f"{server.url}/version", timeout=10).text == __version__
    finally:
        stop_server(server.process)
    # The server ran from the fresh environment, not from the one running the tests.
    assert Path(sys.executable).parent != bin_dir
