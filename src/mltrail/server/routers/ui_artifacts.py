"""The UI's file routes (spec REST-ARTIFACTS §3, UI helpers): one artifact file, streamed.

``GET /get-artifact?run_id=&path=`` (``run_uuid`` is accepted too) reads a run's artifact and
``GET /model-versions/get-artifact?name=&version=&path=`` a registered model version's. The
file is read through the run's (or version's) artifact location, the same way the artifact
proxy and the logged-model file route read theirs.

The UI shows these files inline (``<img>``, ``<audio>``, ``<video>``, text previews), so the
response must never become a page of this origin: images, audio, video, PDF, JSON and plain
text keep their type; everything else (HTML, SVG, XML, scripts, unknown types) is sent as
``text/plain`` when it reads as UTF-8 text, else ``application/octet-stream``. Every response
carries ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox``. The
disposition is ``inline`` with the file name, or ``attachment`` with ``download=true``.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends
from starlette.responses import Response, StreamingResponse

from mltrail.artifacts.paths import canonical_file_relpath, canonical_relpath, join_uri, uri_scheme
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.registry.store.base import RegistryStore
from mltrail.server.artifact_files import (
    download_headers,
    file_location,
    open_file,
    stream_chunks,
)
from mltrail.server.deps import ContextDep, ServerContext, StoreDep, request_fields
from mltrail.server.parsing import Message, required_message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import string
from mltrail.server.routers._registry import RegistryDep
from mltrail.server.routing import rpc
from mltrail.tracking.store.base import TrackingStore

__all__ = ["router", "safe_media_type"]

router = APIRouter()

RUN_FILE = Message(
    "GetRunArtifact", (string("run_id"), string("run_uuid"), string("path"), string("download"))
)
VERSION_FILE = Message(
    "GetModelVersionArtifact",
    (string("name", required=True), string("version", required=True), string("path"), string("download")),
)

Fields = dict[str, Any]

# Types a browser shows as media or plain data, never as an active document.
_INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/avif",
        "image/tiff",
        "image/vnd.microsoft.icon",
        "image/x-icon",
        "application/pdf",
        "application/json",
        "text/plain",
        "text/csv",
        "text/tab-separated-values",
        "text/markdown",
    }
)
_TEXT = "text/plain; charset=utf-8"
_BINARY = "application/octet-stream"


def safe_media_type(name: str, head: bytes) -> str:
    """The type to send a file as: its real type when harmless, else text or binary.

    Args:
        name: The file name (its extension decides the real type).
        head: The start of the file, to tell text from binary for other types.
    """
    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is not None and encoding is None:
        major = guessed.split("/", 1)[0]
        if guessed in _INLINE_TYPES or major in ("audio", "video"):
            if major == "text" or guessed == "application/json":
                return f"{guessed}; charset=utf-8"
            return guessed
    return _TEXT if _reads_as_text(head) else _BINARY


def _reads_as_text(head: bytes) -> bool:
    sample = head[:8192]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data"
    return True


def _wants_download(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _open(
    context: ServerContext, artifact_uri: str, rel: str
) -> tuple[str, list[bytes], Iterator[bytes] | None]:
    repository, path = file_location(context, artifact_uri, rel)
    # Errors name the path the client asked for, not where the server keeps the file.
    try:
        head, rest = open_file(repository, path)
    except NotFoundError:
        raise NotFoundError(f"No such artifact: '{rel}'") from None
    except InvalidArgumentError:
        raise InvalidArgumentError(f"Invalid path '{rel}': it is a directory, not a file") from None
    return path, head, rest


async def _serve(context: ServerContext, artifact_uri: str, rel: str, download: bool) -> Response:
    path, head, rest = await anyio.to_thread.run_sync(_open, context, artifact_uri, rel)
    headers = download_headers(path)
    headers.pop("Content-Type")
    if not download:
        headers["Content-Disposition"] = headers["Content-Disposition"].replace("attachment", "inline", 1)
    headers["Content-Security-Policy"] = "sandbox"
    media_type = safe_media_type(path.rsplit("/", 1)[-1], head[0] if head else b"")
    if rest is None:
        return Response(b"".join(head), media_type=media_type, headers=headers)
    return StreamingResponse(stream_chunks(head, rest), media_type=media_type, headers=headers)


def _file_path(req: Fields) -> str:
    raw = req.get("path")
    if not raw:
        raise InvalidArgumentError(required_message("path"))
    return canonical_file_relpath(raw)


@rpc(
    router,
    "",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_id"),
    prefixes=("/get-artifact",),
)
async def get_run_artifact(
    req: Annotated[Fields, Depends(request_fields(RUN_FILE))], store: StoreDep, context: ContextDep
) -> Response:
    """One file of a run's artifacts; unknown run or file: 404; a bad path: 400."""
    run_id = req.get("run_id") or req.get("run_uuid")
    if not run_id:
        raise InvalidArgumentError(required_message("run_id"))
    rel = _file_path(req)
    run = await anyio.to_thread.run_sync(store.get_run, run_id)
    return await _serve(context, run.info.artifact_uri, rel, _wants_download(req.get("download")))


def _version_root(registry: RegistryStore, store: TrackingStore, name: str, version: str) -> str:
    """The artifact root of a version; a ``runs:/<id>/<path>`` location is the run's root + path."""
    uri = registry.get_model_version_download_uri(name, version)
    if uri_scheme(uri) != "runs":
        return uri
    parts = urlsplit(uri)
    run_id, _, sub = parts.path.lstrip("/").partition("/")
    run = store.get_run(parts.netloc or run_id)
    base = run.info.artifact_uri
    inner = canonical_relpath(sub if not parts.netloc else parts.path.lstrip("/"))
    return join_uri(base, inner) if inner else base


@rpc(
    router,
    "",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.REGISTERED_MODEL, Access.READ, "name"),
    prefixes=("/model-versions/get-artifact",),
)
async def get_model_version_artifact(
    req: Annotated[Fields, Depends(request_fields(VERSION_FILE))],
    registry: RegistryDep,
    store: StoreDep,
    context: ContextDep,
) -> Response:
    """One file of a registered model version; unknown model, version or file: 404."""
    rel = _file_path(req)
    root = await anyio.to_thread.run_sync(_version_root, registry, store, req["name"], req["version"])
    return await _serve(context, root, rel, _wants_download(req.get("download")))
