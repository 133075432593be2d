"""A loopback HTTP/1.1 server that answers every request at once, doing no work.

``bench/server.py`` points its 16-client workload at it to measure the benchmark client's own
ceiling on this machine: the most requests per second any server could be credited with. It
answers the calls the workload's setup makes (``experiments/create``, ``runs/create``) with
well-formed replies and everything else with ``{}``.

Run ``python bench/_null_http.py PORT``.
"""

from __future__ import annotations

import asyncio
import sys

_REPLIES = {
    b"/api/2.0/mlflow/experiments/create": b'{"experiment_id":"0"}',
    b"/api/2.0/mlflow/runs/create": b'{"run":{"info":{"run_id":"r0"}}}',
}


def _response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return  # the body is still coming
            self.buffer = self.buffer[end + 4 + length :]
            target = head.split(b" ", 2)[1].split(b"?", 1)[0]
            assert self.transport is not None
            self.transport.write(_response(_REPLIES.get(target, b"{}")))


async def _serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Protocol, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1])))
