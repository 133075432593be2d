"""`mltrail experiments ...` against a SQLite store."""

from __future__ import annotations

import json
import re

import pytest

from mltrail.tracking.entities import LifecycleStage

from ._helpers import Cli


def _created_id(output: str) -> str:
    match = re.search(r"with id (\d+)", output)
    assert match, output
    return match.group(1)


def test_create_then_list_as_table_and_json(cli: Cli) -> None:
    result = cli("experiments", "create", "wine")
    assert result.exit_code == 0, result.output
    exp_id = _created_id(result.output)
    assert cli.store.get_experiment(exp_id).name == "wine"
    cli("experiments", "create", "a-much-longer-experiment-name")

    table = cli("experiments", "list")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "STAGE", "CREATED", "(UTC)", "ARTIFACT", "LOCATION"]
    assert set(lines[1]) <= {"-", " "}
    # Columns are aligned: every row starts its NAME cell where the header does.
    name_col = lines[0].index("NAME")
    names = {line[name_col:].split()[0] for line in lines[2:]}
    assert names == {"wine", "a-much-longer-experiment-name", "Default"}

    listed = json.loads(cli("experiments", "list", "--json").stdout)
    by_name = {e["name"]: e for e in listed}
    assert by_name["wine"]["experiment_id"] == exp_id
    assert by_name["wine"]["lifecycle_stage"] == "active"
    assert by_name["wine"]["artifact_location"].endswith(f"/{exp_id}")
    assert isinstance(by_name["wine"]["creation_time"], int)


def test_create_with_artifact_location(cli: Cli, tmp_path_factory: pytest.TempPathFactory) -> None:
    location = str(tmp_path_factory.mktemp("elsewhere"))
    result = cli("experiments", "create", "custom", "--artifact-location", location)
    assert result.exit_code == 0, result.output
    assert cli.store.get_experiment(_created_id(result.output)).artifact_location.endswith(location)


def test_create_duplicate_name_is_a_clean_error(cli: Cli) -> None:
    cli("experiments", "create", "dup")
    result = cli("experiments", "create", "dup")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "dup" in result.stderr
    assert "mltrail experiments list --view all" in result.stderr
    assert "Traceback" not in result.output


def test_list_filter(cli: Cli) -> None:
    for name in ("alpha-1", "alpha-2", "beta"):
        cli("experiments", "create", name)
    listed = json.loads(cli("experiments", "list", "--filter", "name LIKE 'alpha%'", "--json").stdout)
    assert sorted(e["name"] for e in listed) == ["alpha-1", "alpha-2"]


def test_bad_filter_is_a_clean_error(cli: Cli) -> None:
    result = cli("experiments", "list", "--filter", "name ~~ 'x'")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")


def test_delete_restore_and_views(cli: Cli) -> None:
    exp_id = _created_id(cli("experiments", "create", "to-delete").output)

    deleted = cli("experiments", "delete", exp_id)
    assert deleted.exit_code == 0, deleted.output
    assert f"mltrail experiments restore {exp_id}" in deleted.stdout
    assert cli.store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.DELETED

    def names(view: str) -> set[str]:
        return {e["name"] for e in json.loads(cli("experiments", "list", "--view", view, "--json").stdout)}

    assert "to-delete" not in names("active")
    assert names("deleted") == {"to-delete"}
    assert {"to-delete", "Default"} <= names("all")
    table = cli("experiments", "list", "--view", "deleted").stdout
    assert "deleted" in table.splitlines()[2]

    restored = cli("experiments", "restore", exp_id)
    assert restored.exit_code == 0, restored.output
    assert cli.store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert "to-delete" in names("active")


@pytest.mark.parametrize("command", ["delete", "restore"])
def test_delete_or_restore_unknown_id(cli: Cli, command: str) -> None:
    result = cli("experiments", command, "987654")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "mltrail experiments list --view all" in result.stderr


def test_restore_active_experiment_is_an_error(cli: Cli) -> None:
    exp_id = _created_id(cli("experiments", "create", "active-one").output)
    result = cli("experiments", "restore", exp_id)
    assert result.exit_code == 1
    assert "only deleted experiments can be restored" in result.stderr


def test_rename(cli: Cli) -> None:
    exp_id = _created_id(cli("experiments", "create", "old-name").output)
    result = cli("experiments", "rename", exp_id, "new-name")
    assert result.exit_code == 0, result.output
    assert cli.store.get_experiment(exp_id).name == "new-name"


def test_rename_errors(cli: Cli) -> None:
    exp_id = _created_id(cli("experiments", "create", "first").output)
    cli("experiments", "create", "second")

    taken = cli("experiments", "rename", exp_id, "second")
    assert taken.exit_code == 1
    assert taken.stderr.startswith("Error: ")
    assert "Pick another name" in taken.stderr

    unknown = cli("experiments", "rename", "424242", "whatever")
    assert unknown.exit_code == 1
    assert "mltrail experiments list --view all" in unknown.stderr

    cli("experiments", "delete", exp_id)
    deleted = cli("experiments", "rename", exp_id, "third")
    assert deleted.exit_code == 1
    assert f"mltrail experiments restore {exp_id}" in deleted.stderr
    assert cli.store.get_experiment(exp_id).name == "first"


def test_missing_argument_is_a_usage_error(cli: Cli) -> None:
    result = cli("experiments", "rename", "1")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
