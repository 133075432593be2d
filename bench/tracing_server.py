"""Tracing-server benchmark: OTLP ingest and trace search, ``mltrail server`` against ``mlflow server``.

Run ``.venv/bin/python bench/tracing_server.py [--quick] [--skip-mlflow] [--json FILE]``. Both
servers start with their default worker settings, each on a fresh SQLite file in a temporary
directory and a free loopback port (MLflow 3.17.2 from ``bench/.venv-mlflow``), and get an
experiment of their own. The OTLP payloads (``_tracing_server_payloads.py``) are built once and the
very same protobuf bytes go to both: traces of 5 spans (an ``AGENT`` root with a retriever, a chat
model, a tool and a parser below it), with ``mlflow.spanType``, JSON inputs and outputs, token
usage, and trace tags as root ``mlflow.traceTag.<key>`` attributes.

Workloads and goals (mltrail against MLflow):

* OTLP ingest: 100,000 spans (20,000 traces) as 200 ``POST /v1/traces`` requests of 500 spans,
  one client: >= 10x the spans per second;
* ``POST /api/3.0/mlflow/traces/search`` over 100,000 traces with ``tags.team = 'a'`` (one trace
  in ten), ``max_results`` 100, paging through every result: >= 10x faster.

MLflow's ingest stores a few dozen spans a second here, so its rate is timed on fewer requests
(``MLFLOW_INGEST_BATCHES``: the first batches of the same payloads). The ingest requests of both
tools are sent in alternating rounds, and so are the search passes, so both meet the same
background load. The 100,000 search traces are seeded untimed: into mltrail through its
``/v1/traces`` route, into MLflow through its own store (``_tracing_server_mlflow_seed.py``).
Both searches must return the same trace ids. The command exits 1 when a full run misses a goal.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _mlflow_env import MLFLOW_VERSION, ensure_mlflow_env  # noqa: E402
from _server_procs import ServerProcess  # noqa: E402
from _tracing_server_http import SearchPass, TraceApi, database_uri, start_server  # noqa: E402
from _tracing_server_payloads import (  # noqa: E402
    SEARCH_FILTER,
    SPANS_PER_TRACE,
    batches,
    expected_matches,
    otel_trace_id,
)

TRACES_PER_BATCH = 100  # 500 spans a request
PAGE_SIZE = 100
INGEST_ROUNDS = 5
SEARCH_ROUNDS = 2
SEED_CLIENTS = 2
INGEST_GOAL = 10.0
SEARCH_GOAL = 10.0


@dataclass(frozen=True)
class Sizes:
    """How much a run does."""

    ingest_traces: int
    mlflow_ingest_batches: int
    search_traces: int


SIZES = {
    "full": Sizes(ingest_traces=20_000, mlflow_ingest_batches=10, search_traces=100_000),
    "quick": Sizes(ingest_traces=2_000, mlflow_ingest_batches=5, search_traces=10_000),
}


@dataclass
class Tool:
    """One tool's running server and its experiments."""

    name: str
    server: ServerProcess
    api: TraceApi
    workdir: Path
    ingest_experiment: str = ""
    search_experiment: str = ""


def _log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _shares(items: list[bytes], rounds: int) -> Iterator[list[bytes]]:
    size, extra = divmod(len(items), rounds)
    start = 0
    for index in range(rounds):
        end = start + size + (1 if index < extra else 0)
        yield items[start:end]
        start = end


def ingest(tools: list[Tool], payloads: list[bytes], mlflow_batches: int) -> dict[str, dict[str, float]]:
    """Time the OTLP export of ``payloads`` to each tool, in alternating rounds; spans per second."""
    plans = {
        t.name: list(_shares(payloads if t.name == "mltrail" else payloads[:mlflow_batches], INGEST_ROUNDS))
        for t in tools
    }
    seconds = {t.name: 0.0 for t in tools}
    spans = {t.name: 0 for t in tools}
    for index in range(INGEST_ROUNDS):
        for tool in tools:
            share = plans[tool.name][index]
            started = time.perf_counter()
            for payload in share:
                tool.api.export(tool.ingest_experiment, payload)
            seconds[tool.name] += time.perf_counter() - started
            spans[tool.name] += len(share) * TRACES_PER_BATCH * SPANS_PER_TRACE
        _log(
            "ingest round "
            + str(index + 1)
            + ": "
            + ", ".join(f"{n} {spans[n]:,} spans in {seconds[n]:.1f} s" for n in seconds)
        )
    return {
        name: {
            "spans": spans[name],
            "requests": spans[name] // (TRACES_PER_BATCH * SPANS_PER_TRACE),
            "seconds": seconds[name],
            "rate": spans[name] / seconds[name],
        }
        for name in seconds
    }


def check_ingest(tool: Tool, traces: int) -> None:
    """Every ingested trace is searchable and holds all its spans.

    Raises:
        RuntimeError: a trace is missing or incomplete.
    """
    found = tool.api.search(tool.ingest_experiment, "", 500)
    expected = {"tr-" + otel_trace_id("ingest", i).hex() for i in range(traces)}
    if set(found.trace_ids) != expected:
        raise RuntimeError(f"{tool.name} stored {len(set(found.trace_ids)):,} of {traces:,} ingested traces")
    for index in (0, traces - 1):
        count = tool.api.span_count("tr-" + otel_trace_id("ingest", index).hex())
        if count != SPANS_PER_TRACE:
            raise RuntimeError(f"{tool.name} returned {count} spans of trace {index}, not {SPANS_PER_TRACE}")


def seed_mltrail(tool: Tool, traces: int) -> None:
    """Send the search traces through mltrail's ``/v1/traces``, a few requests at a time."""
    apis = [TraceApi(tool.server.url) for _ in range(SEED_CLIENTS)]
    try:
        payloads = batches("search", traces, TRACES_PER_BATCH)
        with ThreadPoolExecutor(max_workers=SEED_CLIENTS) as pool:
            pending = []
            for index, payload in enumerate(payloads):
                pending.append(
                    pool.submit(apis[index % SEED_CLIENTS].export, tool.search_experiment, payload)
                )
                if len(pending) >= 4 * SEED_CLIENTS:
                    pending.pop(0).result()
            for future in pending:
                future.result()
    finally:
        for api in apis:
            api.close()


def seed_mlflow(tool: Tool, traces: int, mlflow_python: Path) -> dict[str, Any]:
    """Write the search traces into MLflow's database through MLflow's own store."""
    out = subprocess.run(
        [
            str(mlflow_python),
            str(BENCH_DIR / "_tracing_server_mlflow_seed.py"),
            database_uri("mlflow", tool.workdir),
            tool.search_experiment,
            "search",
            str(traces),
            "mlflow-artifacts:/",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def search(tools: list[Tool], traces: int, rounds: int = SEARCH_ROUNDS) -> dict[str, dict[str, Any]]:
    """Time full paging passes of the tag-filtered search on each tool, in alternating rounds."""
    passes: dict[str, list[SearchPass]] = {t.name: [] for t in tools}
    for index in range(rounds):
        for tool in tools:
            result = tool.api.search(tool.search_experiment, SEARCH_FILTER, PAGE_SIZE)
            passes[tool.name].append(result)
            _log(
                f"search round {index + 1}: {tool.name} {len(result.trace_ids):,} traces, "
                f"{len(result.page_seconds)} pages in {result.seconds:.2f} s"
            )
    expected = expected_matches(traces)
    reference: list[str] | None = None
    summary: dict[str, dict[str, Any]] = {}
    for name, runs in passes.items():
        for run in runs:
            if len(run.trace_ids) != expected or len(set(run.trace_ids)) != expected:
                raise RuntimeError(
                    f"{name} returned {len(run.trace_ids):,} traces "
                    f"({len(set(run.trace_ids)):,} distinct), expected {expected:,}"
                )
        ids = sorted(runs[0].trace_ids)
        if reference is not None and ids != reference:
            raise RuntimeError("mltrail and MLflow returned different trace ids")
        reference = ids
        times = [run.seconds for run in runs]
        summary[name] = {
            "matches": expected,
            "pages": len(runs[0].page_seconds),
            "seconds_per_pass": times,
            "seconds": min(times),
            "first_page_seconds": min(run.page_seconds[0] for run in runs),
        }
    return summary


def _print_log_on_error(server: ServerProcess, error: BaseException | None) -> bool:
    if error is not None:
        print(f"--- end of the {server.name} server log ---\n{server.log_tail()}", file=sys.stderr)
    return False


def _start(stack: contextlib.ExitStack, name: str, root: Path, mlflow_python: Path | None) -> Tool:
    _log(f"{name}: starting the server ...")
    server = start_server(stack, name, root / name, mlflow_python)
    api = TraceApi(server.url)
    stack.callback(api.close)
    stack.push(lambda *exc: _print_log_on_error(server, exc[1]))
    tool = Tool(name, server, api, root / name)
    tool.ingest_experiment = api.create_experiment("bench-otlp-ingest")
    tool.search_experiment = api.create_experiment("bench-trace-search")
    # One small untimed export and search first, so that no timed request pays for lazy imports.
    warmup = api.create_experiment("bench-warmup")
    api.export(warmup, next(batches("warmup", 10, 10)))
    api.search(warmup, SEARCH_FILTER, PAGE_SIZE)
    return tool


def run(sizes: Sizes, mlflow_python: Path | None, search_rounds: int = SEARCH_ROUNDS) -> dict[str, Any]:
    """Both servers, the ingest workload, the seeding and the search workload; the raw results."""
    results: dict[str, Any] = {"sizes": sizes.__dict__}
    with (
        tempfile.TemporaryDirectory(prefix="mltrail-tracing-server-bench-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        root = Path(tmp)
        tools = [_start(stack, "mltrail", root, None)]
        if mlflow_python is not None:
            tools.append(_start(stack, "mlflow", root, mlflow_python))
        payloads = list(batches("ingest", sizes.ingest_traces, TRACES_PER_BATCH))
        mlflow_batches = min(sizes.mlflow_ingest_batches, len(payloads))
        _log(
            f"ingest: {len(payloads)} requests of {TRACES_PER_BATCH * SPANS_PER_TRACE} spans "
            f"(MLflow: the first {mlflow_batches})"
        )
        results["ingest"] = ingest(tools, payloads, mlflow_batches)
        for tool in tools:
            check_ingest(
                tool, sizes.ingest_traces if tool.name == "mltrail" else mlflow_batches * TRACES_PER_BATCH
            )
        _log(f"seeding {sizes.search_traces:,} search traces (untimed) ...")
        started = time.perf_counter()
        seed_mltrail(tools[0], sizes.search_traces)
        results["seed"] = {"mltrail": {"seconds": time.perf_counter() - started}}
        _log(f"mltrail seeded in {results['seed']['mltrail']['seconds']:.0f} s")
        if mlflow_python is not None:
            results["seed"]["mlflow"] = seed_mlflow(tools[1], sizes.search_traces, mlflow_python)
            _log(f"mlflow seeded in {results['seed']['mlflow']['total_s']:.0f} s")
        results["search"] = search(tools, sizes.search_traces, search_rounds)
    return results


def report(results: dict[str, Any], sizes: Sizes) -> tuple[str, bool]:
    """The table, and whether every goal was met (True when MLflow was skipped)."""
    ingest, search_ = results["ingest"], results["search"]
    mine, theirs = ingest["mltrail"], ingest.get("mlflow")
    headers = ["workload", f"MLflow {MLFLOW_VERSION}", "mltrail", "ratio", "goal", "result"]
    rows: list[list[str]] = []
    met = True

    def verdict(ratio: float | None, goal: float) -> tuple[str, str]:
        nonlocal met
        if ratio is None:
            return "-", "-"
        met &= ratio >= goal
        return f"{ratio:,.1f}x", "met" if ratio >= goal else "NOT MET"

    def ingest_cell(r: dict[str, Any] | None) -> str:
        return "-" if r is None else f"{r['rate']:,.0f} spans/s ({r['spans']:,} spans, {r['seconds']:.1f} s)"

    ratio, result = verdict(None if theirs is None else mine["rate"] / theirs["rate"], INGEST_GOAL)
    rows.append(
        [
            "OTLP ingest, 500 spans/request",
            ingest_cell(theirs),
            ingest_cell(mine),
            ratio,
            f">= {INGEST_GOAL:g}x",
            result,
        ]
    )

    def search_cell(r: dict[str, Any] | None) -> str:
        return (
            "-"
            if r is None
            else f"{r['seconds'] * 1000:,.0f} ms ({r['matches']:,} found, {r['pages']} pages)"
        )

    s_mine, s_theirs = search_["mltrail"], search_.get("mlflow")
    ratio, result = verdict(
        None if s_theirs is None else s_theirs["seconds"] / s_mine["seconds"], SEARCH_GOAL
    )
    title = f"traces/search {sizes.search_traces:,} traces, {SEARCH_FILTER}, all pages"
    rows.append([title, search_cell(s_theirs), search_cell(s_mine), ratio, f">= {SEARCH_GOAL:g}x", result])
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in [headers, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines), met


def _on_sigterm(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table; exit 1 when a full run misses a goal."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip-mlflow", action="store_true", help="run mltrail only")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument(
        "--search-rounds",
        type=int,
        default=SEARCH_ROUNDS,
        help=f"search passes per tool (default {SEARCH_ROUNDS}); the best counts, all are printed",
    )
    args = parser.parse_args(argv)
    if args.search_rounds < 1:
        parser.error("--search-rounds must be at least 1")
    signal.signal(signal.SIGTERM, _on_sigterm)
    mode = "quick" if args.quick else "full"
    sizes = SIZES[mode]
    mlflow_python = None if args.skip_mlflow else ensure_mlflow_env()
    started = time.perf_counter()
    results = run(sizes, mlflow_python, args.search_rounds)
    table, met = report(results, sizes)
    print()
    print(table)
    print()
    for name, summary in results["search"].items():
        spread = ", ".join(f"{seconds * 1000:,.0f}" for seconds in summary["seconds_per_pass"])
        print(f"Search passes of {name} (ms): {spread}")
    mlflow_spans = sizes.mlflow_ingest_batches * TRACES_PER_BATCH * SPANS_PER_TRACE
    print(
        f"Sizes ({mode}): ingest {sizes.ingest_traces * SPANS_PER_TRACE:,} spans in "
        f"{sizes.ingest_traces // TRACES_PER_BATCH} requests (MLflow: the first {mlflow_spans:,} spans); "
        f"search over {sizes.search_traces:,} traces, "
        f"best of {args.search_rounds} passes of {PAGE_SIZE}-trace pages."
    )
    print(f"Total time: {time.perf_counter() - started:,.0f} s")
    if args.quick:
        print("(--quick: small sizes; ratios are indicative only)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if not met and not args.quick and mlflow_python is not None else 0


if __name__ == "__main__":
    sys.exit(main())
