"""The ArtifactRepository contract, run against every implementation in the registry.

Each test gets a repository rooted at a fresh, empty location (a directory, an S3 prefix in a
bucket of its own, or a directory behind a live server's artifact proxy) and checks behaviour
through the public methods only, plus a look at the storage around the root for escapes.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.artifacts.base import DEFAULT_CHUNK_SIZE, ArtifactRepository, FileInfo
from mltrail.errors import InvalidArgumentError, NotFoundError
from tests.support.artifact_repos import ARTIFACT_REPO_PARAMS, ARTIFACT_REPOS, ArtifactRepoCase, files_below

FIVE_MIB = 5 * 1024 * 1024


@pytest.fixture(params=ARTIFACT_REPO_PARAMS)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactRepoCase]:
    with ARTIFACT_REPOS[request.param](request, tmp_path) as repo_case:
        yield repo_case


@pytest.fixture
def repo(case: ArtifactRepoCase) -> ArtifactRepository:
    return case.repo


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """A local tree to upload: files at two depths, an empty file, a non-ASCII name."""
    root = tmp_path / "src"
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "a.txt").write_text("alpha\n")
    (root / "b.json").write_text('{"b": 1}')
    (root / "sub" / "c.bin").write_bytes(bytes(range(256)) * 10)
    (root / "sub" / "empty.txt").write_bytes(b"")
    (root / "sub" / "deep" / "d é.txt").write_text("delta with a space", encoding="utf-8")
    return root


def _local_file(tmp_path: Path, name: str, data: bytes) -> str:
    folder = tmp_path / f"upload-{hashlib.sha1(data + name.encode()).hexdigest()[:8]}"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return str(path)


def _read(repo: ArtifactRepository, path: str) -> bytes:
    return b"".join(repo.open_chunks(path))


def _tree(directory: Path) -> dict[str, bytes]:
    return {rel: (directory / rel).read_bytes() for rel in files_below(directory)}


# -- writing and listing ------------------------------------------------------------------


def test_log_artifact_at_root_lists_with_size(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.log_artifact(_local_file(tmp_path, "model.txt", b"weights"))

    assert repo.list_artifacts() == [FileInfo("model.txt", False, 7)]
    assert repo.list_artifacts(None) == repo.list_artifacts("")
    assert _read(repo, "model.txt") == b"weights"


def test_log_artifact_under_nested_path(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.log_artifact(_local_file(tmp_path, "f.txt", b"x"), "a/b")

    assert repo.list_artifacts() == [FileInfo("a", True, None)]
    assert repo.list_artifacts("a") == [FileInfo("a/b", True, None)]
    assert repo.list_artifacts("a/b") == [FileInfo("a/b/f.txt", False, 1)]
    # Equivalent spellings of the same directory list the same way.
    assert repo.list_artifacts("./a//b/") == [FileInfo("a/b/f.txt", False, 1)]


def test_log_artifacts_uploads_tree_and_lists_immediate_children(repo: ArtifactRepository, src: Path) -> None:
    repo.log_artifacts(str(src), "tree")

    assert repo.list_artifacts() == [FileInfo("tree", True, None)]
    assert repo.list_artifacts("tree") == [
        FileInfo("tree/a.txt", False, 6),
        FileInfo("tree/b.json", False, 8),
        FileInfo("tree/sub", True, None),
    ]
    assert repo.list_artifacts("tree/sub") == [
        FileInfo("tree/sub/c.bin", False, 2560),
        FileInfo("tree/sub/deep", True, None),
        FileInfo("tree/sub/empty.txt", False, 0),
    ]
    assert repo.list_artifacts("tree/sub/deep") == [FileInfo("tree/sub/deep/d é.txt", False, 18)]


def test_log_artifacts_at_root(repo: ArtifactRepository, src: Path) -> None:
    repo.log_artifacts(str(src))

    assert [info.path for info in repo.list_artifacts()] == ["a.txt", "b.json", "sub"]
    assert _read(repo, "sub/deep/d é.txt") == b"delta with a space"


def test_list_of_a_file_or_a_missing_directory_is_empty(repo: ArtifactRepository, src: Path) -> None:
    repo.log_artifacts(str(src), "tree")

    assert repo.list_artifacts("tree/a.txt") == []
    assert repo.list_artifacts("nope") == []
    assert repo.list_artifacts("tree/nope/deeper") == []


def test_list_does_not_confuse_sibling_prefixes(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.log_artifact(_local_file(tmp_path, "x.txt", b"1"), "dir")
    repo.log_artifact(_local_file(tmp_path, "y.txt", b"22"), "dir2")
    repo.log_artifact(_local_file(tmp_path, "dir.txt", b"333"))

    assert repo.list_artifacts() == [
        FileInfo("dir", True, None),
        FileInfo("dir.txt", False, 3),
        FileInfo("dir2", True, None),
    ]
    assert repo.list_artifacts("dir") == [FileInfo("dir/x.txt", False, 1)]


def test_overwrite_replaces_content(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.log_artifact(_local_file(tmp_path, "v.txt", b"first version"), "d")
    repo.log_artifact(_local_file(tmp_path, "v.txt", b"second"), "d")
    assert _read(repo, "d/v.txt") == b"second"
    assert repo.list_artifacts("d") == [FileInfo("d/v.txt", False, 6)]

    assert repo.write_stream("d/v.txt", io.BytesIO(b"third, via a stream")) == 19
    assert _read(repo, "d/v.txt") == b"third, via a stream"


# -- reading --------------------------------------------------------------------------------


def test_download_file_keeps_relative_path(repo: ArtifactRepository, src: Path, tmp_path: Path) -> None:
    repo.log_artifacts(str(src), "tree")
    dst = tmp_path / "dst"
    dst.mkdir()

    local = repo.download_artifacts("tree/sub/c.bin", str(dst))

    assert Path(local) == dst / "tree" / "sub" / "c.bin"
    assert Path(local).read_bytes() == (src / "sub" / "c.bin").read_bytes()


def test_download_tree_reproduces_every_file(repo: ArtifactRepository, src: Path, tmp_path: Path) -> None:
    repo.log_artifacts(str(src), "tree")
    dst = tmp_path / "dst"
    dst.mkdir()

    local = repo.download_artifacts("tree/sub", str(dst))

    assert Path(local) == dst / "tree" / "sub"
    assert _tree(Path(local)) == _tree(src / "sub")


def test_download_root_into_new_temp_dir(repo: ArtifactRepository, src: Path) -> None:
    repo.log_artifacts(str(src), "tree")
    repo.write_stream("top.txt", io.BytesIO(b"top"))

    local = Path(repo.download_artifacts())

    assert local.is_dir()
    expected = {f"tree/{rel}": data for rel, data in _tree(src).items()}
    expected["top.txt"] = b"top"
    assert _tree(local) == expected


def test_stream_round_trip_of_five_mib(repo: ArtifactRepository) -> None:
    payload = os.urandom(FIVE_MIB)

    written = repo.write_stream("big/blob.bin", io.BytesIO(payload))

    assert written == FIVE_MIB
    assert repo.list_artifacts("big") == [FileInfo("big/blob.bin", False, FIVE_MIB)]
    chunks = list(repo.open_chunks("big/blob.bin"))
    assert all(len(chunk) <= DEFAULT_CHUNK_SIZE for chunk in chunks)
    assert len(chunks) >= FIVE_MIB // DEFAULT_CHUNK_SIZE
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(payload).digest()
    small = list(repo.open_chunks("big/blob.bin", chunk_size=64 * 1024))
    assert max(len(chunk) for chunk in small) <= 64 * 1024
    assert b"".join(small) == payload


class _OneWayStream(io.RawIOBase):
    """A stream that can only be read forward (like a socket or a pipe)."""

    def __init__(self, data: bytes, piece: int) -> None:
        self._data = memoryview(data)
        self._piece = piece
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._piece, len(self._data) - self._offset)
        buffer[:size] = self._data[self._offset : self._offset + size]
        self._offset += size
        return size


def test_write_stream_from_non_seekable_stream(repo: ArtifactRepository) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    stream = io.BufferedReader(_OneWayStream(payload, 70_000))

    assert repo.write_stream("pipe.bin", stream) == len(payload)
    assert _read(repo, "pipe.bin") == payload


def test_write_stream_of_empty_stream(repo: ArtifactRepository) -> None:
    assert repo.write_stream("empty.bin", io.BytesIO(b"")) == 0
    assert repo.list_artifacts() == [FileInfo("empty.bin", False, 0)]
    assert _read(repo, "empty.bin") == b""


def test_write_stream_needs_a_file_name(repo: ArtifactRepository) -> None:
    with pytest.raises(InvalidArgumentError):
        repo.write_stream("", io.BytesIO(b"x"))


# -- deleting -------------------------------------------------------------------------------


def test_delete_file_keeps_siblings(repo: ArtifactRepository, src: Path, tmp_path: Path) -> None:
    repo.log_artifacts(str(src), "tree")

    repo.delete_artifacts("tree/a.txt")

    assert [info.path for info in repo.list_artifacts("tree")] == ["tree/b.json", "tree/sub"]
    with pytest.raises(NotFoundError):
        repo.download_artifacts("tree/a.txt", str(tmp_path))


def test_delete_tree_removes_everything_below(repo: ArtifactRepository, src: Path, tmp_path: Path) -> None:
    repo.log_artifacts(str(src), "tree")
    repo.log_artifact(_local_file(tmp_path, "keep.txt", b"k"), "other")

    repo.delete_artifacts("tree/sub")

    assert [info.path for info in repo.list_artifacts("tree")] == ["tree/a.txt", "tree/b.json"]
    assert repo.list_artifacts("tree/sub") == []
    with pytest.raises(NotFoundError):
        repo.download_artifacts("tree/sub", str(tmp_path))
    with pytest.raises(NotFoundError):
        repo.open_chunks("tree/sub/c.bin")

    repo.delete_artifacts("tree")
    assert repo.list_artifacts() == [FileInfo("other", True, None)]


def test_delete_missing_path_is_ignored(repo: ArtifactRepository, tmp_path: Path) -> None:
    repo.log_artifact(_local_file(tmp_path, "f.txt", b"f"))

    repo.delete_artifacts("never/was/here")
    repo.delete_artifacts("nope.txt")

    assert repo.list_artifacts() == [FileInfo("f.txt", False, 1)]


def test_delete_everything(repo: ArtifactRepository, src: Path) -> None:
    repo.log_artifacts(str(src))

    repo.delete_artifacts()

    assert repo.list_artifacts() == []


# -- missing paths --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["nope.txt", "no/such/dir", "no/such/file.bin"])
def test_download_of_missing_path_is_not_found(repo: ArtifactRepository, tmp_path: Path, path: str) -> None:
    repo.log_artifact(_local_file(tmp_path, "present.txt", b"p"), "no")
    dst = tmp_path / "dst"
    dst.mkdir()

    with pytest.raises(NotFoundError):
        repo.download_artifacts(path, str(dst))
    assert files_below(dst) == []


def test_open_chunks_of_missing_file_is_not_found(repo: ArtifactRepository) -> None:
    with pytest.raises(NotFoundError):
        repo.open_chunks("missing.bin")


# -- traversal ------------------------------------------------------------------------------

TRAVERSALS = [
    "..",
    "../escape.txt",
    "a/../../escape.txt",
    "a/b/../../../escape.txt",
    "/etc/escape.txt",
    "//server/share/escape.txt",
    "%2e%2e/escape.txt",
    "%2E%2E%2Fescape.txt",
    "a/%252e%252e/%252e%252e/escape.txt",
    "..\\escape.txt",
    "a\\..\\..\\escape.txt",
    "C:/escape.txt",
    "s3://other-bucket/escape.txt",
    "file:///tmp/escape.txt",
    "a/escape.txt\x00",
    "a?x=1",
    "a#frag",
]


@pytest.mark.parametrize("bad", TRAVERSALS)
def test_traversal_is_rejected_and_writes_nothing(
    case: ArtifactRepoCase, src: Path, tmp_path: Path, bad: str
) -> None:
    repo = case.repo
    upload = _local_file(tmp_path, "escape.txt", b"escaped!")
    dst = tmp_path / "dst"
    dst.mkdir()

    with pytest.raises(InvalidArgumentError):
        repo.log_artifact(upload, bad)
    with pytest.raises(InvalidArgumentError):
        repo.log_artifacts(str(src), bad)
    with pytest.raises(InvalidArgumentError):
        repo.write_stream(bad, io.BytesIO(b"escaped!"))
    with pytest.raises(InvalidArgumentError):
        repo.open_chunks(bad)
    with pytest.raises(InvalidArgumentError):
        repo.list_artifacts(bad)
    with pytest.raises(InvalidArgumentError):
        repo.download_artifacts(bad, str(dst))
    with pytest.raises(InvalidArgumentError):
        repo.delete_artifacts(bad)

    assert repo.list_artifacts() == []
    assert case.stray() == []
    assert files_below(dst) == []
