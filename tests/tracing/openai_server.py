"""A small OpenAI-compatible HTTP server for tests: chat completions (with SSE streaming and the
usage chunk), embeddings and the responses API, served by uvicorn on a free loopback port.

Replies are deterministic: the assistant answers ``"echo: <last user text>"`` (as the JSON object
``{"answer": "echo: ..."}`` when a JSON schema response format is asked for, as ``parse`` does)
and token counts are word counts, so tests can assert exact values. Streams of the responses API
send the full event sequence the openai client's ``responses.stream`` helper expects.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

MODEL = "gpt-test-mini"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            parts = [
                p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("type") == "text"
            ]
            return " ".join(parts)
    return ""


def _words(text: str) -> int:
    return len(text.split())


def _answer(prompt: str, response_format: Any) -> str:
    text = f"echo: {prompt}"
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        return orjson.dumps({"answer": text}).decode()
    return text


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def build_app() -> FastAPI:
    """The ASGI app of the fake server."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.json()
        prompt = _last_user_text(body["messages"])
        answer = _answer(prompt, body.get("response_format"))
        usage = {
            "prompt_tokens": _words(prompt),
            "completion_tokens": _words(answer),
            "total_tokens": _words(prompt) + _words(answer),
        }
        created = int(time.time())
        if not body.get("stream"):
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": created,
                    "model": MODEL,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def events() -> Iterator[bytes]:
            base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": created, "model": MODEL}
            pieces = answer.split(" ")
            for i, piece in enumerate(pieces):
                text = piece if i == 0 else " " + piece
                delta = {"role": "assistant", "content": text} if i == 0 else {"content": text}
                yield _sse({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            yield _sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if include_usage:
                yield _sse({**base, "choices": [], "usage": usage})
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        tokens = sum(_words(str(text)) for text in inputs)
        return {
            "object": "list",
            "model": body.get("model", MODEL),
            "data": [
                {"object": "embedding", "index": i, "embedding": [float(len(str(t))), 0.5, -0.25]}
                for i, t in enumerate(inputs)
            ],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    @app.post("/v1/responses")
    async def responses(request: Request) -> Any:
        body = await request.json()
        raw = body["input"]
        prompt = raw if isinstance(raw, str) else _last_user_text(raw)
        answer = _answer(prompt, (body.get("text") or {}).get("format"))
        message = {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": answer, "annotations": []}],
        }
        response = {
            "id": "resp_1",
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": MODEL,
            "output": [message],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": _words(prompt),
                "output_tokens": _words(answer),
                "total_tokens": _words(prompt) + _words(answer),
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }
        if not body.get("stream"):
            return response

        def events() -> Iterator[bytes]:
            seq = iter(range(1_000))
            part = {"type": "output_text", "text": "", "annotations": []}
            at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
            sequence: list[dict[str, Any]] = [
                {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {**message, "status": "in_progress", "content": []},
                },
                {"type": "response.content_part.added", **at, "part": part},
            ]
            pieces = answer.split(" ")
            for i, piece in enumerate(pieces):
                delta = piece if i == 0 else " " + piece
                sequence.append({"type": "response.output_text.delta", **at, "delta": delta, "logprobs": []})
            sequence += [
                {"type": "response.output_text.done", **at, "text": answer, "logprobs": []},
                {"type": "response.content_part.done", **at, "part": {**part, "text": answer}},
                {"type": "response.output_item.done", "output_index": 0, "item": message},
                {"type": "response.completed", "response": response},
            ]
            for event in sequence:
                yield _sse({**event, "sequence_number": next(seq)})

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeOpenAIServer:
    """Runs :func:`build_app` with uvicorn in a background thread."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        config = uvicorn.Config(build_app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-openai", daemon=True)

    def start(self) -> None:
        """Start serving and wait until the port accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._server.started:
                return
            time.sleep(0.05)
        raise RuntimeError("fake OpenAI server did not start")

    def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        self._thread.join(10)
