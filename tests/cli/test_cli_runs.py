"""`mltrail runs ...` against a SQLite store."""

from __future__ import annotations

import json

import pytest

from mltrail._utils import now_ms
from mltrail.tracking.entities import Dataset, DatasetInput, InputTag, LifecycleStage, Metric, RunTag

from ._helpers import Cli


@pytest.fixture
def populated(cli: Cli) -> tuple[str, dict[str, str]]:
    exp_id = cli.experiment("runs-exp")
    ids = {
        "good": cli.run(exp_id, "good", {"rmse": 0.5, "r2": 0.9}, {"alpha": "0.1"}),
        "bad": cli.run(exp_id, "bad", {"rmse": 2.0, "r2": 0.1}, {"alpha": "1.0"}),
        "mid": cli.run(exp_id, "mid", {"rmse": 1.0, "r2": 0.5}, {"alpha": "0.5"}, finish=False),
    }
    return exp_id, ids


def _json(cli: Cli, *args: str) -> list[dict[str, object]]:
    result = cli("runs", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert isinstance(value, list)
    return value


def _names(runs: list[dict[str, object]]) -> list[str]:
    return [r["info"]["run_name"] for r in runs]  # type: ignore[index]


def test_list_table(cli: Cli, populated: tuple[str, dict[str, str]]) -> None:
    exp_id, ids = populated
    result = cli("runs", "list", "--experiment-id", exp_id)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0]
    assert header.split()[:3] == ["RUN", "ID", "NAME"]
    assert len(lines) == 2 + 3
    status_col = header.index("STATUS")
    by_id = {line.split()[0]: line for line in lines[2:]}
    assert set(by_id) == set(ids.values())
    assert by_id[ids["good"]][status_col:].startswith("FINISHED")
    assert by_id[ids["mid"]][status_col:].startswith("RUNNING")
    assert "r2=0.9 rmse=0.5" in by_id[ids["good"]]


def test_list_filter_order_and_max_results(cli: Cli, populated: tuple[str, dict[str, str]]) -> None:
    exp_id, _ = populated
    assert _names(_json(cli, "-e", exp_id, "--order-by", "metrics.rmse ASC")) == ["good", "mid", "bad"]
    assert _names(_json(cli, "-e", exp_id, "--order-by", "params.alpha DESC")) == ["bad", "mid", "good"]
    assert _names(
        _json(cli, "-e", exp_id, "--filter", "metrics.rmse < 1.5", "--order-by", "metrics.r2 DESC")
    ) == [
        "good",
        "mid",
    ]
    assert _names(_json(cli, "-e", exp_id, "--filter", "params.alpha = '1.0'")) == ["bad"]
    limited = cli("runs", "list", "-e", exp_id, "--order-by", "metrics.rmse", "--max-results", "2")
    assert limited.exit_code == 0
    assert len(limited.stdout.splitlines()) == 2 + 2
    assert "raise --max-results" in limited.stderr


def test_list_pages_through_many_runs(cli: Cli) -> None:
    exp_id = cli.experiment("many")
    run = cli.store.create_run(exp_id, start_time=now_ms())
    first = run.info.run_id
    for _ in range(14):
        cli.store.create_run(exp_id, start_time=now_ms())
    listed = _json(cli, "-e", exp_id, "--max-results", "100")
    assert len(listed) == 15
    assert first in {r["info"]["run_id"] for r in listed}  # type: ignore[index]


def test_list_several_experiments(cli: Cli, populated: tuple[str, dict[str, str]]) -> None:
    exp_id, _ = populated
    other = cli.experiment("other")
    cli.run(other, "elsewhere", {"rmse": 0.1})
    assert len(_json(cli, "-e", f"{exp_id},{other}")) == 4
    assert len(_json(cli, "-e", exp_id, "-e", other)) == 4


def test_list_bad_filter(cli: Cli, populated: tuple[str, dict[str, str]]) -> None:
    exp_id, _ = populated
    result = cli("runs", "list", "-e", exp_id, "--filter", "metrics.rmse < 1 OR metrics.r2 > 0")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "docs/cli.md" in result.stderr


def test_list_requires_experiment(cli: Cli) -> None:
    result = cli("runs", "list")
    assert result.exit_code == 2
    assert "--experiment-id" in result.stderr


def test_describe(cli: Cli, populated: tuple[str, dict[str, str]]) -> None:
    exp_id, ids = populated
    run_id = ids["good"]
    cli.store.log_batch(
        run_id, metrics=[Metric("rmse", 0.25, now_ms(), 3), Metric("nan", float("nan"), 1, 0)]
    )
    cli.store.set_tag(run_id, RunTag("team", "vision"))
    dataset = Dataset(name="wine", digest="abc123", source_type="code", source='{"x": 1}', profile='{"n": 3}')
    cli.store.log_inputs(
        run_id, datasets=[DatasetInput(dataset, (InputTag("mlflow.data.context", "training"),))]
    )

    result = cli("runs", "describe", run_id)
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)
    assert described["info"]["run_id"] == run_id
    assert described["info"]["experiment_id"] == exp_id
    assert described["info"]["status"] == "FINISHED"
    assert described["info"]["lifecycle_stage"] == "active"
    assert described["params"] == {"alpha": "0.1"}
    assert described["metrics"]["rmse"] == {
        "value": 0.25,
        "step": 3,
        "timestamp": described["metrics"]["rmse"]["timestamp"],
    }
    assert described["metrics"]["r2"]["value"] == 0.9
    assert described["metrics"]["nan"]["value"] == "NaN"
    assert described["tags"]["mlflow.runName"] == "good"
    assert described["tags"]["team"] == "vision"
    [dataset_json] = described["inputs"]["datasets"]
    assert dataset_json["name"] == "wine"
    assert dataset_json["digest"] == "abc123"
    assert dataset_json["tags"] == {"mlflow.data.context": "training"}


def test_describe_unknown_run(cli: Cli) -> None:
    result = cli("runs", "describe", "0123456789abcdef0123456789abcdef")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    assert "mltrail runs list --experiment-id" in result.stderr
    assert "Traceback" not in result.output


def test_delete_and_restore(cli: Cli, populated: tuple[str, dict[str, str]]) -> None:
    exp_id, ids = populated
    deleted = cli("runs", "delete", ids["bad"])
    assert deleted.exit_code == 0, deleted.output
    assert f"mltrail runs restore {ids['bad']}" in deleted.stdout
    assert cli.store.get_run(ids["bad"]).info.lifecycle_stage == LifecycleStage.DELETED
    assert "bad" not in _names(_json(cli, "-e", exp_id))
    assert _names(_json(cli, "-e", exp_id, "--view", "deleted")) == ["bad"]
    assert len(_json(cli, "-e", exp_id, "--view", "all")) == 3
    table = cli("runs", "list", "-e", exp_id, "--view", "all").stdout
    assert "STAGE" in table.splitlines()[0]
    assert "deleted" in table

    restored = cli("runs", "restore", ids["bad"])
    assert restored.exit_code == 0, restored.output
    assert cli.store.get_run(ids["bad"]).info.lifecycle_stage == LifecycleStage.ACTIVE


@pytest.mark.parametrize("command", ["delete", "restore"])
def test_delete_or_restore_unknown_run(cli: Cli, command: str) -> None:
    result = cli("runs", command, "ffffffffffffffffffffffffffffffff")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "mltrail runs list --experiment-id" in result.stderr


def test_list_unknown_experiment(cli: Cli) -> None:
    result = cli("runs", "list", "-e", "31337")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "31337" in result.stderr
    assert "mltrail experiments list --view all" in result.stderr
