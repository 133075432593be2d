"""System tags recorded on new runs: who started them, from which source, at which commit.

Everything here is cheap: the git commit is read from ``.git/HEAD`` (and the ref it points to)
without starting a process, and the results are cached per source directory.
"""

from __future__ import annotations

import functools
import os
import sys

from mltrail.config import Settings, current_user

__all__ = [
    "TAG_DATASET_CONTEXT",
    "TAG_GIT_COMMIT",
    "TAG_LOGGED_ARTIFACTS",
    "TAG_LOGGED_IMAGES",
    "TAG_NOTE",
    "TAG_PARENT_RUN_ID",
    "TAG_RUN_NAME",
    "TAG_SOURCE_NAME",
    "TAG_SOURCE_TYPE",
    "TAG_USER",
    "git_commit",
    "source_name",
    "source_type",
    "system_tags",
]

TAG_USER = "mlflow.user"
TAG_SOURCE_NAME = "mlflow.source.name"
TAG_SOURCE_TYPE = "mlflow.source.type"
TAG_GIT_COMMIT = "mlflow.source.git.commit"
TAG_RUN_NAME = "mlflow.runName"
TAG_NOTE = "mlflow.note.content"
TAG_PARENT_RUN_ID = "mlflow.parentRunId"
TAG_LOGGED_ARTIFACTS = "mlflow.loggedArtifacts"
TAG_LOGGED_IMAGES = "mlflow.loggedImages"
TAG_DATASET_CONTEXT = "mlflow.data.context"

_HEX = frozenset("0123456789abcdef")


def _in_notebook() -> bool:
    """True inside an IPython kernel or shell; IPython is only looked at if already imported."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    get_ipython = getattr(ipython, "get_ipython", None)
    return callable(get_ipython) and get_ipython() is not None


def source_type() -> str:
    """``NOTEBOOK`` inside IPython, else ``LOCAL``."""
    return "NOTEBOOK" if _in_notebook() else "LOCAL"


def source_name() -> str:
    """The running script's absolute path, or the interpreter's name when there is none."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if argv0 and argv0 != "-c" and os.path.exists(argv0):
        return os.path.abspath(argv0)
    return argv0 or sys.executable


def _is_sha(value: str) -> bool:
    return len(value) == 40 and set(value) <= _HEX


def _git_dir(start: str) -> str | None:
    """The ``.git`` directory of the repository containing ``start`` (worktrees included)."""
    current = os.path.abspath(start)
    while True:
        candidate = os.path.join(current, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):
            try:
                with open(candidate, encoding="utf-8") as f:
                    line = f.readline().strip()
            except OSError:
                return None
            if line.startswith("gitdir:"):
                target = line[len("gitdir:") :].strip()
                return target if os.path.isabs(target) else os.path.join(current, target)
            return None
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def _read_ref(git_dir: str, ref: str) -> str | None:
    ref_file = os.path.join(git_dir, *ref.split("/"))
    try:
        with open(ref_file, encoding="utf-8") as f:
            value = f.readline().strip()
        return value if _is_sha(value) else None
    except OSError:
        pass
    # Linked worktrees keep shared refs in the common dir.
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as f:
            common = os.path.join(git_dir, f.readline().strip())
        if os.path.normpath(common) != os.path.normpath(git_dir):
            return _read_ref(common, ref)
    except OSError:
        pass
    try:
        with open(os.path.join(git_dir, "packed-refs"), encoding="utf-8") as f:
            for line in f:
                sha, _, name = line.strip().partition(" ")
                if name == ref and _is_sha(sha):
                    return sha
    except OSError:
        return None
    return None


@functools.lru_cache(maxsize=64)
def git_commit(path: str) -> str | None:
    """The commit checked out in the git repository containing ``path``, or None.

    Args:
        path: A file or directory; the search walks up from it.

    Returns:
        A 40-character hex commit id, or None outside a repository (or on an unborn branch).
    """
    start = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    git_dir = _git_dir(start)
    if git_dir is None:
        return None
    try:
        with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as f:
            head = f.readline().strip()
    except OSError:
        return None
    if head.startswith("ref:"):
        return _read_ref(git_dir, head[len("ref:") :].strip())
    return head if _is_sha(head) else None


def system_tags(settings: Settings) -> dict[str, str]:
    """The system tags of a new run: user, source name and type, git commit when known.

    Args:
        settings: Supplies the user name (``MLTRAIL_USER``) when set.

    Returns:
        A dict of ``mlflow.*`` tags.
    """
    name = source_name()
    tags = {
        TAG_USER: current_user(settings),
        TAG_SOURCE_NAME: name,
        TAG_SOURCE_TYPE: source_type(),
    }
    commit = git_commit(name if os.path.exists(name) else os.getcwd())
    if commit:
        tags[TAG_GIT_COMMIT] = commit
    return tags
