"""The LLM price table: built-in prices, the user's file (JSON or YAML), and costs on ingest."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mltrail.cli.main import main as cli
from mltrail.errors import InvalidArgumentError
from mltrail.tracing import prices
from mltrail.tracing.entities import mlflow_trace_id
from tests.tracing_backend._spans import new_trace_id, span
from tests.tracing_backend.conftest import Backend


@pytest.fixture(autouse=True)
def _fresh_table() -> Iterator[None]:
    prices.reset()
    yield
    prices.reset()


def _use(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("MLTRAIL_MODEL_PRICES_FILE", str(path))
    prices.reset()


def test_builtin_prices_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLTRAIL_MODEL_PRICES_FILE", raising=False)
    cost = prices.cost_for("openai/gpt-4o-2024-08-06", {"input_tokens": 1_000_000, "output_tokens": 0})
    assert cost == {"input_cost": 2.5, "output_cost": 0.0, "total_cost": 2.5}
    assert prices.cost_for("my-llama-70b", {"input_tokens": 10}) is None


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_file_adds_and_overrides_prices(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, suffix: str
) -> None:
    table = {"My-Llama-70B": {"input": 0.6, "output": 0.8}, "gpt-4o": {"input": 2, "output": 8}}
    path = tmp_path / f"prices{suffix}"
    path.write_text(json.dumps(table))  # JSON is YAML too
    _use(monkeypatch, path)
    usage = {"input_tokens": 500_000, "output_tokens": 250_000}
    assert prices.cost_for("my-llama-70b-instruct", usage) == {
        "input_cost": 0.3,
        "output_cost": 0.2,
        "total_cost": 0.5,
    }
    assert prices.cost_for("gpt-4o", usage) == {"input_cost": 1.0, "output_cost": 2.0, "total_cost": 3.0}
    # Longest prefix still wins across both tables: gpt-4o-mini keeps its built-in price.
    assert prices.cost_for("gpt-4o-mini", usage)["input_cost"] == pytest.approx(0.075)  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected a mapping"),
        ("m: {input: -1, output: 1}", "at least 0"),
        ("m: {input: cheap}", "must be a number"),
        ("m: {output: 1}", "needs {input"),
        ("m: {input: 1, outptu: 2}", "needs {input"),
        ("m: [unclosed", "not valid JSON or YAML"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text(text)
    with pytest.raises(InvalidArgumentError, match=message.replace("{", r"\{").replace("[", r"\[")):
        prices.load_prices(path)
    with pytest.raises(InvalidArgumentError, match="Cannot read"):
        prices.load_prices(tmp_path / "missing.yaml")


def test_server_does_not_start_with_a_bad_price_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("m: {input: -1}")
    result = CliRunner().invoke(cli, ["server", "--port", "1"], env={"MLTRAIL_MODEL_PRICES_FILE": str(path)})
    assert result.exit_code == 1
    assert "MLTRAIL_MODEL_PRICES_FILE" in result.output and "at least 0" in result.output


def test_ingest_prices_spans_with_the_users_table(
    sqlite_backend: Backend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("my-llama: {input: 1.0, output: 3.0}\n")
    _use(monkeypatch, path)
    trace_id = new_trace_id()
    chat = span(
        trace_id,
        "chat",
        attributes={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "my-llama-8b",
            "gen_ai.usage.input_tokens": 2_000,
            "gen_ai.usage.output_tokens": 1_000,
        },
    )
    sqlite_backend.traces.log_spans(sqlite_backend.experiment_id, [chat])
    trace = sqlite_backend.traces.get_trace(mlflow_trace_id(trace_id))
    assert trace.spans[0].attributes["mlflow.llm.cost"] == {
        "input_cost": 0.002,
        "output_cost": 0.003,
        "total_cost": 0.005,
    }
    assert json.loads(trace.info.trace_metadata["mlflow.trace.cost"]) == {
        "input_cost": 0.002,
        "output_cost": 0.003,
        "total_cost": 0.005,
    }
