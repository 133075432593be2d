"""Runs for autologging: reuse the active run, or start one and end it when training ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mltrail.autolog._config import AUTOLOG_TAG
from mltrail.autolog._safety import warn_failure
from mltrail.tracking._fluent_state import active_run, default_client, end_run, start_run
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import RunStatus

__all__ = ["AutologRun", "begin_run", "finish_run"]


@dataclass(frozen=True)
class AutologRun:
    """The run an integration logs to, and whether the integration started it."""

    run_id: str
    experiment_id: str
    client: TrackingClient
    created: bool


def begin_run(integration: str, extra_tags: Mapping[str, str]) -> AutologRun:
    """The active run, or a new one tagged with the integration's name."""
    current = active_run()
    if current is not None:
        return AutologRun(current.run_id, current.info.experiment_id, default_client(), False)
    run = start_run(tags={AUTOLOG_TAG: integration, **extra_tags})
    return AutologRun(run.run_id, run.info.experiment_id, default_client(), True)


def finish_run(integration: str, run: AutologRun | None, *, failed: bool = False) -> None:
    """End ``run`` if the integration started it and it is still the active run."""
    if run is None or not run.created:
        return
    current = active_run()
    if current is None or current.run_id != run.run_id:
        return
    try:
        end_run(RunStatus.FAILED if failed else RunStatus.FINISHED)
    except Exception as exc:
        warn_failure(integration, exc)
