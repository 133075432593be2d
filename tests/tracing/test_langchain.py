"""Auto-tracing of LangChain: a chain with a fake chat model, a tool and a retriever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import tool
from opentelemetry import trace as otel_trace

import mltrail
import mltrail.langchain
from mltrail.tracing.entities import SpanData, Trace
from mltrail.tracing.store.memory import InMemoryTraceStore


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    mltrail.langchain.autolog()
    yield
    mltrail.langchain.autolog(disable=True)


def _model(*replies: str) -> GenericFakeChatModel:
    messages = [
        AIMessage(content=r, usage_metadata={"input_tokens": 7, "output_tokens": 2, "total_tokens": 9})
        for r in replies
    ]
    return GenericFakeChatModel(messages=iter(messages))


def _traces(store: InMemoryTraceStore) -> list[Trace]:
    assert mltrail.flush_traces(30)
    infos = store.search_traces(["0"], order_by=["timestamp_ms ASC"]).items
    return [store.get_trace(i.trace_id) for i in infos]


def _by_type(trace: Trace, span_type: str) -> list[SpanData]:
    return [s for s in trace.spans if s.attributes.get("mlflow.spanType") == span_type]


def test_chain_with_fake_chat_model(memory_store: InMemoryTraceStore) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "be brief"), ("user", "{question}")])
    chain = prompt | _model("Paris") | StrOutputParser()
    assert chain.invoke({"question": "capital of France?"}) == "Paris"
    (trace,) = _traces(memory_store)
    root = next(s for s in trace.spans if s.is_root)
    assert root.name == "RunnableSequence"
    assert root.attributes["mlflow.spanType"] == "CHAIN"
    assert root.attributes["mlflow.spanInputs"] == {"question": "capital of France?"}
    assert root.attributes["mlflow.spanOutputs"] == "Paris"
    (chat,) = _by_type(trace, "CHAT_MODEL")
    assert chat.parent_span_id == root.span_id
    messages = chat.attributes["mlflow.spanInputs"]
    assert [m["content"] for m in messages] == ["be brief", "capital of France?"]
    assert chat.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 7,
        "output_tokens": 2,
        "total_tokens": 9,
    }
    assert trace.info.trace_metadata["mlflow.trace.tokenUsage"] == (
        '{"input_tokens":7,"output_tokens":2,"total_tokens":9}'
    )
    names = {s.name for s in trace.spans}
    assert {"ChatPromptTemplate", "GenericFakeChatModel", "StrOutputParser"} <= names


def test_tool_and_retriever_spans(memory_store: InMemoryTraceStore) -> None:
    @tool
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    class Shelf(BaseRetriever):
        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[Document]:
            return [Document(page_content=f"about {query}", metadata={"rank": 1})]

    assert multiply.invoke({"a": 6, "b": 7}) == 42
    docs = Shelf().invoke("owls")
    assert docs[0].page_content == "about owls"
    tool_trace, retriever_trace = _traces(memory_store)
    (tool_span,) = _by_type(tool_trace, "TOOL")
    assert tool_span.name == "multiply"
    assert tool_span.attributes["mlflow.spanInputs"] == {"a": 6, "b": 7}
    assert tool_span.attributes["mlflow.spanOutputs"] == 42
    (retriever_span,) = _by_type(retriever_trace, "RETRIEVER")
    assert retriever_span.attributes["mlflow.spanInputs"] == {"query": "owls"}
    assert retriever_span.attributes["mlflow.spanOutputs"][0]["page_content"] == "about owls"


def test_chain_inside_a_traced_function_nests_and_errors_are_recorded(
    memory_store: InMemoryTraceStore,
) -> None:
    @tool
    def explode(x: str) -> str:
        """Always fails."""
        raise RuntimeError(f"cannot handle {x}")

    @mltrail.trace(span_type="AGENT")
    def agent() -> str:
        with contextlib.suppress(RuntimeError):
            explode.invoke({"x": "this"})
        return "recovered"

    assert agent() == "recovered"
    (trace,) = _traces(memory_store)
    root = next(s for s in trace.spans if s.is_root)
    assert root.name == "agent"
    (tool_span,) = _by_type(trace, "TOOL")
    assert tool_span.parent_span_id == root.span_id
    assert tool_span.status_code == "ERROR"
    assert tool_span.events[0].attributes["exception.message"] == "cannot handle this"


def test_traced_functions_inside_a_tool_nest_under_it(
    memory_store: InMemoryTraceStore, caplog: pytest.LogCaptureFixture
) -> None:
    @mltrail.trace(span_type="RETRIEVER")
    def lookup(city: str) -> str:
        return f"sunny in {city}"

    @tool
    def weather(city: str) -> str:
        """The weather in a city."""
        return lookup(city)

    async def ask_async() -> str:
        return str(await weather.ainvoke({"city": "Oslo"}))

    def as_args(city: str) -> dict[str, str]:
        return {"city": city}

    chain: Runnable[str, Any] = RunnableLambda(as_args) | weather
    assert chain.invoke("Lima") == "sunny in Lima"
    assert asyncio.run(ask_async()) == "sunny in Oslo"
    assert chain.batch(["Rome", "Kyiv"]) == ["sunny in Rome", "sunny in Kyiv"]
    # Nothing of the runs stays current once they are over.
    assert not otel_trace.get_current_span().get_span_context().is_valid
    traces = _traces(memory_store)
    assert len(traces) == 4
    for trace in traces:
        (tool_span,) = _by_type(trace, "TOOL")
        (inner,) = [s for s in trace.spans if s.name == "lookup"]
        assert inner.parent_span_id == tool_span.span_id
        assert inner.attributes["mlflow.spanOutputs"].startswith("sunny in ")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_async_and_streamed_chain(memory_store: InMemoryTraceStore) -> None:
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | _model("one two three") | StrOutputParser()

    async def main() -> str:
        return "".join([chunk async for chunk in chain.astream({"q": "count"})])

    assert asyncio.run(main()) == "one two three"
    (trace,) = _traces(memory_store)
    (chat,) = _by_type(trace, "CHAT_MODEL")
    assert [e.name for e in chat.events if e.name.startswith("mlflow.chunk.item.")]
    assert chat.status_code == "OK"


def test_disable_stops_tracing(memory_store: InMemoryTraceStore) -> None:
    mltrail.langchain.autolog(disable=True)
    chain = ChatPromptTemplate.from_messages([("user", "{q}")]) | _model("x")
    chain.invoke({"q": "hi"})
    assert _traces(memory_store) == []
