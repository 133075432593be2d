"""`mltrail db upgrade`, the global options and error reporting of the `mltrail` group."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail import db as mltrail_db
from mltrail.cli._context import redact_uri
from mltrail.cli.main import main

from ._helpers import Cli


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "fresh.db"
    uri = f"sqlite:///{path}"
    yield uri, path
    mltrail_db.dispose_database(uri)


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        [(revision,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(revision)


def test_db_upgrade_creates_schema_on_a_fresh_file(fresh_db: tuple[str, Path]) -> None:
    uri, path = fresh_db
    assert not path.exists()
    result = CliRunner().invoke(main, ["db", "upgrade", uri], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    head = mltrail_db.head_revision()
    assert f"to revision {head}" in result.stdout
    assert {"experiments", "runs", "metrics", "params", "tags", "alembic_version"} <= _tables(path)
    assert _revision(path) == head

    again = CliRunner().invoke(main, ["db", "upgrade", uri], catch_exceptions=False)
    assert again.exit_code == 0
    assert "already at the newest revision" in again.stdout


def test_db_upgrade_defaults_to_the_tracking_uri(fresh_db: tuple[str, Path]) -> None:
    uri, path = fresh_db
    result = CliRunner().invoke(main, ["--tracking-uri", uri, "db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert _revision(path) == mltrail_db.head_revision()


def test_db_upgrade_then_the_store_uses_it(fresh_db: tuple[str, Path], tmp_path: Path) -> None:
    uri, _ = fresh_db
    runner = CliRunner(env={"MLTRAIL_ARTIFACT_ROOT": str(tmp_path / "artifacts")})
    assert runner.invoke(main, ["db", "upgrade", uri]).exit_code == 0
    created = runner.invoke(main, ["--tracking-uri", uri, "experiments", "create", "after-upgrade"])
    assert created.exit_code == 0, created.output
    listed = json.loads(runner.invoke(main, ["--tracking-uri", uri, "experiments", "list", "--json"]).stdout)
    assert "after-upgrade" in {e["name"] for e in listed}


def test_db_upgrade_rejects_a_server_uri() -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "http://localhost:5000"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "not a database URI" in result.stderr


def test_db_upgrade_unreachable_location(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"
    result = CliRunner().invoke(main, ["db", "upgrade", uri], catch_exceptions=False)
    mltrail_db.dispose_database(uri)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Could not upgrade")
    assert "Traceback" not in result.output


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("experiments", "runs", "db", "gc", "server"):
        assert command in result.stdout
    assert "--tracking-uri" in result.stdout
    for group, commands in {
        "experiments": ("create", "list", "delete", "restore", "rename"),
        "runs": ("list", "describe", "delete", "restore"),
        "db": ("upgrade",),
    }.items():
        sub = CliRunner().invoke(main, [group, "--help"])
        assert sub.exit_code == 0
        for command in commands:
            assert command in sub.stdout


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("mltrail, version ")


def test_unknown_scheme_names_what_to_do() -> None:
    result = CliRunner().invoke(main, ["--tracking-uri", "bogus://nowhere", "experiments", "list"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "bogus" in result.stderr
    assert "MLTRAIL_TRACKING_URI" in result.stderr
    assert "sqlite:///mltrail.db" in result.stderr
    assert "Traceback" not in result.output


def test_tracking_uri_from_environment(cli: Cli) -> None:
    cli.store.create_experiment("from-env")
    runner = CliRunner(env={"MLTRAIL_TRACKING_URI": cli.uri})
    result = runner.invoke(main, ["experiments", "list", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "from-env" in {e["name"] for e in json.loads(result.stdout)}


def test_invalid_setting_is_a_clean_error() -> None:
    runner = CliRunner(env={"MLTRAIL_FLUSH_INTERVAL": "soon"})
    result = runner.invoke(main, ["experiments", "list"])
    assert result.exit_code == 1
    assert "Invalid MLTRAIL_* configuration" in result.stderr


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("postgresql://bob:s3cret@db.example/mltrail", "postgresql://bob:***@db.example/mltrail"),
        ("mysql+pymysql://root@127.0.0.1/x", "mysql+pymysql://root@127.0.0.1/x"),
        ("sqlite:///mltrail.db", "sqlite:///mltrail.db"),
    ],
)
def test_redact_uri(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown
