"""Auto-tracing of the official openai client against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest

import mltrail
import mltrail.openai
from mltrail.tracing.entities import SpanData, Trace
from mltrail.tracing.store.memory import InMemoryTraceStore
from tests.tracing.openai_server import MODEL, FakeOpenAIServer

MESSAGES: Any = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there world"}]


@pytest.fixture(autouse=True)
def _autolog() -> Iterator[None]:
    mltrail.openai.autolog()
    yield
    mltrail.openai.autolog(disable=True)


@pytest.fixture
def client(openai_server: FakeOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=openai_server.base_url, api_key="test-key", max_retries=0)


@pytest.fixture
def async_client(openai_server: FakeOpenAIServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="test-key", max_retries=0)


def _traces(store: InMemoryTraceStore) -> list[Trace]:
    assert mltrail.flush_traces(30)
    infos = store.search_traces(["0"], order_by=["timestamp_ms ASC"]).items
    return [store.get_trace(i.trace_id) for i in infos]


def _llm_span(trace: Trace) -> SpanData:
    (span,) = [s for s in trace.spans if s.attributes.get("mlflow.llm.provider") == "openai"]
    return span


def test_chat_completion(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    response = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0)
    assert response.choices[0].message.content == "echo: hello there world"
    (trace,) = _traces(memory_store)
    span = _llm_span(trace)
    assert span.name == "Completions"
    assert span.attributes["mlflow.spanType"] == "CHAT_MODEL"
    assert span.attributes["mlflow.spanInputs"]["messages"] == MESSAGES
    assert span.attributes["mlflow.spanInputs"]["temperature"] == 0
    assert (
        span.attributes["mlflow.spanOutputs"]["choices"][0]["message"]["content"] == "echo: hello there world"
    )
    assert span.attributes["mlflow.llm.model"] == MODEL
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 3,
        "output_tokens": 4,
        "total_tokens": 7,
    }
    assert trace.info.trace_metadata["mlflow.trace.tokenUsage"] == (
        '{"input_tokens":3,"output_tokens":4,"total_tokens":7}'
    )


def test_streamed_chat_completion_with_usage_chunk(
    memory_store: InMemoryTraceStore, client: openai.OpenAI
) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "echo: hello there world"
    (trace,) = _traces(memory_store)
    span = _llm_span(trace)
    chunks = [e for e in span.events if e.name.startswith("mlflow.chunk.item.")]
    assert len(chunks) == 6  # 4 words, the finish chunk, the usage chunk
    output = span.attributes["mlflow.spanOutputs"]
    assert output["choices"][0]["message"]["content"] == "echo: hello there world"
    assert output["choices"][0]["finish_reason"] == "stop"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 7
    assert span.status_code == "OK"


def test_stream_used_as_context_manager_and_closed_early(
    memory_store: InMemoryTraceStore, client: openai.OpenAI
) -> None:
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        first = next(iter(stream))
        assert first.choices[0].delta.content == "echo:"
    (trace,) = _traces(memory_store)
    output = _llm_span(trace).attributes["mlflow.spanOutputs"]
    assert output["choices"][0]["message"]["content"] == "echo:"


def test_calls_inside_a_traced_function_nest_under_it(
    memory_store: InMemoryTraceStore, client: openai.OpenAI
) -> None:
    @mltrail.trace(span_type="AGENT")
    def agent(question: str) -> str:
        messages: Any = [{"role": "user", "content": question}]
        reply = client.chat.completions.create(model="m", messages=messages)
        client.embeddings.create(model="text-embedding-3-small", input=[question])
        return reply.choices[0].message.content or ""

    assert agent("two words") == "echo: two words"
    (trace,) = _traces(memory_store)
    root = next(s for s in trace.spans if s.is_root)
    children = sorted(s.name for s in trace.spans if s.parent_span_id == root.span_id)
    assert children == ["Completions", "Embeddings"]
    usage = trace.info.trace_metadata["mlflow.trace.tokenUsage"]
    assert usage == '{"input_tokens":4,"output_tokens":3,"total_tokens":7}'  # chat 2+3, embeddings 2+0


def test_embeddings(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    assert len(result.data) == 2
    (trace,) = _traces(memory_store)
    span = _llm_span(trace)
    assert span.attributes["mlflow.spanType"] == "EMBEDDING"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 3,
        "output_tokens": 0,
        "total_tokens": 3,
    }
    assert len(span.attributes["mlflow.spanOutputs"]["data"]) == 2


def test_responses_api(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o-mini", input="say hi")
    assert response.output_text == "echo: say hi"
    (trace,) = _traces(memory_store)
    span = _llm_span(trace)
    assert span.name == "Responses"
    assert span.attributes["mlflow.spanInputs"] == {"model": "gpt-4o-mini", "input": "say hi"}
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 2,
        "output_tokens": 3,
        "total_tokens": 5,
    }


def test_streamed_responses_api(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="gpt-4o-mini", input="say hi", stream=True))
    assert events[-1].type == "response.completed"
    (trace,) = _traces(memory_store)
    span = _llm_span(trace)
    assert span.attributes["mlflow.spanOutputs"]["output"][0]["content"][0]["text"] == "echo: say hi"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 5


def test_async_client_plain_and_streamed(
    memory_store: InMemoryTraceStore, async_client: openai.AsyncOpenAI
) -> None:
    async def main() -> tuple[str, str]:
        reply = await async_client.chat.completions.create(model="m", messages=MESSAGES)
        stream = await async_client.chat.completions.create(
            model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await async_client.embeddings.create(model="e", input="x y")
        await async_client.close()
        return reply.choices[0].message.content or "", "".join(parts)

    plain, streamed = asyncio.run(main())
    assert plain == streamed == "echo: hello there world"
    traces = _traces(memory_store)
    assert len(traces) == 3
    kinds = sorted(_llm_span(t).name for t in traces)
    assert kinds == ["AsyncCompletions", "AsyncCompletions", "AsyncEmbeddings"]
    assert all(_llm_span(t).attributes["mlflow.chat.tokenUsage"]["total_tokens"] > 0 for t in traces)


def test_errors_are_recorded(memory_store: InMemoryTraceStore) -> None:
    client = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="k", max_retries=0, timeout=2)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    (trace,) = _traces(memory_store)
    span = _llm_span(trace)
    assert span.status_code == "ERROR"
    assert span.events[0].attributes["exception.type"] == "APIConnectionError"


def test_image_content_parts_become_attachments(
    memory_store: InMemoryTraceStore, client: openai.OpenAI
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    content = [{"type": "text", "text": "describe"}, {"type": "image_url", "image_url": {"url": url}}]
    messages: Any = [{"role": "user", "content": content}]
    client.chat.completions.create(model="m", messages=messages)
    (trace,) = _traces(memory_store)
    stored_url = _llm_span(trace).attributes["mlflow.spanInputs"]["messages"][0]["content"][1]["image_url"][
        "url"
    ]
    assert stored_url.startswith("mlflow-attachment://") and f"size={len(png)}" in stored_url


def test_disable_restores_the_client(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    mltrail.openai.autolog(disable=True)
    client.chat.completions.create(model="m", messages=MESSAGES)
    assert _traces(memory_store) == []


def test_stream_consumed_after_the_traced_function_returned_joins_its_trace(
    memory_store: InMemoryTraceStore, client: openai.OpenAI
) -> None:
    @mltrail.trace
    def ask() -> Any:
        return client.chat.completions.create(model="m", messages=MESSAGES, stream=True)

    stream = ask()
    assert mltrail.flush_traces(30)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "echo: hello there world"
    (trace,) = _traces(memory_store)
    assert sorted(s.name for s in trace.spans) == ["Completions", "ask"]
    completions = _llm_span(trace)
    assert completions.parent_span_id == next(s.span_id for s in trace.spans if s.name == "ask")
    assert (
        completions.attributes["mlflow.spanOutputs"]["choices"][0]["message"]["content"]
        == "echo: hello there world"
    )


class Answer(pydantic.BaseModel):
    """The structured output the parse tests ask for."""

    answer: str


@pytest.mark.filterwarnings("error")  # recording the parsed model must not warn
def test_parse_with_structured_output(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(model="gpt-4o-mini", messages=MESSAGES, response_format=Answer)
    parsed = completion.choices[0].message.parsed
    assert parsed == Answer(answer="echo: hello there world")
    response = client.responses.parse(model="gpt-4o-mini", input="say hi", text_format=Answer)
    assert response.output_parsed == Answer(answer="echo: say hi")
    chat, responses = (_llm_span(t) for t in _traces(memory_store))
    assert (chat.name, responses.name) == ("Completions", "Responses")
    assert chat.attributes["mlflow.spanInputs"]["messages"] == MESSAGES
    assert "Answer" in str(chat.attributes["mlflow.spanInputs"]["response_format"])
    message = chat.attributes["mlflow.spanOutputs"]["choices"][0]["message"]
    assert message["parsed"] == {"answer": "echo: hello there world"}
    assert chat.attributes["mlflow.chat.tokenUsage"]["input_tokens"] == 3
    content = responses.attributes["mlflow.spanOutputs"]["output"][0]["content"][0]
    assert content["parsed"] == {"answer": "echo: say hi"}
    assert responses.attributes["mlflow.chat.tokenUsage"]["input_tokens"] == 2


def test_stream_helpers(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=MESSAGES, stream_options={"include_usage": True}
    ) as chat_stream:
        for _ in chat_stream:
            pass
        assert chat_stream.get_final_completion().choices[0].message.content == "echo: hello there world"
    with client.responses.stream(model="gpt-4o-mini", input="say hi") as response_stream:
        for _ in response_stream:
            pass
        assert response_stream.get_final_response().output_text == "echo: say hi"
    chat, responses = (_llm_span(t) for t in _traces(memory_store))
    chat_output = chat.attributes["mlflow.spanOutputs"]["choices"][0]["message"]["content"]
    assert chat_output == "echo: hello there world"
    assert chat.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 7
    assert responses.attributes["mlflow.spanOutputs"]["output"][0]["content"][0]["text"] == "echo: say hi"
    assert responses.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 5
    assert chat.status_code == responses.status_code == "OK"


@pytest.mark.filterwarnings("error")  # recording the parsed model must not warn
def test_async_parse(memory_store: InMemoryTraceStore, async_client: openai.AsyncOpenAI) -> None:
    async def run() -> tuple[Any, Any]:
        chat = await async_client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Answer)
        response = await async_client.responses.parse(model="m", input="say hi", text_format=Answer)
        return chat.choices[0].message.parsed, response.output_parsed

    assert asyncio.run(run()) == (Answer(answer="echo: hello there world"), Answer(answer="echo: say hi"))
    chat, responses = (_llm_span(t) for t in _traces(memory_store))
    assert chat.attributes["mlflow.spanOutputs"]["choices"][0]["message"]["parsed"]["answer"].startswith(
        "echo"
    )
    assert responses.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 5


def test_raw_responses(memory_store: InMemoryTraceStore, client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
    assert raw.http_response.status_code == 200
    assert raw.parse().choices[0].message.content == "echo: hello there world"
    with client.chat.completions.with_streaming_response.create(model="m", messages=MESSAGES) as streaming:
        assert streaming.parse().choices[0].message.content == "echo: hello there world"
    raw_stream = client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in raw_stream.parse() if c.choices)
    assert text == "echo: hello there world"

    parsed, streaming_span, streamed = (_llm_span(t) for t in _traces(memory_store))
    # The raw response's body was read by the call: its parsed form is the output.
    assert (
        parsed.attributes["mlflow.spanOutputs"]["choices"][0]["message"]["content"]
        == "echo: hello there world"
    )
    assert parsed.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 7
    # The caller reads these bodies later: the span has the request only, and the body is intact.
    for span in (streaming_span, streamed):
        assert span.attributes["mlflow.spanInputs"]["messages"] == MESSAGES
        assert "mlflow.spanOutputs" not in span.attributes
        assert span.status_code == "OK"
