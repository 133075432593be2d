"""``LocalArtifactRepository``: artifacts in a directory of the local filesystem.

Serves ``file:`` URIs and plain paths. Writes are atomic (a temp file in the target directory,
then ``os.replace``) so readers never see half a file, and every path is checked, after
resolving symlinks, to stay inside the root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from mltrail.artifacts.base import DEFAULT_CHUNK_SIZE, ArtifactRepository, FileInfo
from mltrail.artifacts.paths import canonical_relpath, local_path_from_uri
from mltrail.config import Settings
from mltrail.errors import BackendError, InvalidArgumentError, NotFoundError

__all__ = ["LocalArtifactRepository"]


class LocalArtifactRepository(ArtifactRepository):
    """Files below a local directory.

    Args:
        artifact_uri: ``file:///abs/dir`` or a plain path; relative paths are made absolute.
        tracking_uri: Unused; accepted so every repository is built the same way.
        settings: Unused; accepted so every repository is built the same way.
    """

    def __init__(
        self,
        artifact_uri: str,
        *,
        tracking_uri: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(artifact_uri)
        self.root = local_path_from_uri(artifact_uri)

    # -- path handling -----------------------------------------------------------------------

    def _resolve(self, relpath: str | None) -> tuple[str, str]:
        """Return ``(canonical relpath, absolute local path)`` or raise if it leaves the root."""
        rel = canonical_relpath(relpath)
        target = os.path.join(self.root, *rel.split("/")) if rel else self.root
        real_root = os.path.realpath(self.root)
        real_target = os.path.realpath(target)
        if real_target != real_root and not real_target.startswith(real_root + os.sep):
            raise InvalidArgumentError(f"Invalid path {relpath!r}: it resolves outside the artifact root")
        return rel, target

    @staticmethod
    def _join_rel(base: str, name: str) -> str:
        return f"{base}/{name}" if base else name

    def _atomic_write(self, target: str, chunks: Iterator[bytes]) -> int:
        directory = os.path.dirname(target)
        try:
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
        except OSError as exc:
            raise BackendError(f"Cannot write artifact {target!r}: {exc}") from exc
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
            os.replace(tmp, target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if isinstance(exc, OSError):
                raise BackendError(f"Cannot write artifact {target!r}: {exc}") from exc
            raise
        return written

    @staticmethod
    def _file_chunks(path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        with open(path, "rb") as src:
            while chunk := src.read(chunk_size):
                yield chunk

    # -- ArtifactRepository ------------------------------------------------------------------

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Copy a local file to ``<root>/<artifact_path>/<basename>`` (overwriting)."""
        if not os.path.isfile(local_file):
            raise InvalidArgumentError(f"Not a file: {local_file!r}")
        base = canonical_relpath(artifact_path)
        _, target = self._resolve(self._join_rel(base, os.path.basename(local_file)))
        self._atomic_write(target, self._file_chunks(local_file))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Copy a local directory's contents, recursively, to ``<root>/<artifact_path>/``."""
        if not os.path.isdir(local_dir):
            raise InvalidArgumentError(f"Not a directory: {local_dir!r}")
        base = canonical_relpath(artifact_path)
        self._resolve(base)
        for dirpath, dirnames, filenames in os.walk(local_dir):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
            rel_dir = "" if rel_dir == "." else rel_dir
            dest_dir = self._join_rel(base, rel_dir) if rel_dir else base
            _, dest_abs = self._resolve(dest_dir)
            os.makedirs(dest_abs, exist_ok=True)
            for name in sorted(filenames):
                _, target = self._resolve(self._join_rel(dest_dir, name))
                self._atomic_write(target, self._file_chunks(os.path.join(dirpath, name)))

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Immediate children of ``path`` (root if None), sorted by path."""
        rel, target = self._resolve(path)
        if not os.path.isdir(target):
            return []
        infos: list[FileInfo] = []
        with os.scandir(target) as entries:
            for entry in entries:
                if entry.name.startswith(".tmp-") and entry.name.endswith(".part"):
                    continue
                child = self._join_rel(rel, entry.name)
                if entry.is_dir():
                    infos.append(FileInfo(path=child, is_dir=True))
                else:
                    infos.append(FileInfo(path=child, is_dir=False, file_size=entry.stat().st_size))
        infos.sort(key=lambda info: info.path)
        return infos

    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        """Copy a file or directory tree to ``dst_path`` (a new temp dir if None).

        The result keeps the artifact's relative path below ``dst_path``.

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            NotFoundError: nothing exists at ``artifact_path``.
        """
        rel, source = self._resolve(artifact_path)
        if not os.path.exists(source):
            raise NotFoundError(f"No artifact at {rel or '/'!r} under {self.artifact_uri}")
        dst_root = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="mltrail-dl-")
        dest = os.path.join(dst_root, *rel.split("/")) if rel else dst_root
        if os.path.isdir(source):
            self._copy_tree(rel, dest)
        else:
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(source, dest)
        return dest

    def _copy_tree(self, rel: str, dest: str) -> None:
        os.makedirs(dest, exist_ok=True)
        for info in self.list_artifacts(rel):
            name = info.path.rsplit("/", 1)[-1]
            child_dest = os.path.join(dest, name)
            if info.is_dir:
                self._copy_tree(info.path, child_dest)
            else:
                _, source = self._resolve(info.path)
                shutil.copyfile(source, child_dest)

    def open_chunks(self, artifact_path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream one file's bytes. Missing file (or a directory): ``NotFoundError``."""
        rel, source = self._resolve(artifact_path)
        if not os.path.isfile(source):
            raise NotFoundError(f"No artifact file at {rel!r} under {self.artifact_uri}")
        handle = open(source, "rb")  # noqa: SIM115 - closed by the generator below
        return self._stream(handle, chunk_size)

    @staticmethod
    def _stream(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """Write a file from a binary stream, chunk by chunk (overwriting). Returns bytes written."""
        rel, target = self._resolve(artifact_path)
        if not rel:
            raise InvalidArgumentError("Invalid path '': a file name is required")

        def chunks() -> Iterator[bytes]:
            while chunk := stream.read(DEFAULT_CHUNK_SIZE):
                yield chunk

        return self._atomic_write(target, chunks())

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree (the whole root if None); missing paths are ignored."""
        _, target = self._resolve(artifact_path)
        try:
            if os.path.islink(target) or os.path.isfile(target):
                os.unlink(target)
            elif os.path.isdir(target):
                shutil.rmtree(target)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise BackendError(f"Cannot delete artifact {target!r}: {exc}") from exc
