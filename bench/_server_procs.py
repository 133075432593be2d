"""Server processes and backends for ``bench/server.py``: start, wait for /health, measure, stop.

Each server runs in a session of its own (``start_new_session``), so stopping it reaches every
worker and helper process it spawned, and its memory is the summed RSS of that whole session.
PostgreSQL databases are created fresh per server and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

__all__ = [
    "PG_ADMIN_URI",
    "ServerProcess",
    "analyze_database",
    "clean_env",
    "free_port",
    "postgres_database",
    "process_tree_rss",
]

PG_ADMIN_URI = os.environ.get("MLTRAIL_BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
_STARTUP_TIMEOUT_S = 180.0
_STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the rest follows the last ")".
    return raw[raw.rindex(")") + 2 :].split()


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def process_tree_rss(root_pid: int) -> tuple[int, int]:
    """Summed RSS of a process, its descendants and every process of its session.

    Args:
        root_pid: The server's top process (a session leader here).

    Returns:
        ``(rss_bytes, process_count)``.
    """
    parent: dict[int, int] = {}
    session: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is None:
            continue
        # After the command: state, ppid, pgrp, session, ...
        parent[int(entry)] = int(fields[1])
        session[int(entry)] = int(fields[3])
    members = {pid for pid, sid in session.items() if sid == root_pid}
    if root_pid in parent:
        members.add(root_pid)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return sum(_rss_bytes(pid) for pid in members), len(members)


@dataclass
class ServerProcess:
    """One server under test, started in its own session and stopped with everything it spawned.

    Args:
        name: A label for messages.
        command: The command line.
        port: The loopback port it listens on.
        env: Its environment.
        cwd: Its working directory.
        log_path: Where its stdout and stderr go.
    """

    name: str
    command: Sequence[str]
    port: int
    env: dict[str, str]
    cwd: Path
    log_path: Path
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The top process's id."""
        if self._proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._proc.pid

    def start(self) -> None:
        """Start the server and wait until ``GET /health`` answers 200.

        Raises:
            RuntimeError: it exited or did not become healthy in time (its log tail is included).
        """
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                list(self.command),
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        with requests.Session() as session:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self._proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(requests.RequestException):
                    if session.get(f"{self.url}/health", timeout=2).status_code == 200:
                        return
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"{self.name} did not answer /health in {_STARTUP_TIMEOUT_S:.0f} s:\n{self.log_tail()}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def rss(self) -> tuple[int, int]:
        """``(rss_bytes, process_count)`` of the server's whole process tree."""
        return process_tree_rss(self.pid)

    def stop(self) -> None:
        """SIGTERM the server's session, then SIGKILL whatever is left after a grace period."""
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_STOP_TIMEOUT_S)
        # Workers may outlive the top process; the session id still finds them.
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 0)
                time.sleep(0.2)
                continue
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def clean_env() -> dict[str, str]:
    """This environment without mltrail's and MLflow's settings, and with MLflow's telemetry off.

    A benchmark's servers must not pick up the caller's tracking URI, store or tuning variables.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLTRAIL_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    return env


def analyze_database(name: str) -> None:
    """Refresh the planner statistics of every table of the PostgreSQL database ``name``."""
    admin = PG_ADMIN_URI.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, dbname=name, autocommit=True) as conn:
        conn.execute("ANALYZE")


@contextlib.contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one server, dropped (connections and all) on exit.

    Args:
        prefix: Start of the database's name.

    Yields:
        The database's name.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = PG_ADMIN_URI.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
