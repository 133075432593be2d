"""``mltrail models``: the model registry from the shell (models, versions, stages, aliases, history).

Every command acts on the registry beside the store named by ``--tracking-uri``. Alias moves
record who made them (``MLTRAIL_USER`` or the login name) and an optional ``--reason``.
"""

from __future__ import annotations

import click

from mltrail.cli._context import CliState, error_hints
from mltrail.cli._output import echo_json, echo_table, format_time
from mltrail.cli.models_deploy import DEPLOY_COMMANDS
from mltrail.errors import AlreadyExistsError, InvalidArgumentError, MltrailError, NotFoundError
from mltrail.registry.client import RegistryClient
from mltrail.registry.entities import AliasEvent, ModelVersion, RegisteredModel
from mltrail.registry.wire import alias_event_to_dict, model_version_to_dict, registered_model_to_dict

__all__ = ["models"]

_PAGE_SIZE = 1000
_LIST_HINT = "List registered models with: mltrail models list"


def _client(ctx: click.Context) -> RegistryClient:
    state = ctx.find_object(CliState)
    assert state is not None
    with error_hints({MltrailError: f"Check --tracking-uri (now: {state.tracking_uri})."}):
        client = RegistryClient(state.tracking_uri, settings=state.settings)
    return ctx.with_resource(client)


def _not_found(name: str) -> dict[type[MltrailError], str]:
    return {NotFoundError: f"{_LIST_HINT}; versions of one model with: mltrail models versions {name}"}


@click.group()
def models() -> None:
    """Registered models: versions, stages, aliases and alias history."""


@models.command("list")
@click.option("--filter", "filter_string", default=None, help="Filter, e.g. \"name LIKE 'churn%'\".")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_models(ctx: click.Context, filter_string: str | None, as_json: bool) -> None:
    """List registered models by name."""
    client = _client(ctx)
    found: list[RegisteredModel] = []
    token: str | None = None
    while True:
        page = client.search_registered_models(filter_string, _PAGE_SIZE, page_token=token)
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    if as_json:
        echo_json([registered_model_to_dict(m) for m in found])
        return
    rows = [
        [
            m.name,
            str(max((int(v.version) for v in m.latest_versions), default=0) or "-"),
            ", ".join(f"{a.alias}=v{a.version}" for a in m.aliases) or "-",
            format_time(m.last_updated_timestamp),
        ]
        for m in found
    ]
    echo_table(["NAME", "LATEST", "ALIASES", "UPDATED (UTC)"], rows, empty="No registered models found.")


@models.command("describe")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def describe_model(ctx: click.Context, name: str, as_json: bool) -> None:
    """Show registered model NAME: description, tags, aliases and latest versions."""
    with error_hints({NotFoundError: _LIST_HINT}):
        model = _client(ctx).get_registered_model(name)
    if as_json:
        echo_json(registered_model_to_dict(model))
        return
    click.echo(f"Name:        {model.name}")
    click.echo(f"Description: {model.description or '-'}")
    click.echo(f"Created:     {format_time(model.creation_timestamp)} UTC")
    click.echo(f"Updated:     {format_time(model.last_updated_timestamp)} UTC")
    for key, value in sorted(model.tags.items()):
        click.echo(f"Tag:         {key}={value}")
    for alias in model.aliases:
        click.echo(f"Alias:       {alias.alias} -> version {alias.version}")
    for version in sorted(model.latest_versions, key=lambda v: int(v.version)):
        click.echo(f"Latest:      version {version.version} ({version.current_stage}) {version.source}")


@models.command("create")
@click.argument("name")
@click.option("--description", "-d", default=None, help="Free-text description.")
@click.pass_context
def create_model(ctx: click.Context, name: str, description: str | None) -> None:
    """Create registered model NAME."""
    with error_hints({AlreadyExistsError: f"Pick another name. {_LIST_HINT}"}):
        _client(ctx).create_registered_model(name, description=description)
    click.echo(f"Created registered model '{name}'.")


@models.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete_model(ctx: click.Context, name: str, yes: bool) -> None:
    """Delete registered model NAME with all its versions, aliases and alias history."""
    if not yes:
        click.confirm(f"Delete registered model '{name}' and all its versions?", abort=True)
    with error_hints({NotFoundError: _LIST_HINT}):
        _client(ctx).delete_registered_model(name)
    click.echo(f"Deleted registered model '{name}'.")


def _version_row(v: ModelVersion) -> list[str]:
    return [
        v.version,
        v.current_stage,
        ", ".join(v.aliases) or "-",
        format_time(v.creation_timestamp),
        v.source,
    ]


@models.command("versions")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_versions(ctx: click.Context, name: str, as_json: bool) -> None:
    """List the versions of registered model NAME, newest first."""
    client = _client(ctx)
    with error_hints({NotFoundError: _LIST_HINT}):
        client.get_registered_model(name)
    quoted = name.replace("'", "\\'")
    found: list[ModelVersion] = []
    token: str | None = None
    while True:
        page = client.search_model_versions(
            f"name = '{quoted}'", _PAGE_SIZE, order_by=["version_number DESC"], page_token=token
        )
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    if as_json:
        echo_json([model_version_to_dict(v) for v in found])
        return
    echo_table(
        ["VERSION", "STAGE", "ALIASES", "CREATED (UTC)", "SOURCE"],
        [_version_row(v) for v in found],
        empty=f"Registered model '{name}' has no versions.",
    )


@models.command("set-alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version")
@click.option("--reason", default=None, help="Why the alias moves (kept in its history).")
@click.pass_context
def set_alias(ctx: click.Context, name: str, alias: str, version: str, reason: str | None) -> None:
    """Point ALIAS of registered model NAME at VERSION (moving it if it exists)."""
    with error_hints(_not_found(name)):
        _client(ctx).set_registered_model_alias(name, alias, version, reason=reason)
    click.echo(f"Alias '{alias}' of '{name}' now points at version {version}.")


@models.command("delete-alias")
@click.argument("name")
@click.argument("alias")
@click.option("--reason", default=None, help="Why the alias is removed (kept in its history).")
@click.pass_context
def delete_alias(ctx: click.Context, name: str, alias: str, reason: str | None) -> None:
    """Remove ALIAS from registered model NAME."""
    with error_hints(_not_found(name)):
        _client(ctx).delete_registered_model_alias(name, alias, reason=reason)
    click.echo(f"Removed alias '{alias}' of '{name}'.")


def _event_row(e: AliasEvent) -> list[str]:
    return [
        format_time(e.timestamp),
        e.alias,
        e.action.value,
        e.from_version or "-",
        e.to_version or "-",
        e.user_id or "-",
        e.reason or "",
    ]


@models.command("alias-history")
@click.argument("name")
@click.argument("alias", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def alias_history(ctx: click.Context, name: str, alias: str | None, as_json: bool) -> None:
    """Show every recorded move of the aliases of NAME (or of ALIAS only), oldest first."""
    with error_hints({NotFoundError: _LIST_HINT}):
        events = _client(ctx).get_alias_history(name, alias)
    if as_json:
        echo_json([alias_event_to_dict(e) for e in events])
        return
    echo_table(
        ["WHEN (UTC)", "ALIAS", "ACTION", "FROM", "TO", "BY", "REASON"],
        [_event_row(e) for e in events],
        empty="No alias moves recorded.",
    )


@models.command("rollback-alias")
@click.argument("name")
@click.argument("alias")
@click.option("--to-version", default=None, help="An earlier target (default: the one before the last move).")
@click.option("--reason", default=None, help="Why (kept in the alias history).")
@click.pass_context
def rollback_alias(
    ctx: click.Context, name: str, alias: str, to_version: str | None, reason: str | None
) -> None:
    """Point ALIAS of NAME back at an earlier version, recording the rollback."""
    hints: dict[type[MltrailError], str] = {
        InvalidArgumentError: f"See its earlier targets with: mltrail models alias-history {name} {alias}",
        NotFoundError: _LIST_HINT,
    }
    with error_hints(hints):
        event = _client(ctx).rollback_registered_model_alias(name, alias, to_version, reason=reason)
    click.echo(
        f"Rolled back alias '{alias}' of '{name}' from version {event.from_version} to {event.to_version}."
    )


@models.command("transition")
@click.argument("name")
@click.argument("version")
@click.argument(
    "stage", type=click.Choice(["None", "Staging", "Production", "Archived"], case_sensitive=False)
)
@click.option(
    "--archive-existing", is_flag=True, help="Archive the other versions in STAGE (Staging/Production only)."
)
@click.pass_context
def transition(ctx: click.Context, name: str, version: str, stage: str, archive_existing: bool) -> None:
    """Move VERSION of registered model NAME to STAGE (legacy stages)."""
    with error_hints(_not_found(name)):
        moved = _client(ctx).transition_model_version_stage(name, version, stage, archive_existing)
    click.echo(f"Version {moved.version} of '{name}' is now in stage {moved.current_stage}.")


for _command in DEPLOY_COMMANDS:
    models.add_command(_command)
