"""Artifact operations of runs: the repository of each run, and text, dict, figure, image and
table logging on top of it. ``TrackingClient`` delegates its artifact methods here.
"""

from __future__ import annotations

import collections
import io
import json
import posixpath
import threading
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from mltrail._plugins import resolve_artifact_repository
from mltrail.artifacts.base import ArtifactRepository, FileInfo
from mltrail.artifacts.paths import canonical_relpath
from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking import media

__all__ = ["RunArtifacts"]

_REPO_CACHE_SIZE = 256
_TABLE_FORBIDDEN = frozenset("\"',:[]{}")


class RunArtifacts:
    """Per-run artifact repositories (cached) and the typed ``log_*`` helpers.

    Args:
        artifact_uri_of: Returns a run's artifact URI (one store read per run, then cached).
        tracking_uri: Passed to repositories (``mlflow-artifacts:`` roots resolve against it).
        settings: Passed to repositories.
    """

    def __init__(self, artifact_uri_of: Callable[[str], str], tracking_uri: str, settings: Settings) -> None:
        self._artifact_uri_of = artifact_uri_of
        self._tracking_uri = tracking_uri
        self._settings = settings
        self._repos: collections.OrderedDict[str, ArtifactRepository] = collections.OrderedDict()
        self._lock = threading.Lock()

    def repository(self, run_id: str) -> ArtifactRepository:
        """The repository rooted at the run's artifact URI."""
        with self._lock:
            repo = self._repos.get(run_id)
            if repo is not None:
                self._repos.move_to_end(run_id)
                return repo
        repo = resolve_artifact_repository(
            self._artifact_uri_of(run_id), tracking_uri=self._tracking_uri, settings=self._settings
        )
        with self._lock:
            self._repos[run_id] = repo
            while len(self._repos) > _REPO_CACHE_SIZE:
                self._repos.popitem(last=False)
        return repo

    def write_bytes(self, run_id: str, artifact_file: str, data: bytes) -> None:
        """Write ``data`` as the file ``artifact_file`` of the run."""
        rel = canonical_relpath(artifact_file)
        if not rel:
            raise InvalidArgumentError("Invalid path '': an artifact file name is required")
        self.repository(run_id).write_stream(rel, io.BytesIO(data))

    def read_bytes(self, run_id: str, artifact_file: str) -> bytes:
        """Read a whole artifact file. Missing: ``NotFoundError``."""
        return b"".join(self.repository(run_id).open_chunks(canonical_relpath(artifact_file)))

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None) -> None:
        """Upload one local file."""
        self.repository(run_id).log_artifact(local_path, canonical_relpath(artifact_path) or None)

    def log_artifacts(self, run_id: str, local_dir: str, artifact_path: str | None) -> None:
        """Upload a local directory tree."""
        self.repository(run_id).log_artifacts(local_dir, canonical_relpath(artifact_path) or None)

    def list_artifacts(self, run_id: str, path: str | None) -> list[FileInfo]:
        """Immediate children of ``path``."""
        return self.repository(run_id).list_artifacts(canonical_relpath(path) or None)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None) -> str:
        """Download a file or tree; returns its local path."""
        return self.repository(run_id).download_artifacts(canonical_relpath(path), dst_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write text as UTF-8."""
        self.write_bytes(run_id, artifact_file, text.encode("utf-8"))

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Write JSON, or YAML for ``.yaml``/``.yml`` names."""
        ext = posixpath.splitext(artifact_file)[1].lower()
        if ext in (".yaml", ".yml"):
            text = yaml.safe_dump(dictionary, default_flow_style=False, sort_keys=False)
        else:
            text = json.dumps(dictionary, indent=2)
        self.log_text(run_id, text, artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> None:
        """Render and write a matplotlib figure."""
        self.write_bytes(run_id, artifact_file, media.figure_to_bytes(figure, artifact_file))

    def log_image_file(self, run_id: str, image: Any, artifact_file: str) -> None:
        """Write an image as PNG to a fixed name."""
        self.write_bytes(run_id, artifact_file, media.image_to_png_bytes(image))

    def log_image_step(self, run_id: str, image: Any, key: str, step: int, timestamp: int) -> str:
        """Write an image logged by key and step (plus its preview); returns the PNG's path."""
        png_path, preview_path = media.image_key_paths(key, step, timestamp)
        self.write_bytes(run_id, png_path, media.image_to_png_bytes(image))
        self.write_bytes(run_id, preview_path, media.image_thumbnail_bytes(image))
        return png_path

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Write a table as split-form JSON, appending to an existing table of that name."""
        bad = sorted(set(artifact_file) & _TABLE_FORBIDDEN)
        if bad:
            raise InvalidArgumentError(f"Invalid table file {artifact_file!r}: forbidden characters {bad}")
        if not artifact_file.endswith(".json"):
            raise InvalidArgumentError(f"Invalid table file {artifact_file!r}: the name must end in '.json'")
        table = media.table_from_data(data)
        try:
            existing: Mapping[str, Any] | None = json.loads(self.read_bytes(run_id, artifact_file))
        except NotFoundError:
            existing = None
        if existing is not None:
            if not (isinstance(existing, dict) and isinstance(existing.get("columns"), list)):
                raise InvalidArgumentError(f"Artifact {artifact_file!r} exists and is not a table")
            table = media.merge_tables(existing, table)
        self.write_bytes(run_id, artifact_file, media.table_to_json_bytes(table))
