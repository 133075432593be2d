"""The artifact repository contract.

An ``ArtifactRepository`` is bound to one root URI (a run's or a logged model's artifact URI)
and reads and writes files below it. Every relative path a caller passes goes through
:func:`mltrail.artifacts.paths.canonical_relpath` so nothing can escape the root.
Implementations: ``LocalArtifactRepository`` (a directory), ``S3ArtifactRepository``,
``HttpArtifactRepository`` (a server's artifact proxy).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["DEFAULT_CHUNK_SIZE", "ArtifactRepository", "FileInfo"]

DEFAULT_CHUNK_SIZE = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One entry of a listing: ``path`` relative to the repository root, ``file_size`` None for dirs."""

    path: str
    is_dir: bool
    file_size: int | None = None


class ArtifactRepository(ABC):
    """Files below one root URI.

    Args:
        artifact_uri: The root this repository reads and writes under.
    """

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    @abstractmethod
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Copy a local file to ``<root>/<artifact_path>/<basename>`` (overwriting)."""

    @abstractmethod
    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a local directory's contents, recursively, to ``<root>/<artifact_path>/``."""

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Immediate children of ``path`` (root if None), sorted by path; paths are relative to
        the root and include ``path``. A missing directory or a file yields an empty list."""

    @abstractmethod
    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        """Download a file or a directory tree to ``dst_path`` (a new temp dir if None).

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            NotFoundError: nothing exists at ``artifact_path``.
        """

    @abstractmethod
    def open_chunks(self, artifact_path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream one file's bytes without reading it whole. Missing file: ``NotFoundError``."""

    @abstractmethod
    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """Write a file from a binary stream, chunk by chunk (overwriting). Returns bytes written."""

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree (the whole root if None); missing paths are ignored."""
