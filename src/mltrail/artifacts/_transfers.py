"""What the remote artifact repositories share around transfers: planning uploads, running them.

:func:`file_upload_path` and :func:`tree_upload_plan` turn local files into canonical artifact
paths (every path is checked before anything is sent); :func:`run_transfers` runs one transfer
inline and more of them on a small thread pool.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mltrail.artifacts.paths import canonical_relpath
from mltrail.errors import InvalidArgumentError

__all__ = ["file_upload_path", "run_transfers", "tree_upload_plan", "walk_files"]


def walk_files(local_dir: str) -> Iterator[tuple[str, str]]:
    """Every file below ``local_dir``, in sorted order.

    Args:
        local_dir: An existing local directory.

    Yields:
        ``(path, relative)``: the file's path and its ``/``-separated path relative to ``local_dir``.

    Raises:
        InvalidArgumentError: ``local_dir`` is not a directory.
    """
    if not os.path.isdir(local_dir):
        raise InvalidArgumentError(f"Not a directory: {local_dir!r}")
    for root, dirs, files in os.walk(local_dir):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            yield full, os.path.relpath(full, local_dir).replace(os.sep, "/")


def file_upload_path(local_file: str, artifact_path: str | None) -> str:
    """The artifact path that uploading ``local_file`` into the directory ``artifact_path`` writes.

    Args:
        local_file: An existing local file.
        artifact_path: The destination directory below the root (None for the root).

    Returns:
        The canonical ``<artifact_path>/<basename>``.

    Raises:
        InvalidArgumentError: ``artifact_path`` or the file name is unsafe, or ``local_file`` is
            not a file.
    """
    rel_dir = canonical_relpath(artifact_path)
    if not os.path.isfile(local_file):
        raise InvalidArgumentError(f"Not a file: {local_file!r}")
    return canonical_relpath(posixpath.join(rel_dir, os.path.basename(local_file)))


def tree_upload_plan(local_dir: str, artifact_path: str | None) -> list[tuple[str, str]]:
    """Every file below ``local_dir`` with the artifact path it is uploaded to.

    Args:
        local_dir: An existing local directory.
        artifact_path: The destination directory below the root (None for the root).

    Returns:
        ``(absolute local path, canonical artifact path)`` pairs, in sorted order.

    Raises:
        InvalidArgumentError: ``artifact_path`` or a file's path is unsafe, or ``local_dir`` is
            not a directory.
    """
    rel_dir = canonical_relpath(artifact_path)
    return [
        (local, canonical_relpath(posixpath.join(rel_dir, sub)))
        for local, sub in walk_files(os.path.abspath(local_dir))
    ]


def run_transfers(
    transfer: Callable[..., object], jobs: Sequence[tuple[Any, ...]], max_parallel: int
) -> None:
    """Call ``transfer(*job)`` for every job: one job inline, more on up to ``max_parallel`` threads.

    Args:
        transfer: Moves one file.
        jobs: The arguments of each call.
        max_parallel: The most calls that run at once.

    Raises:
        Exception: the first failure in job order, after every other call has run.
    """
    if len(jobs) <= 1:
        for job in jobs:
            transfer(*job)
        return
    with ThreadPoolExecutor(max_workers=min(max_parallel, len(jobs))) as pool:
        for future in [pool.submit(transfer, *job) for job in jobs]:
            future.result()
