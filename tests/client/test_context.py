"""System tags of new runs: user, source name and type, git commit (read without a subprocess)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from mltrail.config import Settings
from mltrail.tracking import context

SHA = "89abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh_git_cache() -> Iterator[None]:
    context.git_commit.cache_clear()
    yield
    context.git_commit.cache_clear()


def test_user_comes_from_settings() -> None:
    tags = context.system_tags(Settings(user="carol"))
    assert tags[context.TAG_USER] == "carol"
    assert tags[context.TAG_SOURCE_TYPE] == "LOCAL"
    assert tags[context.TAG_SOURCE_NAME]


def test_source_type_is_notebook_inside_ipython(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert context.source_type() == "NOTEBOOK"
    fake.get_ipython = lambda: None  # type: ignore[attr-defined]
    assert context.source_type() == "LOCAL"


def test_source_name_is_the_script_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert context.source_name() == str(script)
    monkeypatch.setattr(sys, "argv", ["-c"])
    assert context.source_name() == "-c"
    monkeypatch.setattr(sys, "argv", [""])
    assert context.source_name() == sys.executable


def test_git_commit_of_the_running_script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    git = tmp_path / "proj" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/dev\n")
    (git / "refs" / "heads" / "dev").write_text(SHA + "\n")
    script = tmp_path / "proj" / "src" / "train.py"
    script.parent.mkdir()
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert context.system_tags(Settings())[context.TAG_GIT_COMMIT] == SHA


def test_git_worktree_file_and_common_dir(tmp_path: Path) -> None:
    main_git = tmp_path / "main" / ".git"
    (main_git / "refs" / "heads").mkdir(parents=True)
    (main_git / "refs" / "heads" / "feature").write_text(SHA + "\n")
    wt_git = main_git / "worktrees" / "wt"
    wt_git.mkdir(parents=True)
    (wt_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (wt_git / "commondir").write_text("../..\n")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {wt_git}\n")
    assert context.git_commit(str(worktree)) == SHA


def test_no_commit_on_an_unborn_branch_or_garbage(tmp_path: Path) -> None:
    git = tmp_path / "r" / ".git"
    git.mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    assert context.git_commit(str(tmp_path / "r")) is None
    context.git_commit.cache_clear()
    (git / "HEAD").write_text("not a sha\n")
    assert context.git_commit(str(tmp_path / "r")) is None


def test_packed_refs_and_detached_head(tmp_path: Path) -> None:
    git = tmp_path / "r" / ".git"
    git.mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{SHA} refs/heads/main\n")
    assert context.git_commit(str(tmp_path / "r")) == SHA
    context.git_commit.cache_clear()
    other = "f" * 40
    (git / "HEAD").write_text(other + "\n")
    assert context.git_commit(str(tmp_path / "r")) == other
