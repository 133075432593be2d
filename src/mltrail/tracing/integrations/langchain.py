"""Auto-tracing of LangChain through its callback system.

:class:`MltrailCallbackHandler` turns LangChain runs into spans: chains (CHAIN), chat models
(CHAT_MODEL, with model, provider and token usage), completion LLMs (LLM), tools (TOOL) and
retrievers (RETRIEVER), parented as LangChain nests them. ``enable()`` registers one handler
with LangChain's configure hook so every runnable invocation gets it without passing callbacks;
the handler can also be passed explicitly (``config={"callbacks": [handler]}``).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks.base import BaseCallbackHandler
from langchain_core.tracers.context import register_configure_hook
from opentelemetry import context as context_api
from opentelemetry import trace as otel_trace
from opentelemetry.context import Context

from mltrail.tracing import attributes as attr
from mltrail.tracing.api import finish, span_attributes, start_detached_span
from mltrail.tracing.attributes import SpanType
from mltrail.tracing.serialize import to_json
from mltrail.tracing.setup import config
from mltrail.tracing.span import LiveSpan

__all__ = ["MltrailCallbackHandler", "disable", "enable", "is_enabled"]

_logger = logging.getLogger(__name__)


def _detach_quietly(token: object) -> None:
    """Restore the context from before a run started, if this is the context it started in.

    LangChain may end a run in another thread or task than the one that started it (``batch``,
    streams consumed elsewhere); that context is gone or was a copy, so there is nothing to undo,
    and OpenTelemetry's ``detach`` would log the failed reset as an error.
    """
    if isinstance(token, contextvars.Token):
        with contextlib.suppress(ValueError, RuntimeError):
            token.var.reset(token)
    else:
        context_api.detach(token)  # type: ignore[arg-type]


def _name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], default: str) -> str:
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        if isinstance(serialized.get("name"), str):
            return str(serialized["name"])
        ids = serialized.get("id")
        if isinstance(ids, list) and ids:
            return str(ids[-1])
    return default


def _usage_of(response: Any) -> tuple[int, int, int | None] | None:
    """Token usage of an ``LLMResult``: the messages' ``usage_metadata`` or ``llm_output``."""
    inp = out = 0
    found = False
    for generations in getattr(response, "generations", None) or ():
        for generation in generations:
            usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
            if isinstance(usage, Mapping) and isinstance(usage.get("input_tokens"), int):
                inp += int(usage["input_tokens"])
                out += int(usage.get("output_tokens") or 0)
                found = True
    if found:
        return inp, out, None
    llm_output = getattr(response, "llm_output", None) or {}
    usage = (
        llm_output.get("token_usage") or llm_output.get("usage") if isinstance(llm_output, Mapping) else None
    )
    if isinstance(usage, Mapping):
        prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
        completion = usage.get("completion_tokens", usage.get("output_tokens"))
        if isinstance(prompt, int):
            total = usage.get("total_tokens")
            return prompt, int(completion or 0), total if isinstance(total, int) else None
    return None


class MltrailCallbackHandler(BaseCallbackHandler):
    """A LangChain callback handler that records runs as mltrail spans."""

    run_inline = True
    raise_error = False

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self._spans: dict[UUID, LiveSpan] = {}
        self._tokens: dict[UUID, object] = {}
        self._waiting: weakref.WeakKeyDictionary[Any, object] = weakref.WeakKeyDictionary()
        # The context each run's root started in, by span (see _start).
        self._base: weakref.WeakKeyDictionary[Any, Context] = weakref.WeakKeyDictionary()
        self._chunks: dict[UUID, int] = {}
        self._lock = threading.Lock()

    # -- helpers -----------------------------------------------------------------------------

    def _start(
        self,
        run_id: UUID,
        parent_run_id: UUID | None,
        name: str,
        span_type: str,
        inputs: Any,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if not (self.enabled and config().enabled):
            return
        try:
            parent = self._spans.get(parent_run_id) if parent_run_id is not None else None
            if parent is not None:
                base = self._base.get(parent.otel_span)
            else:
                # A run without a LangChain parent starts from the current context, except
                # when the current span is another run's that LangChain started beside it
                # (the inputs of a batch): then it starts where that run started.
                current = otel_trace.get_current_span()
                base = self._base.get(current) if current.get_span_context().is_valid else None
                if base is None:
                    base = context_api.get_current()
            live = start_detached_span(name, span_attributes(span_type, extra), parent, base)
            if base is not None:
                with self._lock:
                    self._base[live.otel_span] = base
            live.set_inputs(inputs)
            # The run's span becomes current, so that traced functions and other instrumented
            # calls made inside a tool, a retriever or a chain step nest under it. LangChain
            # runs each step in a copy of the context taken after this callback.
            token = context_api.attach(otel_trace.set_span_in_context(live.otel_span))
            with self._lock:
                self._spans[run_id] = live
                self._tokens[run_id] = token
        except Exception:
            _logger.warning("mltrail: LangChain run %s not traced", name, exc_info=True)

    def _end(self, run_id: UUID, outputs: Any = None, error: BaseException | None = None) -> None:
        with self._lock:
            live = self._spans.pop(run_id, None)
            token = self._tokens.pop(run_id, None)
            self._chunks.pop(run_id, None)
        if live is None:
            return
        try:
            if error is not None:
                finish(live, error)
            else:
                finish(live, outputs=outputs, has_outputs=True)
        finally:
            if token is not None:
                self._release(live, token)

    def _release(self, live: LiveSpan, token: object) -> None:
        """Stop the run's span being current, in the order the spans were made current.

        Runs may end in another order than the reverse of their start: ``batch`` starts every
        input's run, then ends them first to last. Undoing a later attach restores the context
        from before it, which holds the earlier run's span, so a run that ends while it is not
        the current span waits until the spans above it are undone. Waiting entries are held by
        their span weakly: a context that is never unwound here (another thread's) lets go of them.
        """
        span = live.otel_span
        if otel_trace.get_current_span() is not span:
            with self._lock:
                self._waiting[span] = token
            return
        _detach_quietly(token)
        while True:
            current = otel_trace.get_current_span()
            with self._lock:
                waiting = self._waiting.pop(current, None) if current.get_span_context().is_valid else None
            if waiting is None:
                return
            _detach_quietly(waiting)

    # -- chains ------------------------------------------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any],
        inputs: dict[str, Any],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a CHAIN span."""
        self._start(run_id, parent_run_id, _name(serialized, kwargs, "chain"), SpanType.CHAIN, inputs)

    def on_chain_end(self, outputs: dict[str, Any], *, run_id: UUID, **kwargs: Any) -> None:
        """Close a CHAIN span with its outputs."""
        self._end(run_id, outputs)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a CHAIN span with the error."""
        self._end(run_id, error=error)

    # -- models ------------------------------------------------------------------------------

    def _model_attributes(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        extra: dict[str, Any] = {attr.MESSAGE_FORMAT: "langchain"}
        params = kwargs.get("invocation_params") or {}
        metadata = kwargs.get("metadata") or {}
        model = params.get("model") or params.get("model_name") or metadata.get("ls_model_name")
        if isinstance(model, str):
            extra[attr.LLM_MODEL] = model
        provider = metadata.get("ls_provider")
        if isinstance(provider, str):
            extra[attr.LLM_PROVIDER] = provider
        if params.get("tools"):
            extra[attr.CHAT_TOOLS] = params["tools"]
        return extra

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a CHAT_MODEL span with the messages as inputs."""
        inputs = messages[0] if len(messages) == 1 else messages
        name = _name(serialized, kwargs, "chat_model")
        self._start(run_id, parent_run_id, name, SpanType.CHAT_MODEL, inputs, self._model_attributes(kwargs))

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Open an LLM span with the prompts as inputs."""
        inputs = prompts[0] if len(prompts) == 1 else prompts
        name = _name(serialized, kwargs, "llm")
        self._start(run_id, parent_run_id, name, SpanType.LLM, inputs, self._model_attributes(kwargs))

    def on_llm_new_token(self, token: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Record a streamed token as a chunk event."""
        live = self._spans.get(run_id)
        if live is None:
            return
        index = self._chunks.get(run_id, 0)
        self._chunks[run_id] = index + 1
        live.otel_span.add_event(f"{attr.CHUNK_EVENT_PREFIX}{index}", {attr.CHUNK_VALUE: to_json(token)})

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a model span with its generations and token usage."""
        live = self._spans.get(run_id)
        if live is not None:
            try:
                usage = _usage_of(response)
                if usage is not None:
                    live.set_token_usage(*usage)
            except Exception:
                _logger.debug("mltrail: token usage not recorded", exc_info=True)
        self._end(run_id, response)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a model span with the error."""
        self._end(run_id, error=error)

    # -- tools and retrievers ------------------------------------------------------------------

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a TOOL span."""
        name = _name(serialized, kwargs, "tool")
        self._start(run_id, parent_run_id, name, SpanType.TOOL, inputs if inputs is not None else input_str)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a TOOL span with its output."""
        self._end(run_id, output)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a TOOL span with the error."""
        self._end(run_id, error=error)

    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Open a RETRIEVER span with the query as inputs."""
        name = _name(serialized, kwargs, "retriever")
        self._start(run_id, parent_run_id, name, SpanType.RETRIEVER, {"query": query})

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        """Close a RETRIEVER span with the documents."""
        self._end(run_id, list(documents))

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Close a RETRIEVER span with the error."""
        self._end(run_id, error=error)


_handler: MltrailCallbackHandler | None = None
_hook_lock = threading.Lock()


def is_enabled() -> bool:
    """Whether LangChain runs are traced automatically now."""
    return _handler is not None and _handler.enabled


def enable() -> MltrailCallbackHandler:
    """Trace every LangChain run from now on (idempotent) and return the handler."""
    global _handler
    with _hook_lock:
        if _handler is None:
            handler = MltrailCallbackHandler()
            # A default makes the handler visible in every thread and task, not only this context.
            variable: contextvars.ContextVar[MltrailCallbackHandler | None] = contextvars.ContextVar(
                "mltrail_langchain_handler", default=handler
            )
            register_configure_hook(variable, inheritable=True)
            _handler = handler
        _handler.enabled = True
        return _handler


def disable() -> None:
    """Stop tracing LangChain runs automatically."""
    with _hook_lock:
        if _handler is not None:
            _handler.enabled = False
