"""State of the fluent API: the default client, the active run stack and the active experiment.

The run stack and the active experiment are ``ContextVar``s, set and reset by token, so they
follow asyncio tasks and every thread starts with its own. ``fluent`` re-exports the public
functions defined here.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from mltrail import system_metrics
from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError, InvalidStateError, MltrailError, NotFoundError
from mltrail.tracking import context
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import (
    Experiment,
    LifecycleStage,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
)

__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "ActiveRun",
    "active_run",
    "current_experiment_id",
    "default_client",
    "end_run",
    "get_tracking_uri",
    "last_active_run",
    "require_run",
    "run_stack",
    "set_experiment",
    "set_tracking_uri",
    "start_run",
]

_logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT_ID = "0"

_client_lock = threading.Lock()
_client: TrackingClient | None = None
_tracking_uri: str | None = None
_last_run_id: str | None = None

run_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "mltrail_run_stack", default=()
)
_active_experiment: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mltrail_active_experiment", default=None
)


class ActiveRun:
    """A run started by :func:`start_run`; as a context manager it ends the run on exit.

    Normal exit ends it FINISHED, an exception FAILED, ``KeyboardInterrupt`` KILLED; the
    exception is never swallowed.
    """

    def __init__(self, run: Run, client: TrackingClient) -> None:
        self._run = run
        self._client = client
        self.run_id = run.info.run_id
        self._token: contextvars.Token[tuple[ActiveRun, ...]] | None = None

    @property
    def info(self) -> RunInfo:
        """The run's info as of when it was started."""
        return self._run.info

    @property
    def data(self) -> RunData:
        """The run's data as of when it was started (use ``get_run`` for fresh data)."""
        return self._run.data

    @property
    def inputs(self) -> RunInputs:
        """The run's inputs as of when it was started."""
        return self._run.inputs

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            _end(self, RunStatus.FINISHED, raise_errors=True)
        elif issubclass(exc_type, KeyboardInterrupt):
            _end(self, RunStatus.KILLED, raise_errors=False)
        else:
            _end(self, RunStatus.FAILED, raise_errors=False)

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r})"


# -- default client ----------------------------------------------------------------------------


def default_client() -> TrackingClient:
    """The client behind the fluent API, built on first use from ``Settings()``."""
    client = _client
    if client is not None:
        return client
    return _build_client()


def _build_client() -> TrackingClient:
    global _client
    with _client_lock:
        if _client is None:
            _client = TrackingClient(_tracking_uri, settings=Settings())
        return _client


def set_tracking_uri(uri: str) -> None:
    """Point the fluent API at another store; the previous default client is flushed and closed.

    Args:
        uri: ``sqlite:///path.db``, ``postgresql://...``, ``https://server``...
    """
    global _client, _tracking_uri
    with _client_lock:
        old, _client = _client, None
        _tracking_uri = uri
    if old is not None:
        old.close()


def get_tracking_uri() -> str:
    """The tracking URI the fluent API uses (``MLTRAIL_TRACKING_URI`` unless set)."""
    if _tracking_uri is not None:
        return _tracking_uri
    client = _client
    return client.tracking_uri if client is not None else Settings().tracking_uri


def _reset() -> None:
    """Close the default client and forget all fluent state (for test fixtures)."""
    global _client, _tracking_uri, _last_run_id
    with _client_lock:
        old, _client = _client, None
        _tracking_uri = None
        _last_run_id = None
    run_stack.set(())
    _active_experiment.set(None)
    if old is not None:
        old.close()


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> Experiment:
    """Make an experiment the active one in this context, creating it by name if missing.

    Args:
        experiment_name: The experiment's name (created when it does not exist).
        experiment_id: Or the id of an existing experiment.

    Returns:
        The experiment.

    Raises:
        InvalidArgumentError: neither or both arguments given.
        InvalidStateError: the experiment is deleted (it is never restored silently).
        NotFoundError: unknown ``experiment_id``.
    """
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidArgumentError("Pass exactly one of experiment_name or experiment_id")
    client = default_client()
    if experiment_id is not None:
        experiment = client.get_experiment(str(experiment_id))
    else:
        assert experiment_name is not None
        try:
            experiment = client.get_experiment_by_name(experiment_name)
        except NotFoundError:
            client.create_experiment(experiment_name)
            experiment = client.get_experiment_by_name(experiment_name)
    if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidStateError(
            f"Experiment {experiment.name!r} (id {experiment.experiment_id}) is deleted. Restore it "
            "first (restore_experiment) or use another name; deleted names stay reserved."
        )
    _active_experiment.set(experiment.experiment_id)
    return experiment


def current_experiment_id() -> str:
    return _active_experiment.get() or DEFAULT_EXPERIMENT_ID


# -- runs --------------------------------------------------------------------------------------


def active_run() -> ActiveRun | None:
    """The innermost run started in this context and not yet ended, or None."""
    stack = run_stack.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run ended last in this process (re-read), or None."""
    stack = run_stack.get()
    run_id = stack[-1].run_id if stack else _last_run_id
    return default_client().get_run(run_id) if run_id else None


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    parent_run_id: str | None = None,
) -> ActiveRun:
    """Start a run (or resume one) and make it the active run of this context.

    Args:
        run_id: Resume this existing run (it is set back to RUNNING) instead of creating one.
        experiment_id: Experiment of a new run (default: the active experiment, else ``"0"``).
        run_name: Name of a new run.
        nested: Start it as a child of the active run (tag ``mlflow.parentRunId``).
        tags: Extra tags.
        description: Stored as the ``mlflow.note.content`` tag.
        parent_run_id: Explicit parent run.

    Returns:
        The run, usable as a context manager.

    Raises:
        InvalidStateError: a run is already active and ``nested`` is False.
        InvalidArgumentError: resuming a deleted run, or one of another experiment.
    """
    stack = run_stack.get()
    if stack and not nested:
        raise InvalidStateError(
            f"Run {stack[-1].run_id} is already active. End it first (end_run) or start a nested "
            "run with start_run(nested=True)."
        )
    client = default_client()
    if nested and stack and parent_run_id is None:
        parent_run_id = stack[-1].run_id
    extra_tags = {k: str(v) for k, v in (tags or {}).items()}
    if parent_run_id is not None:
        extra_tags[context.TAG_PARENT_RUN_ID] = parent_run_id
    if description is not None:
        extra_tags[context.TAG_NOTE] = description

    if run_id is not None:
        run = _resume(client, run_id, experiment_id, run_name, extra_tags)
    else:
        run_tags = {**context.system_tags(client.settings), **extra_tags}
        exp_id = str(experiment_id) if experiment_id is not None else current_experiment_id()
        run = client.create_run(exp_id, tags=run_tags, run_name=run_name)
    active = ActiveRun(run, client)
    active._token = run_stack.set((*stack, active))
    system_metrics.on_run_start(active.run_id, client)
    return active


def _resume(
    client: TrackingClient,
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: Mapping[str, str],
) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidArgumentError(f"Cannot resume run {run_id}: it is deleted (restore it first)")
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise InvalidArgumentError(
            f"Run {run_id} belongs to experiment {run.info.experiment_id}, not {experiment_id}"
        )
    if run.info.status != RunStatus.RUNNING or run_name is not None:
        client.update_run(run_id, status=RunStatus.RUNNING, name=run_name)
    if tags:
        client.set_tags(run_id, tags)
    return client.get_run(run_id)


def _end(active: ActiveRun, status: RunStatus, *, raise_errors: bool) -> None:
    """End ``active`` (and any runs nested inside it that are still open) and pop the stack."""
    global _last_run_id
    stack = run_stack.get()
    if active not in stack:
        return
    index = stack.index(active)
    for child in reversed(stack[index + 1 :]):
        _end(child, status, raise_errors=False)
        stack = run_stack.get()
    try:
        system_metrics.on_run_end(active.run_id)
        active._client.set_terminated(active.run_id, status)
    except MltrailError:
        if raise_errors:
            raise
        _logger.warning("mltrail: ending run %s (%s) failed", active.run_id, status.value, exc_info=True)
    finally:
        _last_run_id = active.run_id
        token, active._token = active._token, None
        try:
            if token is None or stack[-1] is not active:
                raise ValueError("not the innermost run")
            run_stack.reset(token)
        except (ValueError, RuntimeError):
            run_stack.set(tuple(r for r in run_stack.get() if r is not active))


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """End the active run of this context (no-op without one).

    Args:
        status: FINISHED (default), FAILED or KILLED.

    Raises:
        MltrailError: its queued metric points could not be written (the run is ended anyway).
    """
    stack = run_stack.get()
    if stack:
        _end(stack[-1], RunStatus(status), raise_errors=True)


def require_run() -> ActiveRun:
    stack = run_stack.get()
    if stack:
        return stack[-1]
    return start_run()
