"""``mltrail models``: registry commands against a SQLite store, including alias history and rollback."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mltrail.config import Settings
from mltrail.registry.client import RegistryClient

from ._helpers import Cli


@pytest.fixture
def registry(cli: Cli) -> Iterator[RegistryClient]:
    with RegistryClient(cli.uri, settings=Settings(tracking_uri=cli.uri, user="seed")) as client:
        yield client


def _model_with_versions(registry: RegistryClient, name: str, count: int) -> None:
    registry.create_registered_model(name)
    for i in range(count):
        registry.create_model_version(name, f"s3://bucket/{name}/{i}")


def test_create_list_describe_delete(cli: Cli, registry: RegistryClient) -> None:
    result = cli("models", "create", "churn", "--description", "churn model")
    assert result.exit_code == 0, result.output
    assert "Created registered model 'churn'" in result.output
    registry.create_model_version("churn", "s3://bucket/churn")
    listed = cli("models", "list")
    assert "churn" in listed.output and "NAME" in listed.output
    as_json = json.loads(cli("models", "list", "--json").output)
    assert [m["name"] for m in as_json] == ["churn"]
    described = cli("models", "describe", "churn")
    assert "churn model" in described.output and "version 1 (None)" in described.output
    duplicate = cli("models", "create", "churn")
    assert duplicate.exit_code == 1 and "already exists" in duplicate.output
    deleted = cli("models", "delete", "churn", "--yes")
    assert deleted.exit_code == 0, deleted.output
    missing = cli("models", "describe", "churn")
    assert (
        missing.exit_code == 1 and "not found" in missing.output and "mltrail models list" in missing.output
    )


def test_versions_transition_with_archiving(cli: Cli, registry: RegistryClient) -> None:
    _model_with_versions(registry, "m", 2)
    assert cli("models", "transition", "m", "1", "production").exit_code == 0
    result = cli("models", "transition", "m", "2", "Production", "--archive-existing")
    assert result.exit_code == 0, result.output
    assert "now in stage Production" in result.output
    assert registry.get_model_version("m", 1).current_stage == "Archived"
    table = cli("models", "versions", "m").output
    assert table.index("Production") < table.index("Archived")
    rows = json.loads(cli("models", "versions", "m", "--json").output)
    assert [r["version"] for r in rows] == ["2", "1"]
    bad = cli("models", "transition", "m", "1", "Archived", "--archive-existing")
    assert bad.exit_code == 1 and "Staging and Production" in bad.output


def test_aliases_history_and_rollback(cli: Cli, registry: RegistryClient) -> None:
    _model_with_versions(registry, "m", 3)
    cli.runner.env = {**cli.runner.env, "MLTRAIL_USER": "alice"}
    assert cli("models", "set-alias", "m", "champ", "1", "--reason", "baseline").exit_code == 0
    assert cli("models", "set-alias", "m", "champ", "3").exit_code == 0
    assert registry.get_model_version_by_alias("m", "champ").version == "3"
    rolled = cli("models", "rollback-alias", "m", "champ", "--reason", "v3 regressed")
    assert rolled.exit_code == 0, rolled.output
    assert "from version 3 to 1" in rolled.output
    assert registry.get_model_version_by_alias("m", "champ").version == "1"
    explicit = cli("models", "rollback-alias", "m", "champ", "--to-version", "3")
    assert explicit.exit_code == 0 and "to 3" in explicit.output
    history = json.loads(cli("models", "alias-history", "m", "champ", "--json").output)
    assert [(e["action"], e.get("from_version"), e["to_version"]) for e in history] == [
        ("SET", None, "1"),
        ("SET", "1", "3"),
        ("ROLLBACK", "3", "1"),
        ("ROLLBACK", "1", "3"),
    ]
    assert {e["user_id"] for e in history} == {"alice"}
    assert history[0]["reason"] == "baseline" and history[2]["reason"] == "v3 regressed"
    table = cli("models", "alias-history", "m").output
    assert "ROLLBACK" in table and "v3 regressed" in table
    assert cli("models", "delete-alias", "m", "champ").exit_code == 0
    assert registry.get_registered_model("m").aliases == ()
    never = cli("models", "rollback-alias", "m", "ghost")
    assert never.exit_code == 1 and "alias-history" in never.output
    reserved = cli("models", "set-alias", "m", "latest", "1")
    assert reserved.exit_code == 1 and "reserved" in reserved.output


def test_models_group_lists_its_commands(cli: Cli) -> None:
    result = cli("models", "--help")
    for command in ("list", "describe", "create", "delete", "versions", "set-alias", "delete-alias"):
        assert command in result.output
    for command in ("alias-history", "rollback-alias", "transition"):
        assert command in result.output
