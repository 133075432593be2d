"""``mltrail models serve`` itself: a registered model served by its alias, several worker
processes sharing one port, and its option checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.sklearn
from mltrail.cli.main import main
from mltrail.registry.client import RegistryClient
from mltrail.registry.fluent import _reset as _reset_registry
from mltrail.tracking import _fluent_state
from tests.scoring import _models
from tests.scoring.conftest import MLTRAIL, free_port, start_server, stop_server


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite store (with local artifacts) that the fluent API points at."""
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    _reset_registry()
    _fluent_state._reset()
    mltrail.set_tracking_uri(uri)
    try:
        yield uri
    finally:
        _reset_registry()
        _fluent_state._reset()


def test_serves_a_registered_model_by_alias(store: str, tmp_path: Path) -> None:
    features, labels = _models.iris()
    strong = LogisticRegression(max_iter=500).fit(features, labels)
    weak = LogisticRegression(max_iter=500).fit(features, (labels + 1) % 3)
    assert (strong.predict(features) != weak.predict(features)).any()
    name = f"iris-{uuid.uuid4().hex[:8]}"
    with mltrail.start_run():
        mltrail.sklearn.log_model(
            strong, name="clf", registered_model_name=name, input_example=features.head(2)
        )
    with mltrail.start_run():
        mltrail.sklearn.log_model(
            weak, name="clf", registered_model_name=name, input_example=features.head(2)
        )
    with RegistryClient(store) as registry:
        registry.set_registered_model_alias(name, "champion", "1")

    port = free_port()
    argv = [
        MLTRAIL,
        "--tracking-uri",
        store,
        "models",
        "serve",
        "-m",
        f"models:/{name}@champion",
        "-p",
        str(port),
    ]
    server = start_server(argv, port, tmp_path / "server.log")
    try:
        body = {"dataframe_split": features.to_dict(orient="split")}
        response = requests.post(f"{server.url}/invocations", json=body, timeout=60)
        assert response.status_code == 200
        assert response.json()["predictions"] == strong.predict(features).tolist()
    finally:
        stop_server(server.process)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_several_workers_share_the_port(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    port = free_port()
    argv = [MLTRAIL, "models", "serve", "-m", str(model_dirs["scaler"]), "-p", str(port), "--workers", "2"]
    server = start_server(argv, port, tmp_path / "server.log")
    try:
        workers = [
            p for p in _children(server.process.pid) if "spawn" in Path(f"/proc/{p}/cmdline").read_text()
        ]
        assert len(workers) == 2
        for i in range(20):
            body = {"dataframe_records": [{"x": float(i), "y": 1}]}
            response = requests.post(f"{server.url}/invocations", json=body, timeout=60)
            assert response.json()["predictions"][0]["scaled"] == i + 1.0
    finally:
        stop_server(server.process)
    assert server.process.returncode is not None


def test_invalid_model_config_is_a_usage_error(model_dirs: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        main, ["models", "serve", "-m", str(model_dirs["scaler"]), "--model-config", "[1]"]
    )
    assert result.exit_code == 2
    assert "must be a JSON object" in result.output


def test_pickled_model_needs_allow_pickle(tmp_path: Path) -> None:
    features, labels = _models.iris()
    model = LogisticRegression(max_iter=200).fit(features, labels)
    mltrail.sklearn.save_model(model, tmp_path / "m", serialization_format="cloudpickle")
    result = CliRunner().invoke(main, ["models", "serve", "-m", str(tmp_path / "m"), "-p", str(free_port())])
    assert result.exit_code == 1
    assert "allow_pickle" in result.output
