"""HttpArtifactRepository against a real ``mlflow server`` proxy, and MLflow's own client reading
and writing the same files: the two sides agree on the wire protocol and on the layout."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.artifacts.base import FileInfo
from mltrail.artifacts.http import HttpArtifactRepository
from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError, NotFoundError
from tests.support.artifact_repos import files_below
from tests.support.live_server import free_port, wait_for_health

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# `import mlflow` plus its server start-up take tens of seconds on a loaded machine.
_STARTUP_TIMEOUT = 180.0


class MlflowServer:
    """A running ``mlflow server`` with artifact proxying into a local destination."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.destination = workdir / "destination"
        mlflow = Path(sys.executable).parent / "mlflow"
        command = [
            str(mlflow),
            "server",
            "--backend-store-uri",
            f"sqlite:///{workdir / 'mlflow.db'}",
            "--artifacts-destination",
            str(self.destination),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
        self.log_path = workdir / "mlflow-server.log"
        with self.log_path.open("wb") as log:
            # Its own session: the server runs uvicorn as a child, and both must stop together.
            self.process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    try:
        wait_for_health(server.url, timeout=_STARTUP_TIMEOUT, process=server.process)
    except BaseException:
        server.stop()
        raise RuntimeError(f"mlflow server did not start:\n{server.log_path.read_text()}") from None
    yield server
    server.stop()


def _repo(server: MlflowServer, root: str) -> HttpArtifactRepository:
    return HttpArtifactRepository(
        f"mlflow-artifacts:/{root}", settings=Settings(tracking_uri=server.url, http_max_retries=0)
    )


def test_round_trip_through_mlflow_proxy(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    repo = _repo(mlflow_server, "7/run-a/artifacts")
    payload = os.urandom(3 * 1024 * 1024)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a b.txt").write_text("spaced")
    (src / "sub" / "ü.json").write_text("{}")
    (src / "sub" / "empty.txt").write_bytes(b"")

    repo.log_artifacts(str(src), "tree")
    assert repo.write_stream("blob.bin", io.BytesIO(payload)) == len(payload)

    assert repo.list_artifacts() == [FileInfo("blob.bin", False, len(payload)), FileInfo("tree", True, None)]
    assert repo.list_artifacts("tree/sub") == [
        FileInfo("tree/sub/empty.txt", False, 0),
        FileInfo("tree/sub/ü.json", False, 2),
    ]
    assert repo.list_artifacts("tree/a b.txt") == []
    assert b"".join(repo.open_chunks("blob.bin")) == payload
    local = Path(repo.download_artifacts("tree", str(tmp_path / "dl")))
    assert {rel: (local / rel).read_bytes() for rel in files_below(local)} == {
        rel: (src / rel).read_bytes() for rel in files_below(src)
    }
    stored = mlflow_server.destination / "7" / "run-a" / "artifacts"
    assert files_below(stored) == ["blob.bin", "tree/a b.txt", "tree/sub/empty.txt", "tree/sub/ü.json"]

    repo.delete_artifacts("tree/sub")
    assert [info.path for info in repo.list_artifacts("tree")] == ["tree/a b.txt"]


def test_mlflow_error_answers_map_onto_the_tree(mlflow_server: MlflowServer, tmp_path: Path) -> None:
    repo = _repo(mlflow_server, "7/run-b/artifacts")
    repo.write_stream("dir/f.txt", io.BytesIO(b"f"))

    with pytest.raises(NotFoundError):
        repo.open_chunks("dir/missing.txt")
    with pytest.raises(NotFoundError):
        repo.download_artifacts("missing", str(tmp_path))
    with pytest.raises(InvalidArgumentError):
        repo.open_chunks("dir")
    assert repo.list_artifacts("missing") == []


def test_mlflow_client_and_mltrail_read_each_others_files(
    mlflow_server: MlflowServer, tmp_path: Path
) -> None:
    repo = _repo(mlflow_server, "7/run-c/artifacts")
    repo.write_stream("from-mltrail/model.txt", io.BytesIO(b"written by mltrail"))
    script = textwrap.dedent(
        """
        import json, pathlib, sys, tempfile
        from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository

        repo = MlflowArtifactsRepository("mlflow-artifacts:/7/run-c/artifacts", tracking_uri=sys.argv[1])
        src = pathlib.Path(tempfile.mkdtemp()) / "notes.md"
        src.write_text("written by mlflow")
        repo.log_artifact(str(src), "from-mlflow")
        listing = [f.path for f in repo.list_artifacts("from-mltrail")]
        local = repo.download_artifacts("from-mltrail/model.txt", tempfile.mkdtemp())
        print(json.dumps({"listing": listing, "content": pathlib.Path(local).read_text()}))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLTRAIL_"))}
    result = subprocess.run(
        [sys.executable, "-c", script, mlflow_server.url],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    assert seen == {"listing": ["from-mltrail/model.txt"], "content": "written by mltrail"}
    assert repo.list_artifacts("from-mlflow") == [FileInfo("from-mlflow/notes.md", False, 17)]
    assert b"".join(repo.open_chunks("from-mlflow/notes.md")) == b"written by mlflow"
