"""`mltrail gc` and the garbage-collection service behind it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from mltrail import _plugins
from mltrail.artifacts.base import ArtifactRepository, FileInfo
from mltrail.artifacts.paths import local_path_from_uri
from mltrail.cli.gc import proxied_to_destination
from mltrail.errors import BackendError, InvalidArgumentError, InvalidStateError, NotFoundError
from mltrail.tracking.entities import LifecycleStage
from mltrail.tracking.gc import collect_garbage, parse_duration_ms

from ._helpers import Cli


def _run_with_artifacts(cli: Cli, experiment_id: str, name: str, tmp_path: Path) -> tuple[str, Path]:
    """A finished run with one file and one nested file as artifacts; returns (id, artifact dir)."""
    run_id = cli.run(experiment_id, name, {"loss": 0.5}, {"lr": "0.1"})
    artifact_uri = cli.store.get_run(run_id).info.artifact_uri
    source = tmp_path / f"{name}-src"
    (source / "nested").mkdir(parents=True)
    (source / "report.txt").write_text(f"report of {name}")
    (source / "nested" / "weights.bin").write_bytes(b"\x00" * 1024)
    _plugins.resolve_artifact_repository(artifact_uri).log_artifacts(str(source))
    artifact_dir = Path(local_path_from_uri(artifact_uri))
    assert (artifact_dir / "nested" / "weights.bin").is_file()
    return run_id, artifact_dir


@pytest.fixture
def two_runs(cli: Cli, tmp_path: Path) -> dict[str, tuple[str, Path]]:
    exp_id = cli.experiment("gc-exp")
    runs = {name: _run_with_artifacts(cli, exp_id, name, tmp_path) for name in ("keep", "drop")}
    cli.store.delete_run(runs["drop"][0])
    return runs


def test_gc_removes_deleted_run_rows_and_artifacts(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    keep_id, keep_dir = two_runs["keep"]
    drop_id, drop_dir = two_runs["drop"]

    result = cli("gc")
    assert result.exit_code == 0, result.output
    assert f"Removed run {drop_id}" in result.stdout
    assert "Removed 1 deleted run." in result.stdout

    with pytest.raises(NotFoundError):
        cli.store.get_run(drop_id)
    assert not drop_dir.exists()
    assert not drop_dir.parent.exists(), "the run's own directory is removed once empty"
    assert cli.store.list_deleted_runs() == []

    kept = cli.store.get_run(keep_id)
    assert kept.info.lifecycle_stage == LifecycleStage.ACTIVE
    assert kept.data.params == {"lr": "0.1"}
    assert kept.data.metrics == {"loss": 0.5}
    assert (keep_dir / "report.txt").read_text() == "report of keep"
    assert (keep_dir / "nested" / "weights.bin").stat().st_size == 1024

    again = cli("gc")
    assert again.exit_code == 0
    assert "Removed 0 deleted runs." in again.stdout


def test_gc_dry_run_removes_nothing(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    drop_id, drop_dir = two_runs["drop"]
    result = cli("gc", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"Would remove run {drop_id}" in result.stdout
    assert "Would remove 1 deleted run." in result.stdout
    assert cli.store.get_run(drop_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert (drop_dir / "report.txt").is_file()
    assert cli.store.list_deleted_runs() == [drop_id]


def test_gc_json_report(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    drop_id, _ = two_runs["drop"]
    artifact_uri = cli.store.get_run(drop_id).info.artifact_uri
    report = json.loads(cli("gc", "--json").stdout)
    assert report == {"dry_run": False, "run_ids": [drop_id], "artifact_uris": [artifact_uri], "failures": []}


def test_gc_older_than_keeps_recent_deletions(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    drop_id, drop_dir = two_runs["drop"]
    result = cli("gc", "--older-than", "30d")
    assert result.exit_code == 0, result.output
    assert "Removed 0 deleted runs." in result.stdout
    assert drop_dir.exists()
    assert cli.store.get_run(drop_id).info.lifecycle_stage == LifecycleStage.DELETED

    # A run deleted at least 0 s ago is old enough.
    assert cli("gc", "--older-than", "0s").exit_code == 0
    assert not drop_dir.exists()


def test_gc_run_ids(cli: Cli, tmp_path: Path, two_runs: dict[str, tuple[str, Path]]) -> None:
    exp_id = cli.store.get_run(two_runs["keep"][0]).info.experiment_id
    other_id, other_dir = _run_with_artifacts(cli, exp_id, "other", tmp_path)
    cli.store.delete_run(other_id)
    drop_id, drop_dir = two_runs["drop"]

    result = cli("gc", "--run-ids", other_id)
    assert result.exit_code == 0, result.output
    assert not other_dir.exists()
    assert drop_dir.exists()
    assert cli.store.list_deleted_runs() == [drop_id]


def test_gc_refuses_active_run_and_removes_nothing(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    keep_id, keep_dir = two_runs["keep"]
    drop_id, drop_dir = two_runs["drop"]
    result = cli("gc", "--run-ids", f"{drop_id},{keep_id}")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert f"mltrail runs delete {keep_id}" in result.stderr
    assert "Nothing was removed." in result.stderr
    assert drop_dir.exists() and keep_dir.exists()
    assert cli.store.list_deleted_runs() == [drop_id]


def test_gc_unknown_run_id(cli: Cli) -> None:
    result = cli("gc", "--run-ids", "00000000000000000000000000000000")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "--view deleted" in result.stderr


def test_gc_bad_duration(cli: Cli) -> None:
    result = cli("gc", "--older-than", "thirty days")
    assert result.exit_code == 1
    assert "Invalid duration" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", 30 * 86_400_000),
        ("12h", 12 * 3_600_000),
        ("1d12h", 36 * 3_600_000),
        ("90s", 90_000),
        ("15m", 900_000),
        ("2w", 14 * 86_400_000),
        ("1.5h", 5_400_000),
        ("0s", 0),
        (" 1D 2H ", 26 * 3_600_000),
    ],
)
def test_parse_duration(text: str, expected: int) -> None:
    assert parse_duration_ms(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "30x", "-1d", "1d-2h", "30 days"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_duration_ms(text)


class _BrokenRepository(ArtifactRepository):
    """Deletion fails like an unreachable object store; nothing else is used by gc."""

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        raise NotImplementedError

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        raise NotImplementedError

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        raise NotImplementedError

    def download_artifacts(self, artifact_path: str = "", dst_path: str | None = None) -> str:
        raise NotImplementedError

    def open_chunks(self, artifact_path: str, chunk_size: int = 0) -> Iterator[bytes]:
        raise NotImplementedError

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> int:
        raise NotImplementedError

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        raise BackendError("object store unreachable")


def test_failed_artifact_deletion_keeps_run_deleted(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    drop_id, drop_dir = two_runs["drop"]
    report = collect_garbage(cli.store, _BrokenRepository)
    assert not report.ok
    assert report.run_ids == []
    assert [(f.run_id, f.message) for f in report.failures] == [(drop_id, "object store unreachable")]
    assert cli.store.get_run(drop_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert drop_dir.exists()


def test_cli_reports_failures_with_exit_code(
    cli: Cli, two_runs: dict[str, tuple[str, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    drop_id, _ = two_runs["drop"]

    def broken(uri: str, **_: object) -> ArtifactRepository:
        return _BrokenRepository(uri)

    monkeypatch.setattr(_plugins, "resolve_artifact_repository", broken)
    result = cli("gc")
    assert result.exit_code == 1
    assert f"Failed to remove run {drop_id}: object store unreachable" in result.stderr
    assert "1 run(s) could not be removed" in result.stderr
    assert cli.store.get_run(drop_id).info.lifecycle_stage == LifecycleStage.DELETED


def test_service_rejects_negative_age(cli: Cli) -> None:
    with pytest.raises(InvalidArgumentError):
        collect_garbage(cli.store, _plugins.resolve_artifact_repository, older_than_ms=-1)


def test_service_rejects_active_run_id(cli: Cli, two_runs: dict[str, tuple[str, Path]]) -> None:
    with pytest.raises(InvalidStateError):
        collect_garbage(cli.store, _plugins.resolve_artifact_repository, run_ids=[two_runs["keep"][0]])


def test_gc_of_runs_logged_through_a_server(cli: Cli, tmp_path: Path) -> None:
    destination = tmp_path / "proxy-destination"
    exp_id = cli.store.create_experiment("served", artifact_location="mlflow-artifacts:/served")
    run_id = cli.run(exp_id, "via-server")
    artifact_uri = cli.store.get_run(run_id).info.artifact_uri
    assert artifact_uri == f"mlflow-artifacts:/served/{run_id}/artifacts"
    stored = destination / "served" / run_id / "artifacts"
    stored.mkdir(parents=True)
    (stored / "model.pkl").write_bytes(b"weights")
    cli.store.delete_run(run_id)

    without = cli("gc")
    assert without.exit_code == 1
    assert f"Failed to remove run {run_id}" in without.stderr
    assert "--artifacts-destination" in without.stderr
    assert cli.store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert (stored / "model.pkl").exists()

    result = cli("gc", "--artifacts-destination", str(destination))
    assert result.exit_code == 0, result.output
    assert not (destination / "served" / run_id).exists()
    assert (destination / "served").is_dir()
    with pytest.raises(NotFoundError):
        cli.store.get_run(run_id)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("mlflow-artifacts:/1/abc/artifacts", "/data/1/abc/artifacts"),
        ("mlflow-artifacts://host:5000/1/abc/artifacts", "/data/1/abc/artifacts"),
        ("s3://bucket/1/abc/artifacts", "s3://bucket/1/abc/artifacts"),
        ("/local/1/abc/artifacts", "/local/1/abc/artifacts"),
    ],
)
def test_proxied_to_destination(uri: str, expected: str) -> None:
    assert proxied_to_destination(uri, "/data/") == expected


@pytest.mark.parametrize("uri", ["mlflow-artifacts:/../etc/x/artifacts", "mlflow-artifacts:/1/./../../x"])
def test_proxied_to_destination_never_leaves_the_destination(uri: str) -> None:
    with pytest.raises(InvalidArgumentError):
        proxied_to_destination(uri, "/data")
