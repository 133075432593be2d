"""``mltrail gc``: permanently remove deleted runs and their artifacts."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import click

from mltrail.artifacts.base import ArtifactRepository
from mltrail.cli._context import CliState, error_hints
from mltrail.cli._output import echo_json
from mltrail.errors import InvalidArgumentError, InvalidStateError, NotFoundError
from mltrail.tracking.gc import collect_garbage, parse_duration_ms

__all__ = ["gc", "proxied_to_destination"]


def proxied_to_destination(artifact_uri: str, destination: str) -> str:
    """Map an ``mlflow-artifacts:`` URI onto the storage the server's proxy writes to.

    ``mlflow-artifacts:/1/<run>/artifacts`` (with or without a host) becomes
    ``<destination>/1/<run>/artifacts``; other URIs are returned unchanged.

    Raises:
        InvalidArgumentError: the URI's path would leave the destination (``..`` segments).
    """
    parts = urlsplit(artifact_uri)
    if parts.scheme.lower() != "mlflow-artifacts":
        return artifact_uri
    relative = parts.path.strip("/")
    if any(segment in ("..", ".") for segment in relative.split("/")):
        raise InvalidArgumentError(
            f"Refusing artifact URI {artifact_uri!r}: it leaves the artifacts destination"
        )
    return f"{destination.rstrip('/')}/{relative}" if relative else destination


@click.command("gc")
@click.option(
    "--older-than",
    default=None,
    metavar="DURATION",
    help="Only runs deleted more than this long ago, e.g. 30d, 12h, 1d12h, 90s.",
)
@click.option(
    "--run-ids",
    default=None,
    metavar="ID[,ID...]",
    help="Only these runs (comma-separated); each must be deleted.",
)
@click.option(
    "--artifacts-destination",
    default=None,
    metavar="URI",
    help="Where a server's artifact proxy stores files (its --artifacts-destination); needed to "
    "delete artifacts of runs logged through a server (mlflow-artifacts: URIs).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be removed and remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def gc(
    state: CliState,
    older_than: str | None,
    run_ids: str | None,
    artifacts_destination: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Permanently remove deleted runs: their artifacts, then their metadata.

    This cannot be undone. Without options it removes every deleted run; try --dry-run first.
    """

    def repository_for(artifact_uri: str) -> ArtifactRepository:
        if artifacts_destination:
            artifact_uri = proxied_to_destination(artifact_uri, artifacts_destination)
        return state.artifact_repository(artifact_uri)

    hints = {
        NotFoundError: "List deleted runs with: mltrail runs list --experiment-id <ID> --view deleted",
        InvalidStateError: "Nothing was removed.",
        InvalidArgumentError: "Nothing was removed.",
    }
    with error_hints(hints):
        older_than_ms = parse_duration_ms(older_than) if older_than is not None else None
        ids = [part.strip() for part in run_ids.split(",") if part.strip()] if run_ids is not None else None
        report = collect_garbage(
            state.store,
            repository_for,
            run_ids=ids,
            older_than_ms=older_than_ms,
            dry_run=dry_run,
            progress=not as_json and sys.stderr.isatty(),
        )
    if as_json:
        echo_json(
            {
                "dry_run": report.dry_run,
                "run_ids": report.run_ids,
                "artifact_uris": report.artifact_uris,
                "failures": [{"run_id": f.run_id, "message": f.message} for f in report.failures],
            }
        )
    else:
        verb = "Would remove" if dry_run else "Removed"
        for run_id, uri in zip(report.run_ids, report.artifact_uris, strict=True):
            click.echo(f"{verb} run {run_id} and its artifacts at {uri}")
        for failure in report.failures:
            click.echo(f"Failed to remove run {failure.run_id}: {failure.message}", err=True)
        noun = "run" if len(report.run_ids) == 1 else "runs"
        click.echo(f"{verb} {len(report.run_ids)} deleted {noun}.")
    if report.failures:
        hint = ""
        if not artifacts_destination and any("mlflow-artifacts" in f.message for f in report.failures):
            hint = "\nRuns logged through a server: pass the server's --artifacts-destination."
        raise click.ClickException(
            f"{len(report.failures)} run(s) could not be removed; they stay deleted and a later "
            f"`mltrail gc` retries them.{hint}"
        )
