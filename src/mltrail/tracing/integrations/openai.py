"""Auto-tracing of the official ``openai`` client.

``enable()`` patches the ``create`` methods of chat completions, embeddings and responses, and
the ``parse`` methods of chat completions and responses (sync and async), so that each call
becomes a span with the request as inputs, the response as outputs, the model, and the token
usage. The ``stream`` helpers go through ``create`` and are traced with it. A streamed call
returns a wrapper of the stream that records each chunk as a span event and ends the span, with
the assembled output and the usage chunk, when the stream is exhausted or closed.
``with_raw_response`` calls record the parsed body; ``with_streaming_response`` calls (whose body
the caller reads later) and streamed raw calls record the request only. ``disable()`` restores
the original methods.
"""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mltrail.tracing import attributes as attr
from mltrail.tracing.api import detach, finish, open_span, span_attributes
from mltrail.tracing.attributes import SpanType
from mltrail.tracing.serialize import jsonable, to_json
from mltrail.tracing.setup import config
from mltrail.tracing.span import LiveSpan

__all__ = ["disable", "enable", "is_enabled"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Target:
    module: str
    cls: str
    kind: str  # "chat", "embeddings" or "responses"
    span_type: str
    is_async: bool
    method: str = "create"


_CHAT = "openai.resources.chat.completions"
_TARGETS = tuple(
    _Target(module, cls, kind, span_type, cls.startswith("Async"), method)
    for module, kind, span_type, methods, classes in (
        (_CHAT, "chat", SpanType.CHAT_MODEL, ("create", "parse"), ("Completions", "AsyncCompletions")),
        (
            "openai.resources.embeddings",
            "embeddings",
            SpanType.EMBEDDING,
            ("create",),
            ("Embeddings", "AsyncEmbeddings"),
        ),
        (
            "openai.resources.responses",
            "responses",
            SpanType.CHAT_MODEL,
            ("create", "parse"),
            ("Responses", "AsyncResponses"),
        ),
    )
    for cls in classes
    for method in methods
)
_ORIGINAL = "__mltrail_original__"
# The header openai's with_raw_response ("true") and with_streaming_response ("stream") set.
_RAW_HEADER = "X-Stainless-Raw-Response"
_lock = threading.Lock()


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _usage(kind: str, usage: Any) -> tuple[int, int, int | None] | None:
    """(input, output, total) tokens from a usage object of any of the three APIs."""
    if usage is None:
        return None
    if kind == "responses":
        inp, out = _get(usage, "input_tokens"), _get(usage, "output_tokens")
    else:
        inp, out = _get(usage, "prompt_tokens"), _get(usage, "completion_tokens") or 0
    if not isinstance(inp, int):
        return None
    total = _get(usage, "total_tokens")
    return inp, int(out or 0), total if isinstance(total, int) else None


def _record_response(live: LiveSpan, kind: str, response: Any) -> None:
    model = _get(response, "model")
    if isinstance(model, str):
        live.set_attribute(attr.LLM_MODEL, model)
    usage = _usage(kind, _get(response, "usage"))
    if usage is not None:
        live.set_token_usage(*usage)


def _start(target: _Target, kwargs: dict[str, Any]) -> tuple[LiveSpan, object] | None:
    """Open the call's span with the request as inputs; None (logged) if tracing fails."""
    if not config().enabled:
        return None
    try:
        extra: dict[str, Any] = {attr.LLM_PROVIDER: "openai", attr.MESSAGE_FORMAT: "openai"}
        if isinstance(kwargs.get("model"), str):
            extra[attr.LLM_MODEL] = kwargs["model"]
        if kwargs.get("tools"):
            extra[attr.CHAT_TOOLS] = jsonable(kwargs["tools"])
        live, token = open_span(target.cls, span_attributes(target.span_type, extra))
    except Exception:
        _logger.warning("mltrail: openai call not traced", exc_info=True)
        return None
    try:
        live.set_inputs(kwargs)
    except Exception:
        _logger.warning("mltrail: inputs of the openai call not captured", exc_info=True)
    return live, token


class _StreamRecorder:
    """Records the chunks of a streamed call and ends its span once, with the assembled output."""

    def __init__(self, live: LiveSpan, kind: str) -> None:
        self.live = live
        self.kind = kind
        self.count = 0
        self.text: list[str] = []
        self.chunks: list[Any] = []
        self.last: Any = None
        self.usage: Any = None
        self.final: Any = None
        self.finish_reason: str | None = None
        self.ended = False

    def add(self, chunk: Any) -> None:
        try:
            self.live.otel_span.add_event(
                f"{attr.CHUNK_EVENT_PREFIX}{self.count}",
                {attr.CHUNK_VALUE: to_json(chunk, config().max_value_chars)},
            )
            self.count += 1
            self.last = chunk
            if self.kind == "chat":
                self.usage = _get(chunk, "usage") or self.usage
                for choice in _get(chunk, "choices") or ():
                    delta = _get(choice, "delta")
                    content = _get(delta, "content") if delta is not None else None
                    if isinstance(content, str):
                        self.text.append(content)
                    reason = _get(choice, "finish_reason")
                    if isinstance(reason, str):
                        self.finish_reason = reason
            elif self.kind == "responses":
                if _get(chunk, "type") == "response.completed":
                    self.final = _get(chunk, "response")
                    self.usage = _get(self.final, "usage")
                else:
                    delta = _get(chunk, "delta")
                    if _get(chunk, "type") == "response.output_text.delta" and isinstance(delta, str):
                        self.text.append(delta)
            else:
                self.chunks.append(chunk)
        except Exception:
            _logger.debug("mltrail: stream chunk not recorded", exc_info=True)

    def output(self) -> Any:
        if self.kind == "responses" and self.final is not None:
            return self.final
        if self.kind == "chat":
            return {
                "id": _get(self.last, "id"),
                "object": "chat.completion",
                "model": _get(self.last, "model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(self.text)},
                        "finish_reason": self.finish_reason,
                    }
                ],
                "usage": self.usage,
            }
        return "".join(self.text) if self.text else self.chunks

    def end(self, exc: BaseException | None = None) -> None:
        if self.ended:
            return
        self.ended = True
        try:
            if self.last is not None:
                model = _get(self.last, "model") or _get(self.final, "model")
                if isinstance(model, str):
                    self.live.set_attribute(attr.LLM_MODEL, model)
            usage = _usage(self.kind, self.usage)
            if usage is not None:
                self.live.set_token_usage(*usage)
        except Exception:
            _logger.debug("mltrail: stream usage not recorded", exc_info=True)
        if exc is not None:
            finish(self.live, exc)
        else:
            finish(self.live, outputs=self.output(), has_outputs=True)


class TracedStream:
    """A synchronous openai stream whose chunks are recorded on the call's span."""

    def __init__(self, stream: Any, recorder: _StreamRecorder) -> None:
        self._stream = stream
        self._recorder = recorder
        self._iterator: Iterator[Any] | None = None

    def __iter__(self) -> Iterator[Any]:
        try:
            for chunk in self._stream:
                self._recorder.add(chunk)
                yield chunk
        except GeneratorExit:
            self._recorder.end()
            raise
        except BaseException as exc:
            self._recorder.end(exc)
            raise
        self._recorder.end()

    def __next__(self) -> Any:
        if self._iterator is None:
            self._iterator = iter(self)
        return next(self._iterator)

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the stream and end the span with what was received."""
        try:
            self._stream.close()
        finally:
            self._recorder.end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class AsyncTracedStream:
    """An asynchronous openai stream whose chunks are recorded on the call's span."""

    def __init__(self, stream: Any, recorder: _StreamRecorder) -> None:
        self._stream = stream
        self._recorder = recorder
        self._iterator: AsyncIterator[Any] | None = None

    async def _iterate(self) -> AsyncIterator[Any]:
        try:
            async for chunk in self._stream:
                self._recorder.add(chunk)
                yield chunk
        except GeneratorExit:
            self._recorder.end()
            raise
        except BaseException as exc:
            self._recorder.end(exc)
            raise
        self._recorder.end()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def __anext__(self) -> Any:
        if self._iterator is None:
            self._iterator = self._iterate()
        return await self._iterator.__anext__()

    async def __aenter__(self) -> AsyncTracedStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the stream and end the span with what was received."""
        try:
            await self._stream.close()
        finally:
            self._recorder.end()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _raw_mode(kwargs: dict[str, Any]) -> str | None:
    headers = kwargs.get("extra_headers")
    value = headers.get(_RAW_HEADER) if isinstance(headers, dict) else None
    return value if isinstance(value, str) else None


def _end_raw(live: LiveSpan, target: _Target, result: Any, mode: str, streamed: bool) -> None:
    """End the span of a raw-response call: the parsed body when it is already read."""
    if mode != "true" or streamed:
        # The caller reads the body later (a stream, or with_streaming_response): recording it
        # here would consume it.
        finish(live)
        return
    try:
        parsed = result.parse()
    except Exception:
        _logger.debug("mltrail: raw openai response not parsed", exc_info=True)
        finish(live)
        return
    _end(live, target, parsed)


def _end(live: LiveSpan, target: _Target, result: Any) -> None:
    try:
        _record_response(live, target.kind, result)
    except Exception:
        _logger.debug("mltrail: model and usage of the openai call not recorded", exc_info=True)
    finish(live, outputs=result, has_outputs=True)


def _sync_wrapper(target: _Target, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened = _start(target, kwargs)
        if opened is None:
            return original(self, *args, **kwargs)
        live, token = opened
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            detach(token)
            finish(live, exc)
            raise
        detach(token)
        streamed = bool(kwargs.get("stream"))
        raw = _raw_mode(kwargs)
        if raw is not None:
            _end_raw(live, target, result, raw, streamed)
        elif streamed:
            return TracedStream(result, _StreamRecorder(live, target.kind))
        else:
            _end(live, target, result)
        return result

    setattr(call, _ORIGINAL, original)
    return call


def _async_wrapper(target: _Target, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        opened = _start(target, kwargs)
        if opened is None:
            return await original(self, *args, **kwargs)
        live, token = opened
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as exc:
            detach(token)
            finish(live, exc)
            raise
        detach(token)
        streamed = bool(kwargs.get("stream"))
        raw = _raw_mode(kwargs)
        if raw is not None:
            _end_raw(live, target, result, raw, streamed)
        elif streamed:
            return AsyncTracedStream(result, _StreamRecorder(live, target.kind))
        else:
            _end(live, target, result)
        return result

    setattr(call, _ORIGINAL, original)
    return call


def _classes() -> list[tuple[_Target, type]]:
    found = []
    for target in _TARGETS:
        try:
            module = importlib.import_module(target.module)
        except ImportError:
            continue
        cls = getattr(module, target.cls, None)
        if isinstance(cls, type):
            found.append((target, cls))
    return found


def is_enabled() -> bool:
    """Whether the openai client's methods are patched now."""
    return any(hasattr(cls.__dict__.get(t.method), _ORIGINAL) for t, cls in _classes())


def enable() -> None:
    """Patch the openai client (idempotent)."""
    with _lock:
        for target, cls in _classes():
            current = cls.__dict__.get(target.method)
            if current is None or hasattr(current, _ORIGINAL):
                continue
            wrap = _async_wrapper if target.is_async else _sync_wrapper
            setattr(cls, target.method, wrap(target, current))


def disable() -> None:
    """Restore the openai client's original methods."""
    with _lock:
        for target, cls in _classes():
            current = cls.__dict__.get(target.method)
            if current is not None and hasattr(current, _ORIGINAL):
                setattr(cls, target.method, getattr(current, _ORIGINAL))
