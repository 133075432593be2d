"""Artifact routes: the proxy under ``/api/2.0/mlflow-artifacts`` and the ``artifacts/list`` RPC.

Every path goes through :func:`mltrail.artifacts.paths.canonical_relpath` before storage is
touched, so traversal attempts answer 400 and read or write nothing. Uploads stream the request
body into the destination repository chunk by chunk (bounded memory); downloads stream the file.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Depends
from fastapi.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from mltrail.artifacts.base import FileInfo
from mltrail.artifacts.paths import canonical_relpath, join_uri
from mltrail.errors import (
    InvalidArgumentError,
    NotImplementedFeatureError,
)
from mltrail.server.artifact_files import (
    CHUNK_SIZE,
    direct_repository,
    download_headers,
    open_file,
    stream_chunks,
)
from mltrail.server.deps import ContextDep, ServerContext, StoreDep, json_response, request_fields
from mltrail.server.parsing import Message
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routers._messages import string
from mltrail.server.routers.runs import run_id_of
from mltrail.server.routing import ARTIFACT_PREFIXES, rpc

__all__ = ["file_info_to_dict", "router"]

router = APIRouter()

LIST_PROXY = Message("ListProxyArtifacts", (string("path"),))
LIST = Message("ListArtifacts", (string("run_id"), string("run_uuid"), string("path"), string("page_token")))


def _perm(access: Access) -> PermissionDeclaration:
    return PermissionDeclaration(ResourceKind.ARTIFACT, access, "path")


def file_info_to_dict(info: FileInfo, path: str) -> dict[str, Any]:
    """Encode a ``FileInfo`` message with the given ``path`` (``file_size`` only for files)."""
    body: dict[str, Any] = {"path": path, "is_dir": info.is_dir}
    if not info.is_dir and info.file_size is not None:
        body["file_size"] = info.file_size
    return body


def _require_serving(context: ServerContext) -> None:
    if not context.settings.serve_artifacts:
        raise HTTPException(
            status_code=503,
            detail="Artifact proxying is disabled on this server (started with --no-serve-artifacts).",
        )


def _file_path(raw: str) -> str:
    """A non-empty canonical file path; a trailing slash (no file name) is rejected."""
    rel = canonical_relpath(raw)
    if not rel or raw.endswith("/"):
        raise InvalidArgumentError(f"Invalid path {raw!r}: a file name is required")
    return rel


class _RequestBodyReader(io.RawIOBase):
    """A blocking file-like view of an ASGI request body, read from a worker thread.

    Each ``readinto`` pulls the next chunk from the event loop, so at most one network chunk
    is held in memory besides the caller's buffer.
    """

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    async def _next_chunk(self) -> bytes | None:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            return None

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self._done:
                return 0
            chunk = anyio.from_thread.run(self._next_chunk)
            if chunk is None:
                self._done = True
                return 0
            self._pending = chunk
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@rpc(
    router,
    "artifacts/{path:path}",
    methods=["PUT"],
    permission=_perm(Access.EDIT),
    prefixes=ARTIFACT_PREFIXES,
)
async def upload_artifact(path: str, request: Request, context: ContextDep) -> Response:
    """Upload one file: the raw body is streamed to ``<destination>/<path>`` (overwriting)."""
    _require_serving(context)
    rel = _file_path(path)
    repository = context.destination
    reader = io.BufferedReader(_RequestBodyReader(request.stream()), buffer_size=CHUNK_SIZE)
    try:
        await anyio.to_thread.run_sync(repository.write_stream, rel, reader)
    except ClientDisconnect:
        # The repository discarded the partial file; nobody is left to read an answer.
        raise InvalidArgumentError(f"The upload of {rel!r} was interrupted by the client") from None
    return json_response()


@rpc(
    router,
    "artifacts/{path:path}",
    methods=["GET"],
    permission=_perm(Access.READ),
    prefixes=ARTIFACT_PREFIXES,
)
async def download_artifact(path: str, context: ContextDep) -> Response:
    """Download one file, streamed; small files are sent with a ``Content-Length``."""
    _require_serving(context)
    rel = _file_path(path)
    head, rest = await anyio.to_thread.run_sync(open_file, context.destination, rel)
    headers = download_headers(rel)
    media_type = headers.pop("Content-Type")
    if rest is None:
        return Response(b"".join(head), media_type=media_type, headers=headers)
    return StreamingResponse(stream_chunks(head, rest), media_type=media_type, headers=headers)


@rpc(router, "artifacts", methods=["GET"], permission=_perm(Access.READ), prefixes=ARTIFACT_PREFIXES)
def list_proxy_artifacts(
    req: Annotated[dict[str, Any], Depends(request_fields(LIST_PROXY))], context: ContextDep
) -> Response:
    """List the immediate children of ``path`` (the root if absent), by basename."""
    _require_serving(context)
    rel = canonical_relpath(req.get("path"))
    infos = context.destination.list_artifacts(rel or None)
    if not infos:
        return json_response()
    return json_response({"files": [file_info_to_dict(i, i.path.rsplit("/", 1)[-1]) for i in infos]})


@rpc(
    router,
    "artifacts/{path:path}",
    methods=["DELETE"],
    permission=_perm(Access.MANAGE),
    prefixes=ARTIFACT_PREFIXES,
)
def delete_artifact(path: str, context: ContextDep) -> Response:
    """Delete a file or a directory tree."""
    _require_serving(context)
    rel = canonical_relpath(path)
    if not rel:
        raise InvalidArgumentError("Invalid path '': deleting the whole artifact root is not allowed")
    context.destination.delete_artifacts(rel)
    return json_response()


def _multipart_unsupported() -> NotImplementedFeatureError:
    return NotImplementedFeatureError("Multipart upload is not supported for the current artifact repository")


@rpc(
    router,
    "mpu/create/{path:path}",
    methods=["POST"],
    permission=_perm(Access.EDIT),
    prefixes=ARTIFACT_PREFIXES,
)
def create_multipart_upload(path: str, context: ContextDep) -> Response:
    """Multipart uploads are not offered (server-info says so); 501 per spec."""
    _require_serving(context)
    canonical_relpath(path)
    raise _multipart_unsupported()


@rpc(
    router,
    "mpu/complete/{path:path}",
    methods=["POST"],
    permission=_perm(Access.EDIT),
    prefixes=ARTIFACT_PREFIXES,
)
def complete_multipart_upload(path: str, context: ContextDep) -> Response:
    """Multipart uploads are not offered; 501."""
    _require_serving(context)
    canonical_relpath(path)
    raise _multipart_unsupported()


@rpc(
    router,
    "mpu/abort/{path:path}",
    methods=["POST"],
    permission=_perm(Access.EDIT),
    prefixes=ARTIFACT_PREFIXES,
)
def abort_multipart_upload(path: str, context: ContextDep) -> Response:
    """Multipart uploads are not offered; 501."""
    _require_serving(context)
    canonical_relpath(path)
    raise _multipart_unsupported()


@rpc(
    router,
    "presigned/{path:path}",
    methods=["GET"],
    permission=_perm(Access.READ),
    prefixes=ARTIFACT_PREFIXES,
)
def presigned_download(path: str, context: ContextDep) -> Response:
    """Multipart (presigned) downloads are not offered; 501."""
    _require_serving(context)
    canonical_relpath(path)
    raise NotImplementedFeatureError(
        "Multipart download is not supported for the current artifact repository"
    )


# -- tracking-side listing ------------------------------------------------------------------------


def list_run_artifacts(context: ServerContext, artifact_uri: str, path: str | None) -> list[dict[str, Any]]:
    """``files`` of ListArtifacts: immediate children of ``path``, relative to the run's root."""
    rel = canonical_relpath(path)
    proxied = context.proxied_path(artifact_uri)
    if proxied is None:
        return [
            file_info_to_dict(i, i.path) for i in direct_repository(context, artifact_uri).list_artifacts(rel)
        ]
    base = canonical_relpath(join_uri(proxied, rel)) if proxied else rel
    prefix = f"{proxied}/" if proxied else ""
    return [
        file_info_to_dict(i, i.path[len(prefix) :])
        for i in context.destination.list_artifacts(base or None)
        if i.path.startswith(prefix)
    ]


@rpc(
    router,
    "artifacts/list",
    methods=["GET"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_id"),
)
def list_artifacts(
    req: Annotated[dict[str, Any], Depends(request_fields(LIST))], store: StoreDep, context: ContextDep
) -> Response:
    """ListArtifacts → ``{"root_uri", "files"}`` with paths relative to the run's artifact root."""
    run = store.get_run(run_id_of(req))
    root = run.info.artifact_uri
    files = list_run_artifacts(context, root, req.get("path"))
    body: dict[str, Any] = {"root_uri": root}
    if files:
        body["files"] = files
    return json_response(body)


@rpc(
    router,
    "artifacts/presigned-upload-url",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.EDIT, "run_id"),
)
def create_presigned_upload_url() -> Response:
    """Presigned uploads are not offered (server-info says so); 501."""
    raise NotImplementedFeatureError("Presigned upload URLs are not supported by this server")


@rpc(
    router,
    "artifacts/presigned-download-url",
    methods=["POST"],
    permission=PermissionDeclaration(ResourceKind.RUN, Access.READ, "run_id"),
)
def create_presigned_download_url() -> Response:
    """Presigned downloads are not offered; 501."""
    raise NotImplementedFeatureError("Presigned download URLs are not supported by this server")
