"""LocalArtifactRepository: atomic writes, streaming, listing, download and delete."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mltrail.artifacts.base import FileInfo
from mltrail.artifacts.local import LocalArtifactRepository
from mltrail.errors import InvalidArgumentError, NotFoundError


@pytest.fixture
def repo(tmp_path: Path) -> LocalArtifactRepository:
    return LocalArtifactRepository(f"file://{tmp_path / 'root'}")


def test_write_stream_and_open_chunks(repo: LocalArtifactRepository) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    assert repo.write_stream("big/blob.bin", io.BytesIO(payload)) == len(payload)
    chunks = list(repo.open_chunks("big/blob.bin", chunk_size=1024 * 1024))
    assert len(chunks) == 4 and b"".join(chunks) == payload
    assert repo.write_stream("big/blob.bin", io.BytesIO(b"new")) == 3
    assert b"".join(repo.open_chunks("big/blob.bin")) == b"new"
    with pytest.raises(NotFoundError):
        repo.open_chunks("missing.bin")
    with pytest.raises(NotFoundError):
        repo.open_chunks("big")
    with pytest.raises(InvalidArgumentError):
        repo.write_stream("", io.BytesIO(b"x"))


def test_failed_write_leaves_the_old_file_and_no_temp(repo: LocalArtifactRepository) -> None:
    repo.write_stream("f.txt", io.BytesIO(b"old"))

    class Exploding(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 1:
                raise RuntimeError("stream broke")
            return b"partial"

    with pytest.raises(RuntimeError, match="stream broke"):
        repo.write_stream("f.txt", Exploding())  # type: ignore[arg-type]
    assert b"".join(repo.open_chunks("f.txt")) == b"old"
    assert [i.path for i in repo.list_artifacts()] == ["f.txt"]
    assert os.listdir(repo.root) == ["f.txt"]


def test_log_artifact_and_artifacts(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("A")
    repo.log_artifact(str(src))
    repo.log_artifact(str(src), "x/y")
    tree = tmp_path / "tree"
    (tree / "s").mkdir(parents=True)
    (tree / "s" / "b.txt").write_text("B")
    (tree / "c.txt").write_text("C")
    repo.log_artifacts(str(tree))
    repo.log_artifacts(str(tree), "copy")
    assert repo.list_artifacts() == [
        FileInfo("a.txt", False, 1),
        FileInfo("c.txt", False, 1),
        FileInfo("copy", True),
        FileInfo("s", True),
        FileInfo("x", True),
    ]
    assert repo.list_artifacts("copy/s") == [FileInfo("copy/s/b.txt", False, 1)]
    assert repo.list_artifacts("a.txt") == []
    assert repo.list_artifacts("nope") == []
    with pytest.raises(InvalidArgumentError):
        repo.log_artifact(str(tmp_path / "missing.txt"))
    with pytest.raises(InvalidArgumentError):
        repo.log_artifacts(str(tmp_path / "missing-dir"))


def test_download_and_delete(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    repo.write_stream("d/e/f.txt", io.BytesIO(b"F"))
    repo.write_stream("d/g.txt", io.BytesIO(b"G"))
    out = Path(repo.download_artifacts("d", str(tmp_path / "out")))
    assert out == tmp_path / "out" / "d"
    assert (out / "e" / "f.txt").read_bytes() == b"F" and (out / "g.txt").read_bytes() == b"G"
    one = Path(repo.download_artifacts("d/g.txt"))
    assert one.name == "g.txt" and one.read_bytes() == b"G"
    repo.delete_artifacts("d/e/f.txt")
    assert repo.list_artifacts("d/e") == []
    repo.delete_artifacts("d")
    repo.delete_artifacts("d")  # missing paths are ignored
    assert repo.list_artifacts() == []
    repo.write_stream("z.txt", io.BytesIO(b"z"))
    repo.delete_artifacts()
    assert not os.path.exists(repo.root)
    with pytest.raises(NotFoundError):
        repo.download_artifacts("z.txt", str(tmp_path / "o2"))


def test_plain_relative_path_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repo = LocalArtifactRepository("rel/root")
    repo.write_stream("a.txt", io.BytesIO(b"a"))
    assert (tmp_path / "rel" / "root" / "a.txt").read_bytes() == b"a"
    assert repo.artifact_uri == "rel/root"
