"""Closed-loop HTTP load for ``bench/serving.py``: N keep-alive clients posting one fixed request.

Each client holds one connection and sends its next request as soon as the previous answer is
read, so the measured latency includes queueing inside the server. The clients speak raw
HTTP/1.1 over asyncio streams, which costs far less CPU per request than an HTTP library and
leaves the (shared) cores to the servers being measured.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["LoadResult", "merge_results", "run_load"]


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    requests: int
    errors: int
    seconds: float
    rows_per_request: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    latencies: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return self.requests / self.seconds

    @property
    def rows_per_second(self) -> float:
        """Rows scored per second."""
        return self.rps * self.rows_per_request


def _request(host: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST /invocations HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = None
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if length is not None:
        await reader.readexactly(length)
    elif chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _client(
    host: str, port: int, payload: bytes, until: float, record_from: float, latencies: list[float]
) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        while True:
            start = time.perf_counter()
            if start >= until:
                break
            writer.write(payload)
            status = await _read_response(reader)
            if start >= record_from:
                if status == 200:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
    finally:
        writer.close()
    return errors


async def _run(
    host: str, port: int, body: bytes, clients: int, warmup: float, duration: float, rows: int
) -> LoadResult:
    payload = _request(host, port, body)
    now = time.perf_counter()
    record_from = now + warmup
    until = record_from + duration
    latencies: list[float] = []
    errors = await asyncio.gather(
        *(_client(host, port, payload, until, record_from, latencies) for _ in range(clients))
    )
    return _result(latencies, sum(errors), duration, rows)


def _result(latencies: list[float], errors: int, seconds: float, rows: int) -> LoadResult:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    return LoadResult(
        requests=len(ordered),
        errors=errors,
        seconds=seconds,
        rows_per_request=rows,
        p50_ms=statistics.median(ordered) * 1000 if ordered else float("nan"),
        p95_ms=pct(0.95),
        p99_ms=pct(0.99),
        latencies=ordered,
    )


def merge_results(results: Sequence[LoadResult]) -> LoadResult:
    """One result for several measured rounds of the same load (counts and latencies pooled)."""
    latencies = [x for r in results for x in r.latencies]
    return _result(
        latencies,
        sum(r.errors for r in results),
        sum(r.seconds for r in results),
        results[0].rows_per_request,
    )


def run_load(
    host: str,
    port: int,
    body: bytes,
    *,
    clients: int,
    warmup: float,
    duration: float,
    rows: int,
) -> LoadResult:
    """Drive ``clients`` closed-loop clients against ``POST /invocations`` and measure.

    Args:
        host: Server address.
        port: Server port.
        body: The JSON request body every client sends.
        clients: Concurrent connections.
        warmup: Seconds of load before measuring starts.
        duration: Seconds measured.
        rows: Rows per request (for rows per second).
    """
    return asyncio.run(_run(host, port, body, clients, warmup, duration, rows))
