"""Reading artifact files for the routes that serve them: open, stream, headers, allowed roots.

Shared by the artifact proxy, the logged-model file helper and the trace-artifact route, so every
download path reads ahead the same way, sends the same headers and refuses roots outside the
server's own artifact locations.
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote

from starlette.concurrency import iterate_in_threadpool

from mltrail._plugins import resolve_artifact_repository
from mltrail.artifacts.base import ArtifactRepository
from mltrail.artifacts.paths import canonical_relpath, is_local_uri, join_uri, local_path_from_uri
from mltrail.errors import InvalidArgumentError, NotFoundError, PermissionDeniedError
from mltrail.server.deps import ServerContext

__all__ = [
    "CHUNK_SIZE",
    "direct_repository",
    "download_headers",
    "file_location",
    "open_file",
    "sniff_media_type",
    "stream_chunks",
]

CHUNK_SIZE = 1024 * 1024


def open_file(repository: ArtifactRepository, rel: str) -> tuple[list[bytes], Iterator[bytes] | None]:
    """Open a file and read ahead up to two chunks, so errors surface before the response starts.

    Returns:
        The chunks read so far and the iterator of the rest (None when the file is fully read).
    """
    try:
        chunks = repository.open_chunks(rel, CHUNK_SIZE)
    except NotFoundError:
        if repository.list_artifacts(rel):
            raise InvalidArgumentError(f"Invalid path {rel!r}: it is a directory, not a file") from None
        raise NotFoundError(f"No such artifact: '{rel}'") from None
    head: list[bytes] = []
    for chunk in chunks:
        head.append(chunk)
        if len(head) == 2:
            return head, chunks
    return head, None


def download_headers(rel: str) -> dict[str, str]:
    """Content type guessed from the name, an attachment disposition, and ``nosniff``."""
    name = rel.rsplit("/", 1)[-1]
    media_type, encoding = mimetypes.guess_type(name)
    if media_type is None or encoding is not None:
        media_type = "application/octet-stream"
    if name.isascii() and '"' not in name:
        disposition = f'attachment; filename="{name}"'
    else:
        disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return {
        "Content-Type": media_type,
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
    }


async def stream_chunks(head: list[bytes], rest: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The file's chunks, read in the threadpool; the file is closed even if the client leaves."""
    try:
        for chunk in head:
            yield chunk
        async for chunk in iterate_in_threadpool(rest):
            yield chunk
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()


def _within(child: str, root: str) -> bool:
    root = root.rstrip("/")
    return child == root or child.startswith(root + "/")


def direct_repository(context: ServerContext, artifact_uri: str) -> ArtifactRepository:
    """A repository for a direct (non-proxied) root, only below the server's own artifact roots."""
    roots = [context.settings.artifacts_destination]
    if context.settings.default_artifact_root:
        roots.append(context.settings.default_artifact_root)
    for root in roots:
        if is_local_uri(root) and is_local_uri(artifact_uri):
            allowed = _within(local_path_from_uri(artifact_uri), local_path_from_uri(root))
        else:
            allowed = not is_local_uri(root) and _within(artifact_uri, root)
        if allowed:
            return resolve_artifact_repository(artifact_uri, settings=context.tracking_settings)
    raise PermissionDeniedError(
        "The server lists artifacts only below its own artifact roots; "
        f"read {artifact_uri!r} directly from the client."
    )


def file_location(context: ServerContext, artifact_uri: str, rel: str) -> tuple[ArtifactRepository, str]:
    """The repository and path holding file ``rel`` below an artifact root.

    A proxied root (``mlflow-artifacts:/...``) is read from the server's destination; any other
    root only when it lies below the server's own artifact roots (:func:`direct_repository`).
    """
    proxied = context.proxied_path(artifact_uri)
    if proxied is None:
        return direct_repository(context, artifact_uri), rel
    return context.destination, canonical_relpath(join_uri(proxied, rel)) if proxied else rel


# Formats a browser shows but never executes, recognised by their leading bytes. Anything else
# stays application/octet-stream, so stored bytes can never become a document on this origin.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (8, b"WAVE", "audio/wav"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"\xff\xfb", "audio/mpeg"),
    (0, b"\xff\xf3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"fLaC", "audio/flac"),
    (4, b"ftyp", "video/mp4"),
    (0, b"%PDF-", "application/pdf"),
)


def sniff_media_type(head: bytes) -> str:
    """The media type of an image, audio, video or PDF file from its first bytes.

    For stored blobs without a trustworthy name (trace attachments): only formats a browser
    displays inline are recognised; everything else is ``application/octet-stream``.
    """
    for offset, magic, media_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            if magic in (b"WEBP", b"WAVE") and not head.startswith(b"RIFF"):
                continue
            return media_type
    return "application/octet-stream"
