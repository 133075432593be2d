"""``mltrail db``: database maintenance (schema migrations)."""

from __future__ import annotations

import click
from alembic.util import CommandError
from sqlalchemy.exc import SQLAlchemyError

from mltrail import db as mltrail_db
from mltrail.cli._context import CliState, redact_uri

__all__ = ["db"]

_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.argument("uri", required=False)
@click.pass_obj
def upgrade(state: CliState, uri: str | None) -> None:
    """Migrate the database at URI (default: the tracking URI) to the newest schema.

    A new database gets the whole schema; an up-to-date one is left as it is. Back up a
    production database before upgrading it.
    """
    target = uri or state.tracking_uri
    shown = redact_uri(target)
    scheme = target.partition("://")[0].partition("+")[0].lower()
    if scheme not in _SQL_SCHEMES:
        raise click.ClickException(
            f"'{shown}' is not a database URI. Pass a sqlite:///, postgresql:// or mysql:// URI; "
            "a tracking server upgrades its own database."
        )
    try:
        database = mltrail_db.get_database(target)
        with database.read() as conn:
            before = mltrail_db.current_revision(conn)
        head = mltrail_db.head_revision()
        if before == head:
            click.echo(f"Database {shown} is already at the newest revision ({head}).")
            return
        mltrail_db.upgrade(database)
    except (SQLAlchemyError, CommandError, ValueError) as exc:
        raise click.ClickException(
            f"Could not upgrade {shown}: {exc}\nIs the database server running and the URI right?"
        ) from None
    click.echo(f"Upgraded database {shown} from {before or 'an empty schema'} to revision {head}.")
