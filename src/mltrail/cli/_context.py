"""State shared by the CLI commands: settings, the store they act on, and error reporting.

The group callback builds one :class:`CliState` per invocation; commands get it with
``click.pass_obj``. The store is resolved on first use and closed when the command ends. Every
:class:`~mltrail.errors.MltrailError` reaches the user as ``Error: <message>`` plus, where it
helps, a line saying what to do next, and a non-zero exit code without a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import click

from mltrail import _plugins
from mltrail.artifacts.base import ArtifactRepository
from mltrail.config import Settings
from mltrail.errors import BackendError, MltrailError
from mltrail.tracking.store.base import TrackingStore

__all__ = ["CliState", "error_hints", "redact_uri", "to_click_error"]

_URI_HINT = (
    "Check --tracking-uri or MLTRAIL_TRACKING_URI (now: {uri}). Examples: sqlite:///mltrail.db, "
    "postgresql://user@host/db, mysql+pymysql://user@host/db, http://host:5000"
)


def redact_uri(uri: str) -> str:
    """The URI with any password replaced by ``***``, safe to print."""
    return re.sub(r"(://[^:/@]+:)[^@/]*@", r"\1***@", uri)


def to_click_error(exc: MltrailError, hint: str | None = None) -> click.ClickException:
    """The exception click prints as ``Error: <message>`` (plus the hint) with exit code 1."""
    message = exc.message
    if hint:
        message = f"{message}\n{hint}"
    return click.ClickException(message)


@contextmanager
def error_hints(hints: Mapping[type[MltrailError], str]) -> Iterator[None]:
    """Add a what-to-do line to errors of the given classes raised inside the block.

    Args:
        hints: Hint text per error class; the first class the error is an instance of wins.
    """
    try:
        yield
    except MltrailError as exc:
        hint = next((text for cls, text in hints.items() if isinstance(exc, cls)), None)
        raise to_click_error(exc, hint) from None


class CliState:
    """Settings and lazily resolved backends of one CLI invocation.

    Args:
        settings: The configuration; ``settings.tracking_uri`` names the store.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: TrackingStore | None = None

    @property
    def tracking_uri(self) -> str:
        """The tracking URI the commands act on."""
        return self.settings.tracking_uri

    @property
    def store(self) -> TrackingStore:
        """The tracking store, resolved on first use."""
        if self._store is None:
            with error_hints({MltrailError: _URI_HINT.format(uri=redact_uri(self.tracking_uri))}):
                self._store = _plugins.resolve_tracking_store(self.tracking_uri, self.settings)
        return self._store

    def artifact_repository(self, artifact_uri: str) -> ArtifactRepository:
        """The artifact repository rooted at ``artifact_uri`` (a run's artifact URI)."""
        return _plugins.resolve_artifact_repository(
            artifact_uri, tracking_uri=self.tracking_uri, settings=self.settings
        )

    def backend_hint(self, exc: MltrailError) -> str | None:
        """A what-to-do line for errors no command anticipated."""
        if isinstance(exc, BackendError):
            return f"Is the store at {redact_uri(self.tracking_uri)} reachable and writable?"
        return None

    def close(self) -> None:
        """Release the store's connections."""
        if self._store is not None:
            self._store.close()
            self._store = None
