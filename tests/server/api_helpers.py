"""A thin client for HTTP-level server tests: prefixes, JSON helpers and unique fixtures data."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts"


def unique(prefix: str = "exp") -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Api:
    """Calls RPCs of one server; every method returns the raw ``httpx.Response``.

    Args:
        http: A client whose ``base_url`` is the server.
        prefix: ``/api/2.0/mlflow`` or ``/ajax-api/2.0/mlflow``.
    """

    def __init__(self, http: httpx.Client, prefix: str = API) -> None:
        self.http = http
        self.prefix = prefix

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        """POST a JSON body to an RPC."""
        return self.http.post(f"{self.prefix}/{path}", json=body if body is not None else {}, **kwargs)

    def get(self, path: str, params: Any = None, **kwargs: Any) -> httpx.Response:
        """GET an RPC with query parameters."""
        return self.http.get(f"{self.prefix}/{path}", params=params, **kwargs)

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        """Assert a 200 JSON answer and return its body."""
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        body: dict[str, Any] = response.json()
        return body

    def create_experiment(self, name: str | None = None, **fields: Any) -> str:
        """Create an experiment with a unique name; returns its id."""
        body = self.ok(self.post("experiments/create", {"name": name or unique(), **fields}))
        return str(body["experiment_id"])

    def create_run(self, experiment_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """Create a run (in a new experiment unless one is given); returns the run JSON."""
        experiment_id = experiment_id or self.create_experiment()
        body = self.ok(self.post("runs/create", {"experiment_id": experiment_id, **fields}))
        run: dict[str, Any] = body["run"]
        return run

    def run_id(self, experiment_id: str | None = None) -> str:
        """Create a run; returns its id."""
        return str(self.create_run(experiment_id)["info"]["run_id"])

    def get_run(self, run_id: str) -> dict[str, Any]:
        """GetRun's ``run``."""
        run: dict[str, Any] = self.ok(self.get("runs/get", {"run_id": run_id}))["run"]
        return run


def assert_error(response: httpx.Response, status: int, code: str, message_part: str = "") -> dict[str, Any]:
    """Assert an error answer: status, JSON ``error_code`` and (part of) its message."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error_code"] == code, body
    assert message_part in body["message"], body
    return body
