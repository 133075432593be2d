"""Removal of what deleted traces kept in the artifact store: attachments, older clients' spans.

Deleting traces removes their rows in one transaction; their artifact folders go right after,
through whatever reaches the artifact store (the server's proxy destination, or the repository
of the location itself in local mode). Only a folder of the form ``<root>/traces/<trace id>``
is ever removed, and only for the trace of that id, so a location tag set by hand to point at
something else removes nothing. A folder that cannot be removed is reported and logged; the
traces stay deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from mltrail.artifacts.base import ArtifactRepository
from mltrail.errors import MltrailError

__all__ = ["remove_trace_artifacts", "trace_folder"]

_logger = logging.getLogger(__name__)

Resolver = Callable[[str], tuple[ArtifactRepository, str]]
"""Maps a folder URI to the repository holding it and the folder's path in that repository."""


def trace_folder(trace_id: str, location: str) -> str | None:
    """The folder trace ``trace_id`` owns, from its ``mlflow.artifactLocation``, or None.

    ``<root>/traces/<trace_id>/artifacts`` gives ``<root>/traces/<trace_id>``; any other form
    gives None.
    """
    parts = location.rstrip("/").rsplit("/", 3)
    if len(parts) != 4 or parts[1:] != ["traces", trace_id, "artifacts"] or not trace_id:
        return None
    return f"{parts[0]}/traces/{trace_id}"


def remove_trace_artifacts(locations: Iterable[tuple[str, str]], resolve: Resolver) -> list[str]:
    """Remove the artifact folders of deleted traces.

    Args:
        locations: ``(trace_id, mlflow.artifactLocation)`` pairs of the deleted traces.
        resolve: Reaches a folder URI (see :data:`Resolver`); may raise an
            :class:`~mltrail.errors.MltrailError` for a location it must not touch.

    Returns:
        One message per folder that could not be removed (each is logged as a warning too).
    """
    failures: list[str] = []
    for trace_id, location in locations:
        folder = trace_folder(trace_id, location)
        if folder is None:
            _logger.warning("Not removing %r of trace %s: not a trace artifact folder", location, trace_id)
            continue
        try:
            repository, path = resolve(folder)
            repository.delete_artifacts(path or None)
        except (MltrailError, OSError) as exc:
            message = f"artifacts of trace {trace_id} at {folder} not removed: {exc}"
            _logger.warning("%s", message)
            failures.append(message)
    return failures
