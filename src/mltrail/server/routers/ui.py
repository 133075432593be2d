"""The web UI's files: ``/`` serves the page, ``/static-files/...`` its scripts, styles and chart libraries.

Everything comes from inside the installed package (:mod:`mltrail.ui`), so the UI works without
a build step and without the internet. Paths are resolved below the static directory and
anything outside it answers 404. Files are revalidated by ETag (``no-cache``) so an upgraded
server never serves stale scripts; the vendored libraries, which change only with their pinned
version (plotly.js with the ``plotly`` package, uPlot under ``vendor/uplot/``), are cached for a day.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from mltrail.errors import NotFoundError
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind
from mltrail.server.routing import rpc
from mltrail.ui import STATIC_DIR, plotly_bundle

__all__ = ["router"]

router = APIRouter()

_OPEN = PermissionDeclaration(ResourceKind.SERVER, Access.NONE)
_PLOTLY = "vendor/plotly.min.js"
# Third-party files vendored at a pinned version (``make vendor-js``): cached like plotly.js.
_VENDORED = "vendor/"
_VENDOR_MAX_AGE = 86400
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
# The UI loads no third-party content: a strict policy makes any attempt fail loudly.
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-eval'; connect-src 'self'; "
    "frame-ancestors 'self'; object-src 'none'; base-uri 'self'"
)


def _file(path: Path, *, max_age: int = 0) -> Response:
    media_type = _MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    cache = f"public, max-age={max_age}" if max_age else "no-cache"
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": cache})


def _static_path(relative: str) -> Path:
    """The file for ``relative`` below the static directory; 404 for anything else."""
    root = STATIC_DIR
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise NotFoundError(f"No UI file {relative!r}")
    return candidate


@rpc(router, "", methods=["GET"], permission=_OPEN, prefixes=("/",))
async def index() -> Response:
    """The single page of the UI (its views are addressed by the URL fragment)."""
    response = _file(STATIC_DIR / "index.html")
    response.headers["Content-Security-Policy"] = _CSP
    return response


@rpc(router, "", methods=["GET"], permission=_OPEN, prefixes=("/ui",))
async def ui_alias(request: Request) -> Response:
    """``/ui`` is where some users look first: send them to ``/``."""
    return RedirectResponse(str(request.url_for("index:/")), status_code=307)


@rpc(router, "{path:path}", methods=["GET"], permission=_OPEN, prefixes=("/static-files",))
async def static_file(path: str) -> Response:
    """A script, stylesheet or image of the UI, a vendored library, or plotly.js from ``plotly``."""
    if path == _PLOTLY:
        bundle = plotly_bundle()
        if bundle is None:
            raise NotFoundError("plotly is not installed: pip install 'mltrail[server]'")
        return _file(bundle, max_age=_VENDOR_MAX_AGE)
    found = _static_path(path)
    vendored = found.is_relative_to(STATIC_DIR / _VENDORED)
    return _file(found, max_age=_VENDOR_MAX_AGE if vendored else 0)
