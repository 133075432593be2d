"""Artifacts behind a tracking server's artifact proxy (``mlflow-artifacts:`` and HTTP roots).

``HttpArtifactRepository`` speaks the proxy protocol of ``/api/2.0/mlflow-artifacts/artifacts``:
PUT streams a file's raw bytes, GET streams them back to disk in 1 MiB chunks, ``?path=`` lists
a directory's immediate children, DELETE removes a file or a tree. ``mlflow-artifacts:`` roots
are resolved against the tracking URI as MLflow clients do; error bodies become mltrail errors.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import posixpath
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import IO, Any, BinaryIO
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import requests

from mltrail._http import STATUS_ERRORS, create_session, error_body, json_or_none
from mltrail.artifacts._progress import DEFAULT_PROGRESS_THRESHOLD, ProgressCallback, transfer_progress
from mltrail.artifacts._transfers import file_upload_path, run_transfers, tree_upload_plan
from mltrail.artifacts.base import DEFAULT_CHUNK_SIZE, ArtifactRepository, FileInfo
from mltrail.artifacts.paths import canonical_file_relpath, canonical_relpath
from mltrail.config import Settings
from mltrail.errors import (
    BackendError,
    InternalError,
    InvalidArgumentError,
    MltrailError,
    NotFoundError,
)

__all__ = ["ARTIFACTS_SERVICE_PATH", "HttpArtifactRepository", "resolve_artifact_service_uri"]

ARTIFACTS_SERVICE_PATH = "/api/2.0/mlflow-artifacts/artifacts"
_SPOOL_MEMORY = 8 * 1024 * 1024
_MAX_PARALLEL_FILES = 4
# On the proxy a plain 404 means a missing file, not a missing route, and a 400 a rejected path.
_STATUS_TO_ERROR: dict[int, type[MltrailError]] = {
    **STATUS_ERRORS,
    400: InvalidArgumentError,
    404: NotFoundError,
}


def _strip_credentials(netloc: str) -> str:
    return netloc.rpartition("@")[2]


def resolve_artifact_service_uri(artifact_uri: str, tracking_uri: str | None) -> str:
    """Turn an artifact root into the full HTTP URL of that root on an artifact proxy.

    ``mlflow-artifacts:/<p>`` becomes ``<tracking scheme>://<tracking host><tracking path>
    /api/2.0/mlflow-artifacts/artifacts/<p>``; ``mlflow-artifacts://<host:port>/<p>`` takes that
    host instead; ``http(s)://`` URLs that contain the service path are used as they are.

    Args:
        artifact_uri: The artifact root (a run's or a model's ``artifact_uri``).
        tracking_uri: The ``http(s)`` URI of the tracking server (needed for
            ``mlflow-artifacts:`` roots).

    Returns:
        The URL of the root, without a trailing slash.

    Raises:
        InvalidArgumentError: the root or the tracking URI cannot name an artifact proxy.
    """
    parts = urlsplit(artifact_uri)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if ARTIFACTS_SERVICE_PATH not in parts.path:
            raise InvalidArgumentError(
                f"HTTP artifact URIs must contain {ARTIFACTS_SERVICE_PATH!r}: "
                f"{urlunsplit((parts.scheme, _strip_credentials(parts.netloc), parts.path, '', ''))!r}"
            )
        return artifact_uri.rstrip("/")
    if scheme != "mlflow-artifacts":
        raise InvalidArgumentError(f"Not an artifact proxy URI: {artifact_uri!r}")
    if parts.netloc and parts.port is None and parts.hostname and parts.hostname.isdigit():
        raise InvalidArgumentError(
            f"The mlflow-artifacts URI names port {parts.hostname} but no host: {artifact_uri!r}"
        )
    track = urlsplit(tracking_uri or "")
    if track.scheme.lower() not in ("http", "https") or not track.netloc:
        shown = urlunsplit((track.scheme, _strip_credentials(track.netloc), track.path, "", ""))
        raise InvalidArgumentError(
            "An mlflow-artifacts: URI needs an http(s) tracking URI naming the server that proxies "
            f"the artifacts, got {shown!r}. Set MLTRAIL_TRACKING_URI (or pass tracking_uri) to "
            "e.g. http://localhost:5000."
        )
    path = "/".join(
        segment
        for segment in (track.path.strip("/"), ARTIFACTS_SERVICE_PATH.strip("/"), parts.path.strip("/"))
        if segment
    )
    path = re.sub(r"/{2,}", "/", "/" + path)
    return urlunsplit((track.scheme, parts.netloc or track.netloc, path, "", ""))


def _error_from_response(response: requests.Response, what: str) -> MltrailError:
    """The mltrail error for a failed proxy response (JSON error body, FastAPI body or text)."""
    body = json_or_none(response)
    found = error_body(body)
    if found is not None:
        return found
    if isinstance(body, dict) and "detail" in body:
        message = str(body["detail"])
    else:
        message = response.text.strip()[:500] or response.reason or ""
    cls = _STATUS_TO_ERROR.get(response.status_code, InternalError)
    return cls(f"Artifact proxy answered {response.status_code} for {what}: {message}")


class _UploadBody:
    """A seekable request body over an open binary file that reports progress as it is read.

    Seekable so that the session's retries can rewind it. ``__len__`` is the offset where the
    body ends: requests subtracts ``tell()`` to get the Content-Length, so nothing is chunked.
    """

    def __init__(self, stream: IO[bytes], end: int, on_read: ProgressCallback) -> None:
        self._stream = stream
        self._end = end
        self._on_read = on_read

    def __len__(self) -> int:
        return self._end

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._on_read(len(data))
        return data

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)


class HttpArtifactRepository(ArtifactRepository):
    """Files below a root on an artifact proxy (``mltrail server`` or ``mlflow server``).

    Args:
        artifact_uri: ``mlflow-artifacts:/<path>``, ``mlflow-artifacts://host:port/<path>`` or
            ``http(s)://host/.../api/2.0/mlflow-artifacts/artifacts/<path>``.
        tracking_uri: The tracking server's ``http(s)`` URI (``settings.tracking_uri`` if None);
            used to resolve ``mlflow-artifacts:`` roots.
        settings: Timeouts, retries and credentials (read from the environment when None).

    Attributes:
        show_progress: True forces progress bars for big files, False hides them, None shows
            them on a terminal.
        progress_threshold: Files of at most this many bytes never get a progress bar.

    Raises:
        InvalidArgumentError: the root cannot be resolved to an artifact proxy URL.
    """

    show_progress: bool | None = None
    progress_threshold: int = DEFAULT_PROGRESS_THRESHOLD

    def __init__(
        self,
        artifact_uri: str,
        *,
        tracking_uri: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__(artifact_uri)
        self._settings = settings if settings is not None else Settings()
        self.tracking_uri = tracking_uri if tracking_uri is not None else self._settings.tracking_uri
        self.root_url = resolve_artifact_service_uri(artifact_uri, self.tracking_uri)
        split = urlsplit(self.root_url)
        base_path, _, root = split.path.partition(ARTIFACTS_SERVICE_PATH)
        self._service_url = urlunsplit(
            (split.scheme, split.netloc, base_path + ARTIFACTS_SERVICE_PATH, "", "")
        )
        self._root = canonical_relpath(unquote(root.strip("/")))
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()
        shown = urlsplit(artifact_uri.rstrip("/"))
        self._shown_root = urlunsplit(shown._replace(netloc=_strip_credentials(shown.netloc)))

    # -- plumbing -------------------------------------------------------------------------

    @property
    def session(self) -> requests.Session:
        """The HTTP session of this repository, created on first use."""
        with self._session_lock:
            if self._session is None:
                self._session = create_session(self._settings)
            return self._session

    def close(self) -> None:
        """Release the pooled connections of this repository."""
        with self._session_lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def _server_path(self, rel: str) -> str:
        """The path below the proxy's destination root of ``rel`` below this repository's root."""
        return "/".join(part for part in (self._root, rel) if part)

    def _file_url(self, rel: str) -> str:
        return f"{self._service_url}/{quote(self._server_path(rel), safe='/')}"

    def _where(self, rel: str) -> str:
        return f"{self._shown_root}/{rel}" if rel else self._shown_root

    def _request(self, method: str, url: str, rel: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise BackendError(f"Artifact proxy request failed for {self._where(rel)}: {exc}") from exc
        if response.status_code >= 400:
            try:
                raise _error_from_response(response, self._where(rel))
            finally:
                response.close()
        return response

    def _progress(self, size: int | None, rel: str) -> AbstractContextManager[ProgressCallback]:
        return transfer_progress(
            size, posixpath.basename(rel), enabled=self.show_progress, threshold=self.progress_threshold
        )

    # -- writes ---------------------------------------------------------------------------

    def _put(self, rel: str, body: _UploadBody, size: int) -> None:
        content_type = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        # requests sends an empty file-like body chunked; an empty bytes body gets Content-Length 0.
        data: _UploadBody | bytes = body if size else b""
        response = self._request(
            "PUT", self._file_url(rel), rel, data=data, headers={"Content-Type": content_type}
        )
        response.close()

    def _upload_file(self, local_file: str, rel: str) -> None:
        size = os.path.getsize(local_file)
        with (
            open(local_file, "rb") as stream,
            self._progress(size, rel) as advance,
        ):
            self._put(rel, _UploadBody(stream, size, advance), size)

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Upload one local file to ``<root>/<artifact_path>/<basename>`` (overwriting).

        Raises:
            InvalidArgumentError: ``artifact_path`` or the file name is unsafe (or the server
                rejected the path).
            BackendError: the server could not be reached or its storage failed.
        """
        self._upload_file(local_file, file_upload_path(local_file, artifact_path))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload a directory tree to ``<root>/<artifact_path>/``, one PUT per file.

        Raises:
            InvalidArgumentError: a path is unsafe (checked before any upload).
            BackendError: the server could not be reached or its storage failed.
        """
        run_transfers(self._upload_file, tree_upload_plan(local_dir, artifact_path), _MAX_PARALLEL_FILES)

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """Upload a file from a binary stream (one PUT), overwriting.

        A stream that cannot seek is spooled to a temporary file first (memory up to 8 MiB),
        so a retried request sends the same bytes again.

        Returns:
            The number of bytes written.

        Raises:
            InvalidArgumentError: ``artifact_path`` is empty or unsafe.
            BackendError: the server could not be reached or its storage failed.
        """
        rel = canonical_file_relpath(artifact_path)
        seekable = getattr(stream, "seekable", None)
        if seekable is not None and seekable():
            start = stream.tell()
            size = stream.seek(0, os.SEEK_END) - start
            stream.seek(start)
            self._put(rel, _UploadBody(stream, start + size, _ignore), size)
            return size
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
            size = 0
            while chunk := stream.read(DEFAULT_CHUNK_SIZE):
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            self._put(rel, _UploadBody(spool, size, _ignore), size)
        return size

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a tree (the whole root if None); missing paths are ignored.

        Raises:
            InvalidArgumentError: ``artifact_path`` is unsafe.
            BackendError: the server could not be reached or its storage failed.
        """
        rel = canonical_relpath(artifact_path)
        if not self._server_path(rel):
            raise InvalidArgumentError("Refusing to delete the whole artifact destination of the server")
        with contextlib.suppress(NotFoundError):
            self._request("DELETE", self._file_url(rel), rel).close()

    # -- reads ----------------------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Immediate children of ``path`` (root if None), sorted; paths include ``path``.

        Returns:
            The entries; empty for a missing directory or a file.

        Raises:
            InvalidArgumentError: ``path`` is unsafe, or the server sent an unsafe name.
            BackendError: the server could not be reached or its storage failed.
        """
        rel = canonical_relpath(path)
        server_path = self._server_path(rel)
        params = {"path": server_path} if server_path else None
        response = self._request("GET", self._service_url, rel, params=params)
        try:
            files = response.json().get("files", [])
        except ValueError as exc:
            raise BackendError(
                f"Artifact proxy sent a listing that is not JSON for {self._where(rel)}"
            ) from exc
        finally:
            response.close()
        infos: list[FileInfo] = []
        for entry in files:
            name = canonical_relpath(str(entry["path"]))
            if not name or "/" in name:
                raise InvalidArgumentError(f"Artifact proxy listed an unexpected entry {entry['path']!r}")
            is_dir = bool(entry.get("is_dir", False))
            # Protobuf JSON omits zero values, so MLflow sends no size for an empty file.
            size = None if is_dir else int(entry.get("file_size") or 0)
            infos.append(FileInfo(posixpath.join(rel, name), is_dir, size))
        # The proxy lists a file path as a one-entry listing of that file.
        if (
            rel
            and len(infos) == 1
            and not infos[0].is_dir
            and infos[0].path == posixpath.join(rel, posixpath.basename(rel))
        ):
            return []
        return sorted(infos, key=lambda info: info.path)

    def _open(self, rel: str) -> requests.Response:
        return self._request("GET", self._file_url(rel), rel, stream=True)

    def _save(self, response: requests.Response, rel: str, local_path: str) -> None:
        """Stream one response body into ``local_path`` through a temporary sibling file."""
        os.makedirs(os.path.dirname(local_path), exist_ok=True)
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(local_path), prefix=".part-")
        try:
            with (
                response,
                os.fdopen(fd, "wb") as out,
                self._progress(size, rel) as advance,
            ):
                for chunk in _iter_response(response, DEFAULT_CHUNK_SIZE, self._where(rel)):
                    out.write(chunk)
                    advance(len(chunk))
            os.replace(tmp, local_path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _download_tree(self, rel: str, local_dir: str) -> list[tuple[str, str]]:
        """Every (file rel, local path) below directory ``rel``, found by recursive listing."""
        found: list[tuple[str, str]] = []
        for info in self.list_artifacts(rel):
            local = os.path.join(local_dir, posixpath.basename(info.path))
            if info.is_dir:
                found.extend(self._download_tree(info.path, local))
            else:
                found.append((info.path, local))
        return found

    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        """Download a file or a directory tree to ``dst_path/<artifact_path>``.

        Args:
            artifact_path: What to download (the whole root when empty).
            dst_path: An existing local directory (a new temporary one when None).

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            NotFoundError: nothing exists at ``artifact_path``.
            InvalidArgumentError: ``artifact_path`` is unsafe.
            BackendError: the server could not be reached or its storage failed.
        """
        rel = canonical_relpath(artifact_path)
        dst_root = os.path.abspath(dst_path) if dst_path is not None else tempfile.mkdtemp()
        local_target = os.path.join(dst_root, *rel.split("/")) if rel else dst_root
        files = self._download_tree(rel, local_target)
        if not files and rel:
            # Not a directory with files: a file, or nothing at all (404 from the GET).
            self._save(self._open(rel), rel, local_target)
            return local_target
        os.makedirs(local_target, exist_ok=True)
        run_transfers(self._fetch, files, _MAX_PARALLEL_FILES)
        return local_target

    def _fetch(self, rel: str, local_path: str) -> None:
        self._save(self._open(rel), rel, local_path)

    def open_chunks(self, artifact_path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream one file's bytes; the request is made (and checked) before this returns.

        Raises:
            NotFoundError: no file at ``artifact_path``.
            InvalidArgumentError: ``artifact_path`` is empty or unsafe, or names a directory.
            BackendError: the server could not be reached or its storage failed.
        """
        rel = canonical_file_relpath(artifact_path)
        return _iter_response(self._open(rel), chunk_size, self._where(rel))


def _ignore(_nbytes: int) -> None:
    return None


def _iter_response(response: requests.Response, chunk_size: int, where: str) -> Iterator[bytes]:
    with response:
        try:
            yield from response.iter_content(chunk_size=chunk_size)
        except requests.RequestException as exc:
            raise BackendError(f"Artifact proxy download of {where} broke off: {exc}") from exc
