"""Table tests of artifact path canonicalisation and of the local repository's root confinement."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from mltrail.artifacts.local import LocalArtifactRepository
from mltrail.artifacts.paths import (
    canonical_relpath,
    is_local_uri,
    join_uri,
    local_path_from_uri,
    local_path_to_uri,
    uri_scheme,
)
from mltrail.errors import InvalidArgumentError

ACCEPTED = [
    (None, ""),
    ("", ""),
    (".", ""),
    ("./", ""),
    ("a", "a"),
    ("a/b/c.txt", "a/b/c.txt"),
    ("./a/./b", "a/b"),
    ("a//b///c", "a/b/c"),
    ("a/b/", "a/b"),
    ("dir/file with spaces.txt", "dir/file with spaces.txt"),
    ("images/loss~x+step+1+timestamp+2.png", "images/loss~x+step+1+timestamp+2.png"),
    ("50%.txt", "50%.txt"),
    ("..hidden", "..hidden"),
    ("a/...", "a/..."),
    ("ünïcode/ファイル.txt", "ünïcode/ファイル.txt"),
]

REJECTED = [
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "./..",
    "a/b/../../..",
    "/etc/passwd",
    "//server/share",
    "C:/Windows/win.ini",
    "c:foo",
    "D:\\x",
    "a\\..\\..\\x",
    "a\\b",
    "a\x00b",
    "a\nb",
    "%2e%2e/x",
    "%2E%2E/x",
    "a/%2e%2e/%2e%2e/x",
    "..%2fx",
    "%2e%2e%2fx",
    "%252e%252e/x",
    "%2fetc/passwd",
    "a%5c..%5c..%5cx",
    "a%00b",
    "file:///etc/passwd",
    "s3://bucket/key",
    "http://example.com/x",
    "mlflow-artifacts:/x",
    "a#frag",
    "a?query=1",
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_canonical_relpath_accepts_and_normalises(raw: str | None, expected: str) -> None:
    assert canonical_relpath(raw) == expected


@pytest.mark.parametrize("raw", REJECTED)
def test_canonical_relpath_rejects_escapes(raw: str) -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid path"):
        canonical_relpath(raw)


def test_non_string_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError):
        canonical_relpath(b"a")  # type: ignore[arg-type]


def test_join_uri() -> None:
    assert join_uri("s3://b/p", "x/y") == "s3://b/p/x/y"
    assert join_uri("s3://b/p/", "./x//y") == "s3://b/p/x/y"
    assert join_uri("/root", "") == "/root"
    assert join_uri("/root", None) == "/root"
    with pytest.raises(InvalidArgumentError):
        join_uri("s3://b/p", "../q")


def test_uri_helpers(tmp_path: Path) -> None:
    assert uri_scheme("S3://b") == "s3"
    assert uri_scheme("/abs") == ""
    assert uri_scheme("C:/x") == ""
    assert is_local_uri("file:///x") and is_local_uri("rel/dir") and not is_local_uri("s3://b")
    assert local_path_from_uri(f"file://{tmp_path}") == str(tmp_path)
    assert local_path_from_uri(f"file://localhost{tmp_path}") == str(tmp_path)
    assert local_path_from_uri("file:///tmp/a%20b") == "/tmp/a b"
    assert local_path_from_uri("rel") == os.path.abspath("rel")
    assert local_path_from_uri(local_path_to_uri(str(tmp_path / "x y"))) == str(tmp_path / "x y")
    for bad in ("file://otherhost/x", "s3://b/k", "file:///x?y=1"):
        with pytest.raises(InvalidArgumentError):
            local_path_from_uri(bad)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("raw", REJECTED)
def test_local_repository_writes_nothing_outside_root(tmp_path: Path, raw: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    repo = LocalArtifactRepository(str(root))
    before = _tree(tmp_path)
    src = tmp_path / "src.txt"
    src.write_text("payload")
    before = _tree(tmp_path)
    with pytest.raises(InvalidArgumentError):
        repo.write_stream(raw, io.BytesIO(b"x"))
    with pytest.raises(InvalidArgumentError):
        repo.log_artifact(str(src), raw)
    with pytest.raises(InvalidArgumentError):
        repo.list_artifacts(raw)
    with pytest.raises(InvalidArgumentError):
        repo.delete_artifacts(raw)
    with pytest.raises(InvalidArgumentError):
        repo.download_artifacts(raw, str(tmp_path / "dl"))
    assert _tree(tmp_path) == before


def test_symlink_escape_is_rejected(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, root / "link")
    repo = LocalArtifactRepository(f"file://{root}")
    for op in (
        lambda: repo.write_stream("link/new.txt", io.BytesIO(b"x")),
        lambda: list(repo.open_chunks("link/secret.txt")),
        lambda: repo.list_artifacts("link"),
        lambda: repo.delete_artifacts("link/secret.txt"),
    ):
        with pytest.raises(InvalidArgumentError, match="outside"):
            op()
    assert not (outside / "new.txt").exists()
    assert (outside / "secret.txt").read_text() == "secret"
