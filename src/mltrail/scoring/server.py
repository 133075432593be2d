"""Run the scoring app with uvicorn, in one process or in several sharing one listening socket.

With ``workers > 1`` the parent binds the socket, starts each worker as a fresh (spawned)
process that loads the model itself from the local model directory and serves on the inherited
socket, restarts a worker that dies, and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvicorn

from mltrail.models.pyfunc import PyFuncModel, load_model
from mltrail.scoring.app import create_app
from mltrail.scoring.settings import ScoringSettings

__all__ = ["load_served_model", "serve"]

_logger = logging.getLogger(__name__)


def load_served_model(
    model_path: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    model_config: Mapping[str, Any] | None = None,
) -> PyFuncModel:
    """Load the model a scoring server serves (any model URI ``load_model`` accepts)."""
    return load_model(model_path, allow_pickle=allow_pickle, model_config=model_config)


def _config(app: Any, settings: ScoringSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_keep_alive=30,
    )


def _bind(settings: ScoringSettings) -> socket.socket:
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _worker(
    model_path: str,
    settings: ScoringSettings,
    allow_pickle: bool,
    model_config: dict[str, Any] | None,
    sock: socket.socket,
) -> None:
    model = load_served_model(model_path, allow_pickle=allow_pickle, model_config=model_config)
    server = uvicorn.Server(_config(create_app(model, settings), settings))
    server.run(sockets=[sock])


def serve(
    model: PyFuncModel,
    settings: ScoringSettings,
    *,
    allow_pickle: bool = False,
    model_config: Mapping[str, Any] | None = None,
) -> None:
    """Serve a loaded model until interrupted.

    Args:
        model: The model, already loaded (its directory is reloaded by each extra worker).
        settings: Address, workers, timeout and batching.
        allow_pickle: Passed to the workers' ``load_model`` (the parent already loaded it).
        model_config: Passed to the workers' ``load_model``.
    """
    if settings.workers == 1:
        uvicorn.Server(_config(create_app(model, settings), settings)).run()
        return
    _serve_workers(Path(model.path), settings, allow_pickle, dict(model_config or {}) or None)


def _serve_workers(
    model_path: Path,
    settings: ScoringSettings,
    allow_pickle: bool,
    model_config: dict[str, Any] | None,
) -> None:
    sock = _bind(settings)
    context = multiprocessing.get_context("spawn")
    args = (str(model_path), settings, allow_pickle, model_config, sock)
    workers = [context.Process(target=_worker, args=args, daemon=True) for _ in range(settings.workers)]
    for process in workers:
        process.start()
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stopping:
            for index, process in enumerate(workers):
                if not process.is_alive() and not stopping:
                    _logger.warning(
                        "Scoring worker %s exited (%s); restarting it", process.pid, process.exitcode
                    )
                    workers[index] = context.Process(target=_worker, args=args, daemon=True)
                    workers[index].start()
            time.sleep(0.2)
    finally:
        for process in workers:
            if process.is_alive():
                process.terminate()
        for process in workers:
            process.join(timeout=10)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
