"""The `Cli` helper shared by the CLI tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from mltrail._utils import now_ms
from mltrail.cli.main import main
from mltrail.tracking.entities import Metric, Param, RunStatus
from mltrail.tracking.store.base import TrackingStore


@dataclass
class Cli:
    """Runs ``mltrail --tracking-uri <uri> ...`` in-process and gives direct store access."""

    uri: str
    artifact_root: Path
    runner: CliRunner
    store: TrackingStore

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(main, ["--tracking-uri", self.uri, *args], catch_exceptions=False)

    def experiment(self, name: str) -> str:
        """Create an experiment directly in the store and return its id."""
        return self.store.create_experiment(name)

    def run(
        self,
        experiment_id: str,
        name: str,
        metrics: dict[str, float] | None = None,
        params: dict[str, str] | None = None,
        *,
        finish: bool = True,
    ) -> str:
        """Create a run with the given latest metrics and params; return its id."""
        run = self.store.create_run(experiment_id, user_id="tester", start_time=now_ms(), run_name=name)
        run_id = run.info.run_id
        self.store.log_batch(
            run_id,
            metrics=[Metric(k, v, now_ms(), 0) for k, v in (metrics or {}).items()],
            params=[Param(k, v) for k, v in (params or {}).items()],
        )
        if finish:
            self.store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=now_ms())
        return run_id
