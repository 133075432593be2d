"""The ``mltrail`` command: one click group with a global ``--tracking-uri``.

Subcommands: ``experiments``, ``runs``, ``db``, ``gc`` and ``server``. Errors of mltrail are
printed as ``Error: <message>`` (with a hint where one helps) and exit with status 1, without a
traceback; usage errors exit with status 2.
"""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError

from mltrail import __version__
from mltrail.cli._context import CliState, to_click_error
from mltrail.cli.db import db
from mltrail.cli.experiments import experiments
from mltrail.cli.gc import gc
from mltrail.cli.models import models
from mltrail.cli.runs import runs
from mltrail.cli.server import server_command
from mltrail.cli.traces import traces
from mltrail.config import DEFAULT_TRACKING_URI, Settings
from mltrail.errors import MltrailError

__all__ = ["main"]


class _MltrailGroup(click.Group):
    """A group that turns MltrailError from any subcommand into a clean CLI error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MltrailError as exc:
            state = ctx.obj
            hint = state.backend_hint(exc) if isinstance(state, CliState) else None
            raise to_click_error(exc, hint) from None


@click.group(cls=_MltrailGroup)
@click.option(
    "--tracking-uri",
    default=None,
    metavar="URI",
    help=f"Store to act on (default: MLTRAIL_TRACKING_URI, else {DEFAULT_TRACKING_URI}).",
)
@click.version_option(__version__, prog_name="mltrail")
@click.pass_context
def main(ctx: click.Context, tracking_uri: str | None) -> None:
    """mltrail: fast, MLflow-compatible tracking of ML and LLM work."""
    try:
        settings = Settings(tracking_uri=tracking_uri) if tracking_uri else Settings()
    except ValidationError as exc:
        raise click.ClickException(f"Invalid MLTRAIL_* configuration:\n{exc}") from None
    state = CliState(settings)
    ctx.obj = state
    ctx.call_on_close(state.close)


main.add_command(experiments)
main.add_command(runs)
main.add_command(db)
main.add_command(gc)
main.add_command(models)
main.add_command(server_command)
main.add_command(traces)
