"""The scoring server's ASGI app: ``/invocations``, ``/ping``, ``/health`` and ``/version``.

A plain ASGI callable rather than a web framework: the four routes need no routing table, and
skipping the framework layers keeps per-request overhead to a minimum. Predictions run in a
thread pool; each request is bounded by the configured timeout (504 when exceeded).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mltrail import __version__
from mltrail.models.pyfunc import PyFuncModel
from mltrail.scoring.batching import MicroBatcher
from mltrail.scoring.predictor import Predictor, Reply, model_declares_batchable
from mltrail.scoring.settings import ScoringSettings

__all__ = ["ScoringApp", "create_app"]

_logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_TIMEOUT_BODY = b"Request processing time exceeded limit"
_PING = Reply(200, b"\n")
_NOT_FOUND = Reply(404, b'{"detail":"Not Found"}')
_NOT_ALLOWED = Reply(405, b'{"detail":"Method Not Allowed"}')


class ScoringApp:
    """ASGI app serving one model.

    Args:
        model: The loaded model.
        settings: Timeout and batching options.

    Attributes:
        batcher: The micro-batcher, or ``None`` when batching is off for this model.
    """

    def __init__(self, model: PyFuncModel, settings: ScoringSettings) -> None:
        self.model = model
        self.settings = settings
        self.predictor = Predictor(model)
        self._executor = ThreadPoolExecutor(settings.threads, thread_name_prefix="mltrail-scoring")
        self._version = Reply(200, __version__.encode())
        batching = settings.batching == "on" or (
            settings.batching == "auto" and model_declares_batchable(model)
        )
        self.batcher: MicroBatcher[tuple[bytes, str | None], Reply] | None = (
            MicroBatcher(
                self.predictor.score_many,
                max_batch_size=settings.max_batch_size,
                max_delay=settings.max_batch_delay_ms / 1000.0,
                executor=self._executor,
            )
            if batching
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/invocations":
            if method != "POST":
                await _respond(send, _NOT_ALLOWED)
                return
            await _respond(send, await self._invocations(scope, receive))
        elif path in ("/ping", "/health"):
            await _respond(send, _PING if method == "GET" else _NOT_ALLOWED)
        elif path == "/version":
            await _respond(send, self._version if method == "GET" else _NOT_ALLOWED)
        else:
            await _respond(send, _NOT_FOUND)

    async def _invocations(self, scope: Scope, receive: Receive) -> Reply:
        body = await _read_body(receive)
        content_type = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
                break
        if self.batcher is not None:
            work: Awaitable[Reply] = self.batcher.submit((body, content_type))
        else:
            loop = asyncio.get_running_loop()
            work = loop.run_in_executor(self._executor, self.predictor.score, body, content_type)
        try:
            return await asyncio.wait_for(work, self.settings.timeout)
        except TimeoutError:
            return Reply(504, _TIMEOUT_BODY)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Stop the batcher and the prediction threads (running predictions finish first)."""
        if self.batcher is not None:
            await self.batcher.aclose()
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(send: Send, reply: Reply) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (b"content-type", reply.media_type.encode()),
                (b"content-length", str(len(reply.content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply.content})


def create_app(model: PyFuncModel, settings: ScoringSettings | None = None) -> ScoringApp:
    """Build the scoring ASGI app for a loaded model.

    Args:
        model: The model to serve (from :func:`mltrail.pyfunc.load_model`).
        settings: Server options; defaults when omitted.

    Returns:
        An ASGI app; run it with any ASGI server (``mltrail models serve`` uses uvicorn).
    """
    return ScoringApp(model, settings or ScoringSettings())
