"""Garbage collection: permanently remove soft-deleted runs and their artifacts.

Deleting a run only marks it deleted, so it can be restored. :func:`collect_garbage` is the
irreversible step: for each deleted run it removes the run's artifacts through the artifact
repository of the run's ``artifact_uri``, then purges the run's rows from the store. Artifacts go
first so that a failure leaves the run listed as deleted and a later collection can finish the job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tqdm import tqdm

from mltrail.artifacts.base import ArtifactRepository
from mltrail.errors import InvalidArgumentError, InvalidStateError, MltrailError, NotFoundError
from mltrail.tracking.entities import LifecycleStage, Run
from mltrail.tracking.store.base import TrackingStore

__all__ = ["GcFailure", "GcReport", "collect_garbage", "parse_duration_ms"]

ArtifactRepositoryFactory = Callable[[str], ArtifactRepository]

_UNIT_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration_ms(text: str) -> int:
    """Parse a duration such as ``30d``, ``12h``, ``1d12h`` or ``90s`` into milliseconds.

    Units: ``w`` weeks, ``d`` days, ``h`` hours, ``m`` minutes, ``s`` seconds.

    Args:
        text: The duration; parts of several units may follow each other.

    Returns:
        The duration in milliseconds.

    Raises:
        InvalidArgumentError: the text is not such a duration.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION_PART.findall(compact)
    if not compact or "".join(number + unit for number, unit in parts) != compact:
        raise InvalidArgumentError(
            f"Invalid duration {text!r}: use a number followed by a unit (w, d, h, m, s), e.g. 30d or 1d12h"
        )
    return int(sum(float(number) * _UNIT_MS[unit] for number, unit in parts))


@dataclass(frozen=True, slots=True)
class GcFailure:
    """A run that could not be removed, and why (it stays soft-deleted)."""

    run_id: str
    message: str


@dataclass(slots=True)
class GcReport:
    """What a collection removed (or, in a dry run, would remove)."""

    dry_run: bool
    run_ids: list[str] = field(default_factory=list)
    artifact_uris: list[str] = field(default_factory=list)
    failures: list[GcFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every selected run was removed."""
        return not self.failures


def _select_runs(store: TrackingStore, run_ids: Sequence[str] | None, older_than_ms: int | None) -> list[Run]:
    """The deleted runs to collect; explicit ids are all checked before anything is removed."""
    eligible = store.list_deleted_runs(older_than_ms=older_than_ms)
    if run_ids is None:
        found: list[Run] = []
        for run_id in eligible:
            try:
                found.append(store.get_run(run_id))
            except NotFoundError:  # purged by a concurrent collection since it was listed
                continue
        return found
    eligible_set = set(eligible)
    runs: list[Run] = []
    for run_id in dict.fromkeys(run_ids):
        run = store.get_run(run_id)
        if run.info.lifecycle_stage != LifecycleStage.DELETED:
            raise InvalidStateError(
                f"Run '{run_id}' is not deleted; only deleted runs can be garbage-collected. "
                f"Delete it first with `mltrail runs delete {run_id}`."
            )
        if run_id not in eligible_set:
            raise InvalidStateError(f"Run '{run_id}' was deleted too recently for the age limit given.")
        runs.append(run)
    return runs


def _remove_artifacts(run: Run, repository_for: ArtifactRepositoryFactory) -> None:
    """Delete the run's artifact tree, then its own directory when nothing else is left in it."""
    uri = run.info.artifact_uri
    repository_for(uri).delete_artifacts()
    suffix = f"/{run.info.run_id}/artifacts"
    # The default layout is <experiment location>/<run_id>/artifacts; the <run_id> level holds
    # nothing else, but is only removed when empty so nothing a user put there is lost.
    if uri.rstrip("/").endswith(suffix):
        run_dir = repository_for(uri.rstrip("/")[: -len("/artifacts")])
        if not run_dir.list_artifacts():
            run_dir.delete_artifacts()


def collect_garbage(
    store: TrackingStore,
    repository_for: ArtifactRepositoryFactory,
    *,
    run_ids: Sequence[str] | None = None,
    older_than_ms: int | None = None,
    dry_run: bool = False,
    progress: bool = False,
) -> GcReport:
    """Permanently remove deleted runs: first their artifacts, then their rows.

    Args:
        store: The tracking store holding the runs.
        repository_for: Builds the artifact repository rooted at a run's ``artifact_uri``.
        run_ids: Only these runs (each must exist and be deleted); all deleted runs if None.
        older_than_ms: Only runs deleted more than this many milliseconds ago.
        dry_run: Report what would be removed and remove nothing.
        progress: Show a progress bar on stderr.

    Returns:
        The report. A run whose removal fails is listed in ``failures`` and left soft-deleted;
        the other runs are still collected.

    Raises:
        NotFoundError: one of ``run_ids`` does not exist.
        InvalidStateError: one of ``run_ids`` is not deleted, or not old enough.
        InvalidArgumentError: ``older_than_ms`` is negative.
    """
    if older_than_ms is not None and older_than_ms < 0:
        raise InvalidArgumentError(f"older_than_ms must not be negative, got {older_than_ms}")
    runs = _select_runs(store, run_ids, older_than_ms)
    report = GcReport(dry_run=dry_run)
    if dry_run:
        report.run_ids = [run.info.run_id for run in runs]
        report.artifact_uris = [run.info.artifact_uri for run in runs]
        return report
    for run in tqdm(runs, desc="Removing deleted runs", unit="run", disable=not progress or not runs):
        run_id = run.info.run_id
        try:
            _remove_artifacts(run, repository_for)
            store.purge_run(run_id)
        except (MltrailError, OSError) as exc:
            report.failures.append(GcFailure(run_id=run_id, message=str(exc)))
            continue
        report.run_ids.append(run_id)
        report.artifact_uris.append(run.info.artifact_uri)
    return report
