"""The CLI against PostgreSQL and MariaDB: upgrade, experiments, runs and gc end to end.

Needs ``MLTRAIL_TEST_POSTGRES_URI`` / ``MLTRAIL_TEST_MYSQL_URI``; skipped with the reason when
unset (failing instead when ``MLTRAIL_TEST_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail import _plugins
from mltrail.artifacts.paths import local_path_from_uri
from mltrail.cli.main import main
from mltrail.config import Settings
from mltrail.db import head_revision
from mltrail.errors import NotFoundError
from mltrail.tracking.entities import Metric, Param
from tests.support.databases import fresh_database

from ._helpers import Cli


@pytest.mark.parametrize(
    "kind",
    [pytest.param("postgresql", marks=pytest.mark.postgres), pytest.param("mysql", marks=pytest.mark.mysql)],
)
def test_cli_round_trip_on_server_database(kind: str, tmp_path: Path) -> None:
    artifact_root = tmp_path / "artifacts"
    with fresh_database(kind) as uri:
        runner = CliRunner(env={"MLTRAIL_ARTIFACT_ROOT": str(artifact_root)})

        upgraded = runner.invoke(main, ["db", "upgrade", uri])
        assert upgraded.exit_code == 0, upgraded.output
        assert head_revision() in upgraded.stdout

        store = _plugins.resolve_tracking_store(
            uri, Settings(tracking_uri=uri, artifact_root=str(artifact_root))
        )
        cli = Cli(uri=uri, artifact_root=artifact_root, runner=runner, store=store)
        try:
            created = cli("experiments", "create", f"{kind}-exp")
            assert created.exit_code == 0, created.output
            match = re.search(r"with id (\d+)", created.stdout)
            assert match
            exp_id = match.group(1)

            run_id = cli.run(exp_id, "on-server", {"rmse": 0.25}, {"alpha": "0.5"})
            store.log_batch(run_id, metrics=[Metric("rmse", 0.125, 1, 5)], params=[Param("beta", "x")])
            listed = json.loads(
                cli("runs", "list", "-e", exp_id, "--filter", "metrics.rmse < 1", "--json").stdout
            )
            assert [r["info"]["run_id"] for r in listed] == [run_id]
            described = json.loads(cli("runs", "describe", run_id).stdout)
            assert described["metrics"]["rmse"]["value"] == 0.125
            assert described["params"] == {"alpha": "0.5", "beta": "x"}

            source = tmp_path / "file.txt"
            source.write_text("payload")
            artifact_uri = store.get_run(run_id).info.artifact_uri
            _plugins.resolve_artifact_repository(artifact_uri).log_artifact(str(source))
            artifact_dir = Path(local_path_from_uri(artifact_uri))
            assert (artifact_dir / "file.txt").read_text() == "payload"

            assert cli("runs", "delete", run_id).exit_code == 0
            collected = cli("gc", "--run-ids", run_id)
            assert collected.exit_code == 0, collected.output
            with pytest.raises(NotFoundError):
                store.get_run(run_id)
            assert not artifact_dir.exists()

            assert cli("experiments", "delete", exp_id).exit_code == 0
            names = {
                e["name"]
                for e in json.loads(cli("experiments", "list", "--view", "deleted", "--json").stdout)
            }
            assert names == {f"{kind}-exp"}
        finally:
            store.close()
