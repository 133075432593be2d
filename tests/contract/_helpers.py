"""Small builders shared by the tracking store contract tests."""

from __future__ import annotations

import itertools

from mltrail.tracking.entities import Run, RunTag
from mltrail.tracking.store.base import TrackingStore

_names = itertools.count()


def new_experiment(store: TrackingStore, name: str | None = None) -> str:
    """Create an experiment with a unique name and return its id."""
    return store.create_experiment(name or f"exp-{next(_names)}")


def new_run(
    store: TrackingStore,
    experiment_id: str,
    *,
    start_time: int | None = 1000,
    name: str | None = None,
    tags: dict[str, str] | None = None,
) -> Run:
    """Create a run with explicit start time, name and tags."""
    return store.create_run(
        experiment_id,
        user_id="alice",
        start_time=start_time,
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
        run_name=name,
    )
