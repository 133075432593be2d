"""The tracing API: ``@trace``, ``start_span``, the current span and trace, flushing.

Spans are real OpenTelemetry spans. A decorated function's span records its arguments as
inputs and its return value as outputs; generators record every yielded item as a chunk event
and the list of items (or ``output_reducer(items)``) as outputs; an exception is recorded as an
``exception`` event and the span's status becomes ERROR, and the exception propagates unchanged.
Capturing and exporting never raise into the traced code.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import AsyncGenerator, Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, overload

from opentelemetry import context as context_api
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context

from mltrail.tracing import attributes as attr
from mltrail.tracing.attributes import SpanType
from mltrail.tracing.serialize import to_json
from mltrail.tracing.setup import (
    config,
    configure,
    flush_traces,
    get_export_stats,
    runtime,
    set_destination,
)
from mltrail.tracing.span import LiveSpan, attribute_value

__all__ = [
    "LiveSpan",
    "SpanType",
    "configure",
    "flush_traces",
    "get_current_active_span",
    "get_export_stats",
    "set_destination",
    "start_span",
    "trace",
    "update_current_trace",
]

_logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_Binder = Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]
_SIMPLE_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _binder(fn: Callable[..., Any]) -> _Binder:
    """A fast mapping of call arguments to parameter names (``self``/``cls`` left out)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return lambda args, kwargs: {"args": list(args), **kwargs}
    params = list(signature.parameters.values())
    names = [p.name for p in params]
    skip = names[0] if names and names[0] in ("self", "cls") else None
    simple = all(p.kind in _SIMPLE_KINDS for p in params)

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if simple and len(args) <= len(names):
            bound = dict(zip(names, args, strict=False))
            if kwargs:
                bound.update(kwargs)
        else:
            try:
                bound = dict(signature.bind_partial(*args, **kwargs).arguments)
            except TypeError:
                bound = {"args": list(args), **kwargs}
        if skip is not None:
            bound.pop(skip, None)
        return bound

    return bind


def open_span(name: str, static: Mapping[str, Any]) -> tuple[LiveSpan, object]:
    """Start a span as a child of the current one and make it current (for integrations).

    Args:
        name: Span name.
        static: OTel attribute values set at start (see :func:`span_attributes`).

    Returns:
        The span and the context token to pass to :func:`detach` once it stops being current.
    """
    rt = runtime()
    span = rt.tracer.start_span(name, attributes=static)
    live = LiveSpan(span, rt.processor.record(span.get_span_context().trace_id))
    token = context_api.attach(otel_trace.set_span_in_context(span))
    return live, token


def _try_open(name: str, static: Mapping[str, Any]) -> tuple[LiveSpan, object] | None:
    """:func:`open_span`, or None (logged) when tracing itself fails: the call goes on untraced."""
    try:
        return open_span(name, static)
    except Exception:
        _logger.warning("mltrail: span %s not started; the call runs untraced", name, exc_info=True)
        return None


def start_detached_span(
    name: str,
    static: Mapping[str, Any],
    parent: LiveSpan | None = None,
    context: Context | None = None,
) -> LiveSpan:
    """Start a span that is not made current (for callback-driven integrations).

    Args:
        name: Span name.
        static: OTel attribute values set at start (see :func:`span_attributes`).
        parent: The parent span; None makes it a child of the span current in ``context``.
        context: The context to start in when there is no ``parent``; None for the current one.
    """
    rt = runtime()
    if parent is not None:
        context = otel_trace.set_span_in_context(parent.otel_span)
    span = rt.tracer.start_span(name, context=context, attributes=static)
    return LiveSpan(span, rt.processor.record(span.get_span_context().trace_id))


def span_attributes(span_type: str, attributes: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """OTel attribute values for a new span of ``span_type`` with extra ``attributes``."""
    static = {attr.SPAN_TYPE: to_json(str(span_type))}
    static.update({k: attribute_value(k, v) for k, v in (attributes or {}).items()})
    return static


def detach(token: object) -> None:
    """Stop the span made current by :func:`open_span` being current (never raises)."""
    try:
        context_api.detach(token)  # type: ignore[arg-type]
    except Exception:
        _logger.debug("mltrail: span context could not be detached", exc_info=True)


def finish(
    live: LiveSpan, exc: BaseException | None = None, outputs: Any = None, has_outputs: bool = False
) -> None:
    """Record the outcome on the span and end it; never raises."""
    try:
        if exc is not None:
            live.record_exception(exc)
        elif has_outputs:
            live.set_outputs(outputs)
        live.end()
    except Exception:
        _logger.warning("mltrail: could not finish span %s", live.name, exc_info=True)


def _set_inputs(live: LiveSpan, bind: _Binder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        live.set_inputs(bind(args, kwargs))
    except Exception:
        _logger.warning("mltrail: inputs of span %s not captured", live.name, exc_info=True)


def _chunk(live: LiveSpan, index: int, item: Any) -> None:
    try:
        live.otel_span.add_event(
            f"{attr.CHUNK_EVENT_PREFIX}{index}", {attr.CHUNK_VALUE: to_json(item, config().max_value_chars)}
        )
    except Exception:
        _logger.debug("mltrail: chunk %d of span %s not recorded", index, live.name, exc_info=True)


def _reduce(items: list[Any], reducer: Callable[[list[Any]], Any] | None) -> Any:
    if reducer is None:
        return items
    try:
        return reducer(items)
    except Exception:
        _logger.warning("mltrail: output_reducer failed; the chunks are recorded as outputs", exc_info=True)
        return items


@overload
def trace(func: F) -> F: ...


@overload
def trace(
    func: None = None,
    *,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: F | None = None,
    *,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
) -> F | Callable[[F], F]:
    """Trace a function: each call becomes a span (the root of a new trace when none is open).

    Works on plain and ``async`` functions, generators and async generators::

        @mltrail.trace(span_type="TOOL")
        def add(a: int, b: int) -> int:
            return a + b

    Args:
        func: The function (when used as ``@trace`` without parentheses).
        name: Span name (default: the function's name).
        span_type: ``mlflow.spanType`` (default ``UNKNOWN``).
        attributes: Extra span attributes.
        output_reducer: For generators: turns the list of yielded items into the outputs.

    Returns:
        The wrapped function, or a decorator.
    """

    def decorate(fn: F) -> F:
        static = {
            attr.SPAN_TYPE: to_json(str(span_type)),
            attr.SPAN_FUNCTION_NAME: to_json(getattr(fn, "__qualname__", repr(fn))),
            **{k: attribute_value(k, v) for k, v in (attributes or {}).items()},
        }
        span_name: str = name or str(getattr(fn, "__name__", "span"))
        bind = _binder(fn)
        if inspect.isasyncgenfunction(fn):
            return _wrap_async_gen(fn, span_name, static, bind, output_reducer)  # type: ignore[return-value]
        if inspect.isgeneratorfunction(fn):
            return _wrap_gen(fn, span_name, static, bind, output_reducer)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(fn):
            return _wrap_async(fn, span_name, static, bind)  # type: ignore[return-value]
        return _wrap_sync(fn, span_name, static, bind)  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


def _wrap_sync(
    fn: Callable[..., Any], name: str, static: Mapping[str, Any], bind: _Binder
) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opened = _try_open(name, static) if config().enabled else None
        if opened is None:
            return fn(*args, **kwargs)
        live, token = opened
        _set_inputs(live, bind, args, kwargs)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            finish(live, exc)
            raise
        detach(token)
        finish(live, outputs=result, has_outputs=True)
        return result

    return wrapper


def _wrap_async(
    fn: Callable[..., Any], name: str, static: Mapping[str, Any], bind: _Binder
) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        opened = _try_open(name, static) if config().enabled else None
        if opened is None:
            return await fn(*args, **kwargs)
        live, token = opened
        _set_inputs(live, bind, args, kwargs)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            finish(live, exc)
            raise
        detach(token)
        finish(live, outputs=result, has_outputs=True)
        return result

    return wrapper


def _wrap_gen(
    fn: Callable[..., Generator[Any, Any, Any]],
    name: str,
    static: Mapping[str, Any],
    bind: _Binder,
    reducer: Callable[[list[Any]], Any] | None,
) -> Callable[..., Generator[Any, Any, Any]]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        opened = _try_open(name, static) if config().enabled else None
        if opened is None:
            return (yield from fn(*args, **kwargs))
        live, token = opened
        _set_inputs(live, bind, args, kwargs)
        try:
            gen = fn(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            finish(live, exc)
            raise
        detach(token)
        items: list[Any] = []
        while True:
            token = context_api.attach(otel_trace.set_span_in_context(live.otel_span))
            try:
                item = next(gen)
            except StopIteration as stop:
                detach(token)
                finish(live, outputs=_reduce(items, reducer), has_outputs=True)
                return stop.value
            except BaseException as exc:
                detach(token)
                finish(live, exc)
                raise
            detach(token)
            _chunk(live, len(items), item)
            items.append(item)
            try:
                yield item
            except GeneratorExit:
                gen.close()
                finish(live, outputs=_reduce(items, reducer), has_outputs=True)
                raise

    return wrapper


def _wrap_async_gen(
    fn: Callable[..., AsyncGenerator[Any, Any]],
    name: str,
    static: Mapping[str, Any],
    bind: _Binder,
    reducer: Callable[[list[Any]], Any] | None,
) -> Callable[..., AsyncGenerator[Any, Any]]:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        opened = _try_open(name, static) if config().enabled else None
        if opened is None:
            async for item in fn(*args, **kwargs):
                yield item
            return
        live, token = opened
        _set_inputs(live, bind, args, kwargs)
        try:
            agen = fn(*args, **kwargs)
        except BaseException as exc:
            detach(token)
            finish(live, exc)
            raise
        detach(token)
        items: list[Any] = []
        while True:
            token = context_api.attach(otel_trace.set_span_in_context(live.otel_span))
            try:
                item = await agen.__anext__()
            except StopAsyncIteration:
                detach(token)
                finish(live, outputs=_reduce(items, reducer), has_outputs=True)
                return
            except BaseException as exc:
                detach(token)
                finish(live, exc)
                raise
            detach(token)
            _chunk(live, len(items), item)
            items.append(item)
            try:
                yield item
            except GeneratorExit:
                await agen.aclose()
                finish(live, outputs=_reduce(items, reducer), has_outputs=True)
                raise

    return wrapper


@contextmanager
def start_span(
    name: str = "span",
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[LiveSpan]:
    """Open a span for the ``with`` block, as a child of the current span::

        with mltrail.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": query})
            span.set_outputs(search(query))

    An exception leaving the block is recorded on the span and propagates.

    Args:
        name: Span name.
        span_type: ``mlflow.spanType``.
        attributes: Extra span attributes.

    Yields:
        The open span.
    """
    opened = _try_open(name, span_attributes(span_type, attributes)) if config().enabled else None
    if opened is None:
        yield LiveSpan(otel_trace.INVALID_SPAN, None)
        return
    live, token = opened
    try:
        yield live
    except BaseException as exc:
        detach(token)
        finish(live, exc)
        raise
    detach(token)
    finish(live)


def get_current_active_span() -> LiveSpan | None:
    """The span open in this context, None when there is none."""
    span = otel_trace.get_current_span()
    if not span.is_recording():
        return None
    return LiveSpan(span, runtime().processor.record(span.get_span_context().trace_id))


def update_current_trace(
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    client_request_id: str | None = None,
    request_preview: str | None = None,
    response_preview: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
) -> None:
    """Set trace-level values of the trace open in this context.

    Args:
        tags: Tags to set (mutable later, e.g. from the UI).
        metadata: Metadata to set (values cut to 250 characters).
        client_request_id: A caller-chosen id to find the trace by.
        request_preview: Replaces the preview computed from the root span inputs.
        response_preview: Replaces the preview computed from the root span outputs.
        session_id: Groups traces of one conversation (metadata ``mlflow.trace.session``).
        user_id: The end user (metadata ``mlflow.trace.user``).
    """
    span = otel_trace.get_current_span()
    record = runtime().processor.record(span.get_span_context().trace_id) if span.is_recording() else None
    if record is None:
        _logger.warning("mltrail: update_current_trace called outside a trace; nothing was updated")
        return
    limit = attr.MAX_METADATA_VALUE_CHARS
    record.tags.update({str(k): str(v) for k, v in (tags or {}).items()})
    record.metadata.update({str(k): str(v)[:limit] for k, v in (metadata or {}).items()})
    if session_id is not None:
        record.metadata[attr.TRACE_SESSION] = str(session_id)[:limit]
    if user_id is not None:
        record.metadata[attr.TRACE_USER] = str(user_id)[:limit]
    if client_request_id is not None:
        record.client_request_id = client_request_id
    if request_preview is not None:
        record.request_preview = request_preview
    if response_preview is not None:
        record.response_preview = response_preview
