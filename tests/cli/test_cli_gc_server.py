"""`mltrail gc` for runs logged through a real `mltrail server` with its artifact proxy."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail.cli.main import main
from mltrail.config import Settings
from mltrail.errors import NotFoundError
from mltrail.tracking.client import TrackingClient
from tests.support.live_server import running_server

pytestmark = pytest.mark.integration


def _logged_and_deleted(client: TrackingClient, name: str) -> tuple[str, str]:
    """A run with one text artifact through the proxy, then deleted; returns (run id, experiment id)."""
    experiment_id = client.create_experiment(name)
    run_id = client.create_run(experiment_id).info.run_id
    client.log_text(run_id, f"notes of {name}", "notes/readme.txt")
    client.delete_run(run_id)
    return run_id, experiment_id


def test_gc_through_the_server_and_on_its_database(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        destination = Path(server.artifacts_destination)
        client = TrackingClient(server.url, settings=Settings(tracking_uri=server.url))
        try:
            via_http, exp_a = _logged_and_deleted(client, "gc-via-http")
            on_db, exp_b = _logged_and_deleted(client, "gc-on-db")
            kept = client.create_run(exp_a).info.run_id
            client.log_text(kept, "keep me", "notes/readme.txt")
            for exp_id, run_id in ((exp_a, via_http), (exp_b, on_db), (exp_a, kept)):
                assert (destination / exp_id / run_id / "artifacts" / "notes" / "readme.txt").is_file()

            # 1. Against the server: list and purge go through its API, artifacts through its proxy.
            result = CliRunner().invoke(main, ["--tracking-uri", server.url, "gc", "--run-ids", via_http])
            assert result.exit_code == 0, result.output
            assert not (destination / exp_a / via_http).exists()
            with pytest.raises(NotFoundError):
                client.get_run(via_http)

            # 2. Against the server's database, mapping mlflow-artifacts: URIs onto its destination.
            result = CliRunner().invoke(
                main,
                [
                    "--tracking-uri",
                    server.backend_store_uri,
                    "gc",
                    "--artifacts-destination",
                    str(destination),
                ],
            )
            assert result.exit_code == 0, result.output
            assert "Removed 1 deleted run." in result.stdout
            assert not (destination / exp_b / on_db).exists()
            with pytest.raises(NotFoundError):
                client.get_run(on_db)

            assert client.get_run(kept).info.run_id == kept
            assert (
                destination / exp_a / kept / "artifacts" / "notes" / "readme.txt"
            ).read_text() == "keep me"
        finally:
            client.close()
