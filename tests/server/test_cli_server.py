"""``mltrail server`` option handling: flags, ``MLTRAIL_SERVER_*`` variables and defaults."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mltrail.cli import server as server_cli
from mltrail.server.settings import PROXY_ARTIFACT_ROOT, ServerSettings


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[ServerSettings]:
    seen: list[ServerSettings] = []
    monkeypatch.setattr(server_cli, "run_server", seen.append)
    return seen


def test_defaults_serve_the_embedded_store_on_loopback(captured: list[ServerSettings]) -> None:
    result = CliRunner().invoke(server_cli.server_command, [])
    assert result.exit_code == 0, result.output
    settings = captured[0]
    assert settings.backend_store_uri == "sqlite:///mltrail.db"
    assert settings.artifacts_destination == "./mltrail-artifacts"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 5000, 1)
    assert settings.serve_artifacts is True
    assert settings.effective_artifact_root == PROXY_ARTIFACT_ROOT


def test_flags(captured: list[ServerSettings]) -> None:
    args = [
        "--backend-store-uri",
        "postgresql://db/x",
        "--artifacts-destination",
        "s3://bucket/prefix",
        "--no-serve-artifacts",
        "--host",
        "0.0.0.0",
        "--port",
        "8080",
        "--workers",
        "4",
    ]
    result = CliRunner().invoke(server_cli.server_command, args)
    assert result.exit_code == 0, result.output
    settings = captured[0]
    assert settings.backend_store_uri == "postgresql://db/x"
    assert settings.serve_artifacts is False
    assert settings.effective_artifact_root == "s3://bucket/prefix"
    assert (settings.host, settings.port, settings.workers) == ("0.0.0.0", 8080, 4)


def test_environment_and_flag_precedence(
    captured: list[ServerSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_SERVER_PORT", "6000")
    monkeypatch.setenv("MLTRAIL_SERVER_DEFAULT_ARTIFACT_ROOT", "s3://explicit/root")
    monkeypatch.setenv("MLTRAIL_SERVER_SERVE_ARTIFACTS", "false")
    result = CliRunner().invoke(server_cli.server_command, ["--serve-artifacts"])
    assert result.exit_code == 0, result.output
    settings = captured[0]
    assert settings.port == 6000
    assert settings.serve_artifacts is True
    assert settings.effective_artifact_root == "s3://explicit/root"


def test_invalid_values_are_usage_errors(captured: list[ServerSettings]) -> None:
    assert CliRunner().invoke(server_cli.server_command, ["--workers", "0"]).exit_code == 2
    assert CliRunner().invoke(server_cli.server_command, ["--port", "70000"]).exit_code == 2
    assert captured == []
