"""``mltrail server``: the tracking server (MLflow's REST protocol) on uvicorn.

Options come from the flags, else from ``MLTRAIL_SERVER_*`` variables, else the defaults of
:class:`~mltrail.server.settings.ServerSettings` (the embedded SQLite store on 127.0.0.1:5000).
"""

from __future__ import annotations

import os
from typing import Any

import click

from mltrail._plugins import resolve_tracking_store
from mltrail.config import DEFAULT_ARTIFACT_ROOT, DEFAULT_TRACKING_URI
from mltrail.errors import InvalidArgumentError
from mltrail.server.settings import ServerSettings
from mltrail.tracing.prices import price_table

__all__ = ["server_command"]

_ENV_PREFIX = "MLTRAIL_SERVER_"


def _uvicorn_options(settings: ServerSettings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "log_level": "info",
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }


def run_server(settings: ServerSettings) -> None:
    """Serve until interrupted.

    With one worker the app runs in this process. With several, the store is opened once here
    first (so a new database is migrated before any worker starts) and each worker process
    builds its app from the ``MLTRAIL_SERVER_*`` variables set from ``settings``.
    """
    # uvicorn and FastAPI come with the optional `server` extra; the rest of the CLI works without.
    import uvicorn

    from mltrail.server.app import create_app, tracking_settings_for
    from mltrail.server.process import settle_heap

    if settings.workers == 1:
        app = create_app(settings)
        settle_heap()
        uvicorn.run(app, **_uvicorn_options(settings))
        return
    resolve_tracking_store(settings.backend_store_uri, tracking_settings_for(settings)).close()
    for name, value in settings.model_dump().items():
        env_name = f"{_ENV_PREFIX}{name.upper()}"
        if value is None:
            os.environ.pop(env_name, None)
        else:
            os.environ[env_name] = str(value)
    uvicorn.run(
        "mltrail.server.app:create_app_from_env",
        factory=True,
        workers=settings.workers,
        **_uvicorn_options(settings),
    )


@click.command("server")
@click.option(
    "--backend-store-uri",
    default=None,
    metavar="URI",
    help=f"Tracking store (default {DEFAULT_TRACKING_URI}).",
)
@click.option(
    "--artifacts-destination",
    default=None,
    metavar="URI",
    help=f"Storage behind the artifact proxy (default {DEFAULT_ARTIFACT_ROOT}).",
)
@click.option(
    "--default-artifact-root",
    default=None,
    metavar="URI",
    help="Artifact root of new experiments (default mlflow-artifacts:/ when serving artifacts, "
    "else the destination).",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=None,
    help="Serve the artifact proxy (default on; off makes its routes answer 503).",
)
@click.option("--host", default=None, help="Bind address (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 5000).")
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Worker processes (default 1).")
def server_command(**options: Any) -> None:
    """Run the tracking server (MLflow-compatible REST API and artifact proxy)."""
    given = {name: value for name, value in options.items() if value is not None}
    try:
        settings = ServerSettings(**given)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    try:
        # A bad price file should stop the start, not fail each trace ingest later.
        price_table()
    except InvalidArgumentError as exc:
        raise click.ClickException(f"MLTRAIL_MODEL_PRICES_FILE: {exc}") from exc
    run_server(settings)


if __name__ == "__main__":
    server_command()
