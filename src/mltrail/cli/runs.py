"""``mltrail runs``: list, describe, delete and restore runs."""

from __future__ import annotations

import click

from mltrail.cli._context import CliState, error_hints
from mltrail.cli._output import echo_json, echo_table, format_duration, format_time, run_to_dict
from mltrail.cli.experiments import VIEW_TYPES
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.entities import Run
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_LIMIT

__all__ = ["runs"]

_RUN_HINT = "List runs with: mltrail runs list --experiment-id <ID> --view all"
_MAX_METRICS_SHOWN = 4


@click.group()
def runs() -> None:
    """List, describe, delete and restore runs."""


def _split_ids(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _search(
    state: CliState,
    experiment_ids: list[str],
    filter_string: str,
    order_by: list[str],
    view: str,
    max_results: int,
) -> tuple[list[Run], bool]:
    """Up to ``max_results`` matching runs, paging as needed, and whether more were left out."""
    found: list[Run] = []
    token: str | None = None
    while len(found) < max_results:
        page = state.store.search_runs(
            experiment_ids,
            filter_string=filter_string,
            run_view_type=VIEW_TYPES[view],
            max_results=min(max_results - len(found), SEARCH_MAX_RESULTS_LIMIT),
            order_by=order_by or None,
            page_token=token,
        )
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            return found, False
    return found, True


def _metrics_cell(run: Run) -> str:
    metrics = sorted(run.data.latest_metrics, key=lambda m: m.key)
    cells = [f"{m.key}={m.value:.4g}" for m in metrics[:_MAX_METRICS_SHOWN]]
    if len(metrics) > _MAX_METRICS_SHOWN:
        cells.append(f"(+{len(metrics) - _MAX_METRICS_SHOWN})")
    return " ".join(cells)


@runs.command("list")
@click.option(
    "--experiment-id",
    "-e",
    "experiment_ids",
    multiple=True,
    required=True,
    help="Experiment to list runs of; repeat it or separate ids with commas for several.",
)
@click.option(
    "--filter", "filter_string", default="", help="Filter, e.g. \"metrics.rmse < 1 and params.C = '1'\"."
)
@click.option("--order-by", multiple=True, help="Sort key, e.g. 'metrics.rmse ASC'; repeat for several keys.")
@click.option(
    "--max-results",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="List at most this many runs.",
)
@click.option(
    "--view",
    type=click.Choice(list(VIEW_TYPES)),
    default="active",
    show_default=True,
    help="Which runs to list by lifecycle stage.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (full runs) instead of a table.")
@click.pass_obj
def list_runs(
    state: CliState,
    experiment_ids: tuple[str, ...],
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
    view: str,
    as_json: bool,
) -> None:
    """List the runs of one or more experiments (newest first unless --order-by says otherwise)."""
    hints = {
        NotFoundError: "List experiments with: mltrail experiments list --view all",
        InvalidArgumentError: "Filter and order-by syntax: docs/cli.md#runs-list",
    }
    ids = _split_ids(experiment_ids)
    with error_hints(hints):
        for experiment_id in ids:
            state.store.get_experiment(experiment_id)  # an unknown id is an error, not "no runs"
        found, truncated = _search(state, ids, filter_string, list(order_by), view, max_results)
    if as_json:
        echo_json([run_to_dict(r) for r in found])
        return
    headers = ["RUN ID", "NAME", "EXPERIMENT", "STATUS", "STARTED (UTC)", "DURATION", "METRICS"]
    if view != "active":
        headers.insert(4, "STAGE")
    rows = []
    for run in found:
        info = run.info
        row = [
            info.run_id,
            info.run_name,
            info.experiment_id,
            str(info.status),
            format_time(info.start_time),
            format_duration(info.start_time, info.end_time),
            _metrics_cell(run),
        ]
        if view != "active":
            row.insert(4, str(info.lifecycle_stage))
        rows.append(row)
    echo_table(headers, rows, empty="No runs found.")
    if truncated:
        click.echo(f"(showing the first {max_results} runs; raise --max-results to see more)", err=True)


@runs.command("describe")
@click.argument("run_id")
@click.pass_obj
def describe_run(state: CliState, run_id: str) -> None:
    """Print run RUN_ID as JSON: info, params, latest metrics, tags, inputs and outputs."""
    with error_hints({NotFoundError: _RUN_HINT}):
        run = state.store.get_run(run_id)
    echo_json(run_to_dict(run))


@runs.command("delete")
@click.argument("run_id")
@click.pass_obj
def delete_run(state: CliState, run_id: str) -> None:
    """Soft-delete run RUN_ID (undo with `restore`; `mltrail gc` removes it for good)."""
    with error_hints({NotFoundError: _RUN_HINT}):
        state.store.delete_run(run_id)
    click.echo(f"Deleted run {run_id}. Restore it with `mltrail runs restore {run_id}`.")


@runs.command("restore")
@click.argument("run_id")
@click.pass_obj
def restore_run(state: CliState, run_id: str) -> None:
    """Restore deleted run RUN_ID."""
    with error_hints({NotFoundError: _RUN_HINT}):
        state.store.restore_run(run_id)
    click.echo(f"Restored run {run_id}.")
