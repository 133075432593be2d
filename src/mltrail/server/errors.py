"""The server's single error handling: every failure becomes one response shape.

``MltrailError`` → its ``status_code`` and ``{"error_code", "message"}`` (plus ``details``).
Unknown paths answer 404 and wrong methods 405, both with an HTML body as MLflow's server does
(clients map such non-JSON errors to ``ENDPOINT_NOT_FOUND``). Anything unexpected is logged
and answered 500 ``INTERNAL_ERROR``. :class:`ServerHeadersMiddleware` also stamps every response
with the ``X-Mltrail-Version`` header.
"""

from __future__ import annotations

import html
import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mltrail import __version__
from mltrail.errors import InvalidArgumentError, MltrailError
from mltrail.tracking.wire import dumps

__all__ = ["VERSION_HEADER", "ServerHeadersMiddleware", "error_response", "install_error_handlers"]

VERSION_HEADER = "X-Mltrail-Version"
_logger = logging.getLogger(__name__)
_INTERNAL_BODY = dumps({"error_code": "INTERNAL_ERROR", "message": "Internal server error."})


def error_response(error: MltrailError) -> Response:
    """The JSON response for an mltrail error."""
    return Response(dumps(error.to_dict()), status_code=error.status_code, media_type="application/json")


def _html_page(status: int, title: str, text: str) -> HTMLResponse:
    body = (
        "<!doctype html>\n<html lang=en>\n"
        f"<title>{status} {html.escape(title)}</title>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(text)}</p>\n"
    )
    return HTMLResponse(body, status_code=status)


async def _mltrail_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MltrailError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _html_page(404, "Not Found", "The requested URL was not found on the server.")
    if exc.status_code == 405:
        return _html_page(405, "Method Not Allowed", "The method is not allowed for the requested URL.")
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(InvalidArgumentError(f"Invalid request: {exc.errors()}"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on an app."""
    app.add_exception_handler(MltrailError, _mltrail_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


class ServerHeadersMiddleware:
    """Pure ASGI middleware: adds ``X-Mltrail-Version`` and turns crashes into a JSON 500.

    Being pure ASGI (not ``BaseHTTPMiddleware``) it leaves streamed bodies streamed.

    Args:
        app: The wrapped application.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._header = (VERSION_HEADER.lower().encode(), __version__.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_header(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", ()), self._header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        except Exception:
            _logger.exception("Unhandled error serving %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await send_with_header(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_INTERNAL_BODY)).encode()),
                    ],
                }
            )
            await send_with_header({"type": "http.response.body", "body": _INTERNAL_BODY})
