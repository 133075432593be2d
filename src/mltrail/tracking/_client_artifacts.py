"""Artifact methods of :class:`~mltrail.tracking.client.TrackingClient`, kept in their own module.

Files, trees, text, dicts, figures, images and tables of a run; the bytes go through the run's
artifact repository (see ``_run_artifacts``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mltrail._utils import now_ms
from mltrail.artifacts.base import FileInfo
from mltrail.errors import InvalidArgumentError
from mltrail.tracking import context
from mltrail.tracking._run_artifacts import RunArtifacts

__all__ = ["ArtifactMethods"]


class ArtifactMethods:
    """The artifact half of ``TrackingClient``; the client supplies the run access below."""

    _artifacts: RunArtifacts

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set a run tag (implemented by the client)."""
        raise NotImplementedError

    def _run_tags(self, run_id: str) -> Mapping[str, str]:
        raise NotImplementedError

    # -- artifacts ---------------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """Upload a local file to ``<run artifacts>/<artifact_path>/<basename>``.

        Raises:
            InvalidArgumentError: an unsafe ``artifact_path`` or a missing file.
        """
        self._artifacts.log_artifact(run_id, local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload a local directory tree to ``<run artifacts>/<artifact_path>/``.

        Raises:
            InvalidArgumentError: an unsafe ``artifact_path`` or a missing directory.
        """
        self._artifacts.log_artifacts(run_id, local_dir, artifact_path)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """List the immediate children of ``path`` in the run's artifacts.

        Returns:
            Entries sorted by path (relative to the run's artifact root).
        """
        return self._artifacts.list_artifacts(run_id, path)

    def download_artifacts(self, run_id: str, path: str = "", dst_path: str | None = None) -> str:
        """Download a file or directory of the run's artifacts.

        Args:
            run_id: The run.
            path: Relative artifact path (``""`` for everything).
            dst_path: Local destination directory (a new temp dir if None).

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            NotFoundError: nothing exists at ``path``.
        """
        return self._artifacts.download_artifacts(run_id, path, dst_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write text as a UTF-8 artifact file (e.g. ``notes/summary.txt``)."""
        self._artifacts.log_text(run_id, text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Write a JSON-serialisable object: YAML for ``.yaml``/``.yml``, else JSON."""
        self._artifacts.log_dict(run_id, dictionary, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Save a matplotlib figure; the format comes from the extension (``.png``, ``.svg``...).

        Raises:
            InvalidArgumentError: unknown extension or not a figure.
        """
        self._artifacts.log_figure(run_id, figure, artifact_file)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        """Save an image (numpy uint8/float/bool array or PIL image) as PNG.

        Either ``artifact_file`` names the file, or ``key`` (with ``step`` and ``timestamp``)
        logs one image of a series under ``images/`` and marks the run with
        ``mlflow.loggedImages``.

        Raises:
            InvalidArgumentError: both or neither of ``artifact_file``/``key``; a bad image.
        """
        if artifact_file is not None:
            if key is not None or step is not None or timestamp is not None:
                raise InvalidArgumentError("Pass either artifact_file, or key with step/timestamp, not both")
            self._artifacts.log_image_file(run_id, image, artifact_file)
            return
        if key is None:
            raise InvalidArgumentError("log_image needs artifact_file or key")
        ts = now_ms() if timestamp is None else int(timestamp)
        self._artifacts.log_image_step(run_id, image, key, int(step or 0), ts)
        self.set_tag(run_id, context.TAG_LOGGED_IMAGES, "True")

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Save a table as JSON ``{"columns": [...], "data": [[...], ...]}``.

        Logging to an existing table file appends the rows (columns are merged). The run's
        ``mlflow.loggedArtifacts`` tag lists the table.

        Args:
            run_id: The run.
            data: A pandas DataFrame or a dict of columns.
            artifact_file: A ``.json`` name.

        Raises:
            InvalidArgumentError: a bad name or an unsupported table.
        """
        self._artifacts.log_table(run_id, data, artifact_file)
        self._mark_logged_artifact(run_id, artifact_file, "table")

    def _mark_logged_artifact(self, run_id: str, path: str, kind: str) -> None:
        current = self._run_tags(run_id).get(context.TAG_LOGGED_ARTIFACTS, "[]")
        try:
            entries = json.loads(current)
        except ValueError:
            entries = []
        entry = {"path": path, "type": kind}
        if entry not in entries:
            entries.append(entry)
            self.set_tag(run_id, context.TAG_LOGGED_ARTIFACTS, json.dumps(entries))
