"""``mltrail traces``: list, show and delete traces of the store named by ``--tracking-uri``."""

from __future__ import annotations

from typing import Any

import click

from mltrail import _plugins
from mltrail.cli._context import CliState, error_hints
from mltrail.cli._output import echo_json, echo_table, format_time
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracing.cleanup import remove_trace_artifacts
from mltrail.tracing.entities import Trace, TraceInfo
from mltrail.tracing.store.base import SEARCH_TRACES_MAX_RESULTS_LIMIT, TraceStore

__all__ = ["traces"]

_TRACE_HINT = "List traces with: mltrail traces list --experiment-id <ID>"
_FILTER_HINT = "Filter syntax: \"status = 'OK' AND tags.env = 'prod'\" (see docs/tracing.md)"


def _store(state: CliState) -> TraceStore:
    return _plugins.resolve_trace_store(state.tracking_uri, state.settings)


def _info_dict(info: TraceInfo) -> dict[str, Any]:
    return {
        "trace_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "client_request_id": info.client_request_id,
        "state": info.state.value,
        "request_time": info.request_time,
        "execution_duration_ms": info.execution_duration,
        "request_preview": info.request_preview,
        "response_preview": info.response_preview,
        "trace_metadata": dict(info.trace_metadata),
        "tags": dict(info.tags),
    }


def _trace_dict(trace: Trace) -> dict[str, Any]:
    return {
        "info": _info_dict(trace.info),
        "spans": [
            {
                "name": s.name,
                "span_id": s.span_id,
                "parent_span_id": s.parent_span_id,
                "span_type": s.span_type,
                "status": s.status_code,
                "status_message": s.status_message,
                "start_time_unix_nano": s.start_time_unix_nano,
                "end_time_unix_nano": s.end_time_unix_nano,
                "attributes": dict(s.attributes),
                "events": [
                    {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": dict(e.attributes)}
                    for e in s.events
                ],
            }
            for s in trace.spans
        ],
    }


@click.group()
def traces() -> None:
    """List, show and delete traces."""


@traces.command("list")
@click.option(
    "--experiment-id",
    "-e",
    "experiment_ids",
    multiple=True,
    required=True,
    help="Experiment to list traces of; repeat for several.",
)
@click.option("--filter", "filter_string", default=None, help="Filter, e.g. \"status = 'ERROR'\".")
@click.option("--order-by", multiple=True, help="Sort key, e.g. 'timestamp_ms DESC'; repeat for several.")
@click.option(
    "--max-results",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="List at most this many traces.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON trace infos instead of a table.")
@click.pass_obj
def list_traces(
    state: CliState,
    experiment_ids: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    max_results: int,
    as_json: bool,
) -> None:
    """List traces of experiments, newest first unless --order-by says otherwise."""
    ids = [part.strip() for value in experiment_ids for part in value.split(",") if part.strip()]
    found: list[TraceInfo] = []
    token: str | None = None
    with error_hints({InvalidArgumentError: _FILTER_HINT}):
        store = _store(state)
        while len(found) < max_results:
            page = store.search_traces(
                ids,
                filter_string=filter_string,
                max_results=min(max_results - len(found), SEARCH_TRACES_MAX_RESULTS_LIMIT),
                order_by=list(order_by) or None,
                page_token=token,
            )
            found.extend(page.items)
            token = page.next_page_token
            if not token:
                break
    if as_json:
        echo_json([_info_dict(i) for i in found])
        return
    rows = [
        [
            i.trace_id,
            i.tags.get("mlflow.traceName", ""),
            i.experiment_id,
            i.state.value,
            format_time(i.request_time),
            "" if i.execution_duration is None else f"{i.execution_duration} ms",
            (i.request_preview or "")[:40],
        ]
        for i in found
    ]
    headers = ["TRACE ID", "NAME", "EXPERIMENT", "STATE", "STARTED (UTC)", "DURATION", "REQUEST"]
    echo_table(headers, rows, empty="No traces found.")
    if token:
        click.echo(f"(showing the first {max_results} traces; raise --max-results to see more)", err=True)


@traces.command("get")
@click.argument("trace_id")
@click.pass_obj
def get_trace(state: CliState, trace_id: str) -> None:
    """Print trace TRACE_ID as JSON: its info and all its spans."""
    with error_hints({NotFoundError: _TRACE_HINT}):
        trace = _store(state).get_trace(trace_id)
    echo_json(_trace_dict(trace))


@traces.command("delete")
@click.option("--experiment-id", "-e", required=True, help="Experiment the traces belong to.")
@click.option("--trace-id", "trace_ids", multiple=True, help="Trace to delete; repeat for several.")
@click.option(
    "--max-timestamp-millis",
    type=int,
    default=None,
    help="Delete traces started at or before this time (ms).",
)
@click.option(
    "--max-traces",
    type=click.IntRange(min=1),
    default=None,
    help="With --max-timestamp-millis: delete at most this many, oldest first.",
)
@click.pass_obj
def delete_traces(
    state: CliState,
    experiment_id: str,
    trace_ids: tuple[str, ...],
    max_timestamp_millis: int | None,
    max_traces: int | None,
) -> None:
    """Delete traces of an experiment by id (--trace-id) or by age (--max-timestamp-millis)."""
    if bool(trace_ids) == (max_timestamp_millis is not None):
        raise click.UsageError("Pass either --trace-id (one or more) or --max-timestamp-millis")
    if max_traces is not None and max_timestamp_millis is None:
        raise click.UsageError("--max-traces goes with --max-timestamp-millis")
    with error_hints({NotFoundError: _TRACE_HINT}):
        deleted = _store(state).remove_traces(
            experiment_id,
            max_timestamp_millis=max_timestamp_millis,
            max_traces=max_traces,
            trace_ids=list(trace_ids) or None,
        )
    # A server removes the artifacts itself; a local store names them for us to remove.
    failures = remove_trace_artifacts(
        deleted.artifact_locations,
        lambda folder: (_plugins.resolve_artifact_repository(folder, settings=state.settings), ""),
    )
    count = deleted.count
    click.echo(f"Deleted {count} trace{'s' if count != 1 else ''}.")
    for failure in failures:
        click.echo(f"Warning: {failure}", err=True)
