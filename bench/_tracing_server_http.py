"""HTTP side of ``bench/tracing_server.py``: start a tool's server and talk to its tracing routes.

:func:`start_server` runs ``mltrail server`` or ``mlflow server`` with its default worker settings
on a fresh SQLite file and a free loopback port (through ``_server_procs.ServerProcess``).
:class:`TraceApi` is a keep-alive client of the three routes the benchmark uses: experiment
creation, OTLP export (``POST /v1/traces``) and ``POST /api/3.0/mlflow/traces/search``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from _server_procs import ServerProcess, clean_env, free_port

__all__ = ["SearchPass", "TraceApi", "start_server"]

_TIMEOUT_S = 600.0
_REPO_DIR = Path(__file__).resolve().parent.parent


def start_server(
    stack: contextlib.ExitStack, tool: str, workdir: Path, mlflow_python: Path | None
) -> ServerProcess:
    """Start one tool's server on ``workdir/<tool>.db``; ``stack`` stops it.

    Args:
        stack: Gets the server's stop callback.
        tool: ``mltrail`` or ``mlflow``.
        workdir: A fresh directory for the database, artifacts and the server log.
        mlflow_python: The MLflow venv's interpreter (its ``mlflow`` script sits beside it).

    Returns:
        The running server.
    """
    workdir.mkdir(parents=True)
    port = free_port()
    common = ["--backend-store-uri", database_uri(tool, workdir)]
    common += [
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if tool == "mltrail":
        script = _REPO_DIR / ".venv" / "bin" / "mltrail"
        base = [str(script)] if script.exists() else [sys.executable, "-m", "mltrail.cli.main"]
        command = [*base, "server", *common]
    else:
        if mlflow_python is None:
            raise ValueError("the MLflow server needs the MLflow venv")
        command = [str(mlflow_python.parent / "mlflow"), "server", *common]
    server = ServerProcess(tool, command, port, clean_env(), workdir, workdir / "server.log")
    stack.callback(server.stop)
    server.start()
    return server


def database_uri(tool: str, workdir: Path) -> str:
    """The SQLite URI of a tool's server database in ``workdir``."""
    return f"sqlite:///{workdir / f'{tool}.db'}"


@dataclass
class SearchPass:
    """One paging pass of a trace search: the ids in order and the time of each page request."""

    trace_ids: list[str] = field(default_factory=list)
    page_seconds: list[float] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """The time of every page request, added up."""
        return sum(self.page_seconds)


class TraceApi:
    """A keep-alive client of one server's tracing routes.

    Args:
        base_url: ``http://127.0.0.1:PORT``.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(self.base_url + path, json=body, timeout=_TIMEOUT_S)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:500]}")
        reply: dict[str, Any] = response.json()
        return reply

    def create_experiment(self, name: str) -> str:
        """Create an experiment; its id."""
        return str(self._post_json("/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"])

    def export(self, experiment_id: str, payload: bytes) -> None:
        """POST one protobuf ``ExportTraceServiceRequest`` to ``/v1/traces``.

        Raises:
            RuntimeError: the server answered with a status other than 200.
        """
        headers = {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
        response = self.session.post(
            f"{self.base_url}/v1/traces", data=payload, headers=headers, timeout=_TIMEOUT_S
        )
        if response.status_code != 200:
            raise RuntimeError(f"POST /v1/traces: {response.status_code} {response.text[:500]}")

    def search(
        self, experiment_id: str, filter_string: str, page_size: int, max_pages: int | None = None
    ) -> SearchPass:
        """Page through ``traces/search`` (V3) until the last page or ``max_pages`` pages.

        Args:
            experiment_id: The experiment searched.
            filter_string: The search filter.
            page_size: ``max_results`` of each request.
            max_pages: Stop after this many pages (None: every page).

        Returns:
            The trace ids in the order returned and each page request's time.
        """
        body: dict[str, Any] = {
            "locations": [
                {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
            ],
            "filter": filter_string,
            "max_results": page_size,
        }
        result = SearchPass()
        while max_pages is None or len(result.page_seconds) < max_pages:
            started = time.perf_counter()
            reply = self._post_json("/api/3.0/mlflow/traces/search", body)
            result.page_seconds.append(time.perf_counter() - started)
            result.trace_ids.extend(t["trace_id"] for t in reply.get("traces", []))
            token = reply.get("next_page_token")
            if not token:
                break
            body["page_token"] = token
        return result

    def span_count(self, trace_id: str) -> int:
        """How many spans ``GET /api/3.0/mlflow/traces/get`` returns for a trace."""
        response = self.session.get(
            f"{self.base_url}/api/3.0/mlflow/traces/get", params={"trace_id": trace_id}, timeout=_TIMEOUT_S
        )
        if response.status_code != 200:
            raise RuntimeError(f"GET traces/get: {response.status_code} {response.text[:500]}")
        return len(response.json()["trace"].get("spans", []))
