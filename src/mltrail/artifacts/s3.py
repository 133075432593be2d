"""Artifacts in Amazon S3 or any S3-compatible object store (MinIO, SeaweedFS, Ceph, R2).

``S3ArtifactRepository`` is bound to an ``s3://bucket/prefix`` root. It signs with SigV4, moves
big files with boto3's managed multipart transfers, streams reads and writes, and turns botocore
failures into the mltrail error tree at this boundary (a missing key is ``NotFoundError``,
anything else ``BackendError``). boto3 is imported only when a repository first talks to S3.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import tempfile
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from mltrail.artifacts._progress import DEFAULT_PROGRESS_THRESHOLD, ProgressCallback, transfer_progress
from mltrail.artifacts._transfers import file_upload_path, run_transfers, tree_upload_plan
from mltrail.artifacts.base import DEFAULT_CHUNK_SIZE, ArtifactRepository, FileInfo
from mltrail.artifacts.paths import canonical_file_relpath, canonical_relpath
from mltrail.config import Settings
from mltrail.errors import (
    BackendError,
    InvalidArgumentError,
    MissingDependencyError,
    MltrailError,
    NotFoundError,
)

__all__ = ["S3ArtifactRepository", "parse_s3_uri"]

_MIB = 1024 * 1024
# S3's DeleteObjects accepts at most this many keys per request.
_DELETE_BATCH = 1000
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchBucket"})
_MAX_PARALLEL_FILES = 8


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/some/prefix`` into ``("bucket", "some/prefix")``.

    Args:
        uri: An ``s3://`` (or ``s3a://``/``s3n://``) URI.

    Returns:
        The bucket and the canonical key prefix (``""`` for the bucket root).

    Raises:
        InvalidArgumentError: not an S3 URI, no bucket, or an unsafe prefix.
    """
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("s3", "s3a", "s3n"):
        raise InvalidArgumentError(f"Not an S3 URI: {uri!r}")
    if not parts.netloc:
        raise InvalidArgumentError(f"S3 URI without a bucket: {uri!r}")
    if parts.query or parts.fragment:
        raise InvalidArgumentError(f"S3 URI must not carry a query or fragment: {uri!r}")
    return parts.netloc, canonical_relpath(parts.path.lstrip("/"))


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise MissingDependencyError("boto3", "s3") from exc
    return boto3


def _translate(exc: Exception, what: str) -> MltrailError:
    """Map a boto3/botocore exception onto the error tree."""
    from botocore.exceptions import ClientError

    cause: BaseException = exc
    # boto3's transfer manager wraps the ClientError it got.
    if not isinstance(cause, ClientError) and isinstance(exc.__cause__, ClientError):
        cause = exc.__cause__
    if isinstance(cause, ClientError):
        error = cause.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _NOT_FOUND_CODES or status == 404:
            kind = "bucket" if code == "NoSuchBucket" else "artifact"
            return NotFoundError(f"No such {kind}: {what}")
        return BackendError(f"S3 request failed for {what}: {code or status}: {error.get('Message', '')}")
    return BackendError(f"S3 request failed for {what}: {exc}")


class _CountingReader:
    """A read-only file-like wrapper that counts the bytes read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


class S3ArtifactRepository(ArtifactRepository):
    """Files below ``s3://bucket/prefix``.

    The endpoint comes from ``settings.s3_endpoint_url`` (``MLTRAIL_S3_ENDPOINT_URL``,
    ``AWS_ENDPOINT_URL`` or ``MLFLOW_S3_ENDPOINT_URL``; AWS itself when unset); credentials and
    region come from boto3's usual chain. No network traffic happens until the first call.

    Args:
        artifact_uri: The ``s3://bucket/prefix`` root.
        tracking_uri: Unused; accepted so every repository is built the same way.
        settings: Configuration (read from the environment when None).

    Attributes:
        multipart_threshold: Files at least this big are sent in parts.
        multipart_chunksize: Size of each part.
        max_concurrency: Parallel part transfers per file.
        show_progress: True forces progress bars for big files, False hides them, None shows
            them on a terminal.
        progress_threshold: Files of at most this many bytes never get a progress bar.
    """

    multipart_threshold: int = 16 * _MIB
    multipart_chunksize: int = 16 * _MIB
    max_concurrency: int = 8
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
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)
        self._settings = settings if settings is not None else Settings()
        self._client_lock = threading.Lock()
        self._client: Any = None

    # -- plumbing -------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 S3 client of this repository, created on first use."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        boto3 = _import_boto3()
        from botocore.config import Config

        endpoint = self._settings.s3_endpoint_url
        s3_options: dict[str, Any] = {}
        if endpoint:
            # Custom endpoints (IP addresses, localhost, private DNS) rarely resolve
            # bucket-named subdomains.
            s3_options["addressing_style"] = "path"
        config = Config(
            signature_version="s3v4",
            s3=s3_options,
            retries={"mode": "standard", "max_attempts": self._settings.http_max_retries + 1},
            connect_timeout=self._settings.http_timeout,
            read_timeout=self._settings.http_timeout,
            max_pool_connections=max(10, self.max_concurrency * 2),
        )
        session = boto3.session.Session()
        return session.client("s3", endpoint_url=endpoint or None, config=config)

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
            use_threads=True,
        )

    def _key(self, rel: str) -> str:
        if not rel:
            return self.prefix
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def _dir_prefix(self, rel: str) -> str:
        """The key prefix of everything below the directory ``rel`` (with a trailing slash)."""
        key = self._key(rel)
        return f"{key}/" if key else ""

    def _where(self, rel: str) -> str:
        return f"s3://{self.bucket}/{self._key(rel)}"

    @contextmanager
    def _errors(self, rel: str) -> Iterator[None]:
        """Turn boto3/botocore failures inside the block into mltrail errors."""
        boto3 = _import_boto3()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (ClientError, BotoCoreError, boto3.exceptions.Boto3Error) as exc:
            raise _translate(exc, self._where(rel)) from exc

    def _progress(self, size: int | None, rel: str) -> AbstractContextManager[ProgressCallback]:
        return transfer_progress(
            size, posixpath.basename(rel), enabled=self.show_progress, threshold=self.progress_threshold
        )

    def _iter_keys(self, prefix: str) -> Iterator[tuple[str, int]]:
        """Every (key, size) below ``prefix``, page by page."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"], int(obj["Size"])

    # -- writes ---------------------------------------------------------------------------

    def _upload_file(self, local_file: str, rel: str) -> None:
        size = os.path.getsize(local_file)
        extra: dict[str, str] = {}
        content_type, _ = mimetypes.guess_type(rel)
        if content_type:
            extra["ContentType"] = content_type
        with (
            self._progress(size, rel) as advance,
            self._errors(rel),
        ):
            self.client.upload_file(
                local_file,
                self.bucket,
                self._key(rel),
                ExtraArgs=extra or None,
                Config=self._transfer_config(),
                Callback=advance,
            )

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Upload one local file to ``<root>/<artifact_path>/<basename>`` (overwriting).

        Raises:
            InvalidArgumentError: ``artifact_path`` or the file name is not a safe relative path.
            BackendError: S3 refused or failed the upload.
        """
        self._upload_file(local_file, file_upload_path(local_file, artifact_path))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload a directory tree to ``<root>/<artifact_path>/``, several files at a time.

        Raises:
            InvalidArgumentError: a path is not a safe relative path (checked before any upload).
            BackendError: S3 refused or failed an upload.
        """
        run_transfers(self._upload_file, tree_upload_plan(local_dir, artifact_path), _MAX_PARALLEL_FILES)

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        """Upload a file from a binary stream (multipart when big), overwriting.

        Returns:
            The number of bytes written.

        Raises:
            InvalidArgumentError: ``artifact_path`` is empty or unsafe.
            BackendError: S3 refused or failed the upload.
        """
        rel = canonical_file_relpath(artifact_path)
        reader = _CountingReader(stream)
        with self._errors(rel):
            self.client.upload_fileobj(reader, self.bucket, self._key(rel), Config=self._transfer_config())
        return reader.count

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a whole tree (the root if None) in batches; missing paths are ignored.

        Raises:
            InvalidArgumentError: ``artifact_path`` is unsafe.
            BackendError: S3 refused a deletion.
        """
        rel = canonical_relpath(artifact_path)
        top = self._dir_prefix(rel)
        with self._errors(rel):
            keys = [key for key, _size in self._iter_keys(top)]
            if rel or self.prefix:
                keys.append(self._key(rel))
            keys.extend(_folder_keys(keys, top))
            for start in range(0, len(keys), _DELETE_BATCH):
                batch = keys[start : start + _DELETE_BATCH]
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
                failed = [e for e in response.get("Errors", []) if e.get("Code") != "NoSuchKey"]
                if failed:
                    first = failed[0]
                    raise BackendError(
                        f"S3 refused to delete {len(failed)} object(s) under {self._where(rel)}: "
                        f"{first.get('Key')}: {first.get('Code')} {first.get('Message', '')}"
                    )

    # -- reads ----------------------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Immediate children of ``path`` (root if None), sorted; paths include ``path``.

        Returns:
            The entries; empty for a missing directory or a file.

        Raises:
            InvalidArgumentError: ``path`` is unsafe.
            BackendError: S3 failed the listing.
        """
        rel = canonical_relpath(path)
        prefix = self._dir_prefix(rel)
        infos: dict[str, FileInfo] = {}
        with self._errors(rel):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix) :].rstrip("/")
                    if name:
                        child = posixpath.join(rel, name)
                        infos[child] = FileInfo(child, True, None)
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(prefix) :]
                    # An empty name is a "folder marker" object some tools create.
                    if name:
                        child = posixpath.join(rel, name)
                        infos.setdefault(child, FileInfo(child, False, int(obj["Size"])))
        return [infos[key] for key in sorted(infos)]

    def _file_size(self, rel: str) -> int | None:
        """The size of the object at ``rel``, or None when there is none."""
        try:
            with self._errors(rel):
                head = self.client.head_object(Bucket=self.bucket, Key=self._key(rel))
        except NotFoundError:
            return None
        return int(head.get("ContentLength", 0))

    def _download_file(self, key: str, rel: str, local_path: str, size: int | None) -> None:
        os.makedirs(os.path.dirname(local_path), exist_ok=True)
        with (
            self._progress(size, rel) as advance,
            self._errors(rel),
        ):
            self.client.download_file(
                self.bucket, key, local_path, Config=self._transfer_config(), Callback=advance
            )

    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        """Download a file or a directory tree to ``dst_path/<artifact_path>``.

        Args:
            artifact_path: What to download (the whole root when empty).
            dst_path: An existing local directory (a new temporary one when None).

        Returns:
            The local path of the downloaded file or directory.

        Raises:
            NotFoundError: nothing exists at ``artifact_path``.
            InvalidArgumentError: ``artifact_path`` (or a key found below it) is unsafe.
            BackendError: S3 failed a request.
        """
        rel = canonical_relpath(artifact_path)
        dst_root = os.path.abspath(dst_path) if dst_path is not None else tempfile.mkdtemp()
        local_target = os.path.join(dst_root, *rel.split("/")) if rel else dst_root
        if rel and (size := self._file_size(rel)) is not None:
            self._download_file(self._key(rel), rel, local_target, size)
            return local_target
        prefix = self._dir_prefix(rel)
        with self._errors(rel):
            objects = list(self._iter_keys(prefix))
        downloads: list[tuple[str, str, str, int]] = []
        for key, size in objects:
            sub = key[len(prefix) :]
            if not sub or sub.endswith("/"):
                continue  # folder markers
            sub_rel = canonical_relpath(sub)
            local = os.path.join(local_target, *sub_rel.split("/"))
            downloads.append((key, posixpath.join(rel, sub_rel), local, size))
        if not downloads and rel:
            raise NotFoundError(f"No such artifact: {self._where(rel)}")
        os.makedirs(local_target, exist_ok=True)
        run_transfers(self._download_file, downloads, _MAX_PARALLEL_FILES)
        return local_target

    def open_chunks(self, artifact_path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """Stream one object's bytes; the object is opened before this returns.

        Raises:
            NotFoundError: no object at ``artifact_path``.
            InvalidArgumentError: ``artifact_path`` is empty or unsafe.
            BackendError: S3 failed the request.
        """
        rel = canonical_file_relpath(artifact_path)
        with self._errors(rel):
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(rel))
        return self._iter_body(response["Body"], rel, chunk_size)

    def _iter_body(self, body: Any, rel: str, chunk_size: int) -> Iterator[bytes]:
        try:
            with self._errors(rel):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()


def _folder_keys(keys: list[str], top: str) -> list[str]:
    """The ``dir/`` keys from ``top`` down to the deepest folder of ``keys``, deepest first.

    Stores that keep real directories (SeaweedFS's filer) list an emptied directory until its
    ``dir/`` key is deleted, child before parent; on S3 such keys are folder markers or absent.
    """
    folders: set[str] = {top} if top else set()
    for key in keys:
        if not key.startswith(top):
            continue
        parts = key[len(top) :].split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folders.add(top + "/".join(parts[:depth]) + "/")
    return sorted(folders, key=lambda folder: (-folder.count("/"), folder))
