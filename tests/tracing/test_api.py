"""The tracing API: @trace on every kind of function, start_span, trace-level updates, linkage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Generator, Iterator

import orjson
import pytest

import mltrail
from mltrail.tracing import api, setup
from mltrail.tracing.entities import SpanData, Trace, TraceState
from mltrail.tracing.store.memory import InMemoryTraceStore


def _only_trace(store: InMemoryTraceStore, experiment_id: str = "0") -> Trace:
    assert mltrail.flush_traces(10)
    infos = store.search_traces([experiment_id]).items
    assert len(infos) == 1, infos
    return store.get_trace(infos[0].trace_id)


def _span(trace: Trace, name: str) -> SpanData:
    matches = [s for s in trace.spans if s.name == name]
    assert len(matches) == 1, [s.name for s in trace.spans]
    return matches[0]


def test_sync_function_records_inputs_outputs_and_type(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace(span_type=mltrail.SpanType.TOOL, attributes={"team": "search", "cfg": {"k": 3}})
    def add(a: int, b: int = 2) -> int:
        return a + b

    assert add(1, b=5) == 6
    trace = _only_trace(memory_store)
    span = _span(trace, "add")
    assert span.is_root
    assert span.status_code == "OK"
    assert span.attributes["mlflow.spanType"] == "TOOL"
    assert span.attributes["mlflow.spanInputs"] == {"a": 1, "b": 5}
    assert span.attributes["mlflow.spanOutputs"] == 6
    assert span.attributes["mlflow.spanFunctionName"].endswith("add")
    assert span.attributes["mlflow.traceRequestId"] == trace.info.trace_id
    assert span.attributes["team"] == "search"
    assert orjson.loads(span.attributes["cfg"]) == {"k": 3}
    assert trace.info.state == TraceState.OK
    assert trace.info.tags["mlflow.traceName"] == "add"
    assert trace.info.request_preview == '{"a":1,"b":5}'
    assert trace.info.response_preview == "6"


def test_methods_leave_self_out_and_nesting_follows_calls(memory_store: InMemoryTraceStore) -> None:
    class Agent:
        @mltrail.trace(span_type="AGENT")
        def run(self, question: str) -> str:
            return self.lookup(question).upper()

        @mltrail.trace(name="lookup-tool", span_type="TOOL")
        def lookup(self, query: str) -> str:
            return f"found {query}"

    assert Agent().run("cats") == "FOUND CATS"
    trace = _only_trace(memory_store)
    root, child = _span(trace, "run"), _span(trace, "lookup-tool")
    assert root.attributes["mlflow.spanInputs"] == {"question": "cats"}
    assert child.parent_span_id == root.span_id
    assert child.trace_id == root.trace_id


def test_exception_is_recorded_and_propagates(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace
    def fail(x: int) -> None:
        raise ValueError(f"bad {x}")

    with pytest.raises(ValueError, match="bad 3"):
        fail(3)
    trace = _only_trace(memory_store)
    span = _span(trace, "fail")
    assert span.status_code == "ERROR"
    assert "ValueError: bad 3" in span.status_message
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "bad 3"
    assert "Traceback" in event.attributes["exception.stacktrace"]
    assert trace.info.state == TraceState.ERROR


def test_async_function(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace(span_type="CHAIN")
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return await inner(x)

    @mltrail.trace
    async def inner(x: int) -> int:
        return 2 * x

    assert asyncio.run(double(21)) == 42
    trace = _only_trace(memory_store)
    assert _span(trace, "double").attributes["mlflow.spanOutputs"] == 42
    assert _span(trace, "inner").parent_span_id == _span(trace, "double").span_id


def test_concurrent_async_tasks_make_separate_traces(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace
    async def task(i: int) -> int:
        await asyncio.sleep(0.01)
        return i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(task(i) for i in range(5))))

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    mltrail.flush_traces(10)
    infos = memory_store.search_traces(["0"]).items
    assert len(infos) == 5
    outputs = sorted(int(i.response_preview or "-1") for i in infos)
    assert outputs == [0, 1, 2, 3, 4]


def test_generator_records_chunks_and_outputs(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace(output_reducer=lambda items: "".join(items))
    def stream(words: list[str]) -> Iterator[str]:
        for word in words:
            with mltrail.start_span("per-word") as span:
                span.set_inputs(word)
            yield word

    assert list(stream(["a", "b", "c"])) == ["a", "b", "c"]
    trace = _only_trace(memory_store)
    root = _span(trace, "stream")
    assert root.attributes["mlflow.spanOutputs"] == "abc"
    chunks = [e for e in root.events if e.name.startswith("mlflow.chunk.item.")]
    assert [e.name for e in chunks] == [f"mlflow.chunk.item.{i}" for i in range(3)]
    assert [e.attributes["mlflow.chunk.value"] for e in chunks] == ["a", "b", "c"]
    children = [s for s in trace.spans if s.name == "per-word"]
    assert len(children) == 3 and all(c.parent_span_id == root.span_id for c in children)


def test_generator_closed_early_still_ends_its_span(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace
    def numbers() -> Generator[int, None, None]:
        yield from range(100)

    gen = numbers()
    assert next(gen) == 0 and next(gen) == 1
    gen.close()
    trace = _only_trace(memory_store)
    assert _span(trace, "numbers").attributes["mlflow.spanOutputs"] == [0, 1]


def test_async_generator(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace
    async def ticks(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    async def consume() -> list[int]:
        return [i async for i in ticks(3)]

    assert asyncio.run(consume()) == [0, 1, 2]
    trace = _only_trace(memory_store)
    span = _span(trace, "ticks")
    assert span.attributes["mlflow.spanOutputs"] == [0, 1, 2]
    assert len([e for e in span.events if e.name.startswith("mlflow.chunk.item.")]) == 3


def test_start_span_context_manager_and_current_span(memory_store: InMemoryTraceStore) -> None:
    assert mltrail.get_current_active_span() is None
    with mltrail.start_span("outer", span_type="CHAIN") as outer:
        outer.set_inputs({"q": "hi"})
        current = mltrail.get_current_active_span()
        assert current is not None and current.span_id == outer.span_id
        with mltrail.start_span("retrieve", span_type="RETRIEVER", attributes={"k": 2}) as inner:
            inner.set_outputs([{"doc": 1}])
            inner.add_event("cache-miss", {"key": "hi"})
        outer.set_outputs("done")
    assert mltrail.get_current_active_span() is None
    trace = _only_trace(memory_store)
    assert trace.info.trace_id == outer.trace_id
    retrieve = _span(trace, "retrieve")
    assert retrieve.parent_span_id == outer.span_id
    assert retrieve.attributes["mlflow.spanType"] == "RETRIEVER"
    assert retrieve.attributes["k"] == 2
    assert retrieve.events[0].name == "cache-miss"
    assert _span(trace, "outer").attributes["mlflow.spanOutputs"] == "done"
    assert trace.info.response_preview == "done"


def test_start_span_records_exception(memory_store: InMemoryTraceStore) -> None:
    with pytest.raises(KeyError), mltrail.start_span("lookup"):
        raise KeyError("missing")
    span = _span(_only_trace(memory_store), "lookup")
    assert span.status_code == "ERROR"
    assert span.events[0].attributes["exception.type"] == "KeyError"


def test_update_current_trace_sets_tags_metadata_session_user(memory_store: InMemoryTraceStore) -> None:
    @mltrail.trace
    def handle(question: str) -> str:
        mltrail.update_current_trace(
            tags={"env": "prod"},
            metadata={"release": "1.2", "long": "x" * 400},
            client_request_id="req-7",
            session_id="session-1",
            user_id="alice",
            response_preview="custom preview",
        )
        return "answer"

    handle("q")
    info = _only_trace(memory_store).info
    assert info.tags["env"] == "prod"
    assert info.trace_metadata["release"] == "1.2"
    assert len(info.trace_metadata["long"]) == 250
    assert info.trace_metadata["mlflow.trace.session"] == "session-1"
    assert info.trace_metadata["mlflow.trace.user"] == "alice"
    assert info.client_request_id == "req-7"
    assert info.response_preview == "custom preview"


def test_update_current_trace_outside_a_trace_warns(
    memory_store: InMemoryTraceStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        mltrail.update_current_trace(tags={"a": "b"})
    assert "outside a trace" in caplog.text


def test_token_usage_and_cost_are_summed_without_double_counting(memory_store: InMemoryTraceStore) -> None:
    with mltrail.start_span("agent", span_type="AGENT"):
        for _ in range(2):
            with mltrail.start_span("llm", span_type="CHAT_MODEL") as llm:
                llm.set_token_usage(10, 5)
                llm.set_cost(0.001, 0.002)
                with mltrail.start_span("provider-call") as inner:
                    inner.set_token_usage(10, 5)  # the same tokens seen one level down
    info = _only_trace(memory_store).info
    assert orjson.loads(info.trace_metadata["mlflow.trace.tokenUsage"]) == {
        "input_tokens": 20,
        "output_tokens": 10,
        "total_tokens": 30,
    }
    cost = orjson.loads(info.trace_metadata["mlflow.trace.cost"])
    assert cost["total_cost"] == pytest.approx(0.006)


def test_disabled_tracing_calls_through(memory_store: InMemoryTraceStore) -> None:
    setup.configure(enabled=False)

    @mltrail.trace
    def f(x: int) -> int:
        return x + 1

    assert f(1) == 2
    with mltrail.start_span("nothing") as span:
        span.set_inputs("ignored")
    assert mltrail.flush_traces(5)
    assert memory_store.search_traces(["0"]).items == []


def test_unserializable_and_huge_values_are_captured_safely(memory_store: InMemoryTraceStore) -> None:
    setup.configure(max_value_chars=200)

    class Opaque:
        def __repr__(self) -> str:
            return "<Opaque>"

        def __str__(self) -> str:
            return "opaque-object"

    @mltrail.trace
    def f(obj: object, blob: bytes, big: str) -> dict[str, object]:
        return {"set": {1}, "obj": obj}

    f(Opaque(), b"\x00\x01", "y" * 10_000)
    span = _span(_only_trace(memory_store), "f")
    inputs = span.attributes["mlflow.spanInputs"]
    assert isinstance(inputs, str) and "truncated" in inputs  # cut at the cap, kept as text
    assert span.attributes["mlflow.spanOutputs"] == {"set": [1], "obj": "opaque-object"}


def test_traces_in_a_run_are_linked_to_it(sqlite_uri: str) -> None:
    experiment = mltrail.set_experiment("traced")

    @mltrail.trace
    def predict(x: int) -> int:
        return x * 2

    with mltrail.start_run() as run:
        predict(2)
    predict(3)
    assert mltrail.flush_traces(30)
    store = setup.trace_store()
    infos = store.search_traces([experiment.experiment_id], order_by=["timestamp_ms ASC"]).items
    assert len(infos) == 2
    linked = [i for i in infos if i.trace_metadata.get("mlflow.sourceRun") == run.info.run_id]
    assert len(linked) == 1 and linked[0].request_preview == '{"x":2}'
    assert all(i.experiment_id == experiment.experiment_id for i in infos)


def test_set_destination_sends_traces_to_another_experiment(sqlite_uri: str) -> None:
    other = mltrail.create_experiment("elsewhere")
    mltrail.set_experiment("active-one")
    setup.set_destination(other)

    @mltrail.trace
    def f() -> str:
        return "ok"

    f()
    assert mltrail.flush_traces(30)
    assert len(setup.trace_store().search_traces([other]).items) == 1


def test_a_broken_tracing_setup_never_breaks_the_traced_call(
    memory_store: InMemoryTraceStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("tracer provider exploded")

    monkeypatch.setattr(api, "runtime", broken)

    @mltrail.trace
    def f(x: int) -> int:
        return x + 1

    with caplog.at_level(logging.WARNING):
        assert f(1) == 2
        with mltrail.start_span("s") as span:
            span.set_inputs("still fine")
    assert "runs untraced" in caplog.text
