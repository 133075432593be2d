"""``mltrail experiments``: create, list, delete, restore and rename experiments."""

from __future__ import annotations

import click

from mltrail.cli._context import CliState, error_hints
from mltrail.cli._output import echo_json, echo_table, experiment_to_dict, format_time
from mltrail.errors import AlreadyExistsError, InvalidStateError, MltrailError, NotFoundError
from mltrail.tracking.entities import Experiment, ViewType

__all__ = ["VIEW_TYPES", "experiments"]

VIEW_TYPES = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}

_LIST_HINT = "List experiments with: mltrail experiments list --view all"
_PAGE_SIZE = 1000


@click.group()
def experiments() -> None:
    """Create, list, delete, restore and rename experiments."""


@experiments.command("create")
@click.argument("name")
@click.option(
    "--artifact-location",
    "-l",
    default=None,
    help="Root URI of the experiment's run artifacts (default: <artifact root>/<experiment id>).",
)
@click.pass_obj
def create_experiment(state: CliState, name: str, artifact_location: str | None) -> None:
    """Create an experiment called NAME and print its id."""
    hints: dict[type[MltrailError], str] = {
        AlreadyExistsError: f"{_LIST_HINT} (deleted experiments keep their names)."
    }
    with error_hints(hints):
        experiment_id = state.store.create_experiment(name, artifact_location=artifact_location)
    click.echo(f"Created experiment '{name}' with id {experiment_id}")


def _all_experiments(state: CliState, view: ViewType, filter_string: str | None) -> list[Experiment]:
    found: list[Experiment] = []
    token: str | None = None
    while True:
        page = state.store.search_experiments(
            view_type=view, max_results=_PAGE_SIZE, filter_string=filter_string, page_token=token
        )
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            return found


@experiments.command("list")
@click.option(
    "--view",
    type=click.Choice(list(VIEW_TYPES)),
    default="active",
    show_default=True,
    help="Which experiments to list by lifecycle stage.",
)
@click.option("--filter", "filter_string", default=None, help="Filter, e.g. \"name LIKE 'wine%'\".")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_experiments(state: CliState, view: str, filter_string: str | None, as_json: bool) -> None:
    """List experiments, newest first."""
    found = _all_experiments(state, VIEW_TYPES[view], filter_string)
    if as_json:
        echo_json([experiment_to_dict(e) for e in found])
        return
    rows = [
        [e.experiment_id, e.name, str(e.lifecycle_stage), format_time(e.creation_time), e.artifact_location]
        for e in found
    ]
    echo_table(
        ["ID", "NAME", "STAGE", "CREATED (UTC)", "ARTIFACT LOCATION"],
        rows,
        empty="No experiments found.",
    )


@experiments.command("delete")
@click.argument("experiment_id")
@click.pass_obj
def delete_experiment(state: CliState, experiment_id: str) -> None:
    """Soft-delete experiment EXPERIMENT_ID and its runs (undo with `restore`)."""
    with error_hints({NotFoundError: f"{_LIST_HINT} (only active experiments can be deleted)."}):
        state.store.delete_experiment(experiment_id)
    click.echo(
        f"Deleted experiment {experiment_id}. Restore it with `mltrail experiments restore {experiment_id}`; "
        "`mltrail gc` removes its deleted runs for good."
    )


@experiments.command("restore")
@click.argument("experiment_id")
@click.pass_obj
def restore_experiment(state: CliState, experiment_id: str) -> None:
    """Restore deleted experiment EXPERIMENT_ID and its runs."""
    with error_hints({NotFoundError: f"{_LIST_HINT} (only deleted experiments can be restored)."}):
        state.store.restore_experiment(experiment_id)
    click.echo(f"Restored experiment {experiment_id}.")


@experiments.command("rename")
@click.argument("experiment_id")
@click.argument("new_name")
@click.pass_obj
def rename_experiment(state: CliState, experiment_id: str, new_name: str) -> None:
    """Rename experiment EXPERIMENT_ID to NEW_NAME."""
    hints = {
        NotFoundError: _LIST_HINT,
        InvalidStateError: f"Restore it first: mltrail experiments restore {experiment_id}",
        AlreadyExistsError: f"Pick another name. {_LIST_HINT}",
    }
    with error_hints(hints):
        state.store.rename_experiment(experiment_id, new_name)
    click.echo(f"Renamed experiment {experiment_id} to '{new_name}'.")
