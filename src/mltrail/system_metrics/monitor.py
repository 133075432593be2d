"""A background thread that samples system metrics into a run until it is stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from mltrail.system_metrics.sampler import SystemSampler
from mltrail.tracking.client import TrackingClient

__all__ = ["SystemMetricsMonitor"]

_logger = logging.getLogger(__name__)


class SystemMetricsMonitor:
    """Logs ``system/...`` metrics of one run every ``interval`` seconds, and once more at stop.

    Points are logged with steps 0, 1, 2... through the client's batched metric queue.

    Args:
        client: The client of the run.
        run_id: The run.
        interval: Seconds between samples.
        sampler_factory: Builds the sampler (psutil by default).
    """

    def __init__(
        self,
        client: TrackingClient,
        run_id: str,
        interval: float = 10.0,
        sampler_factory: Callable[[], SystemSampler] = SystemSampler,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._client = client
        self.run_id = run_id
        self._interval = interval
        self._sampler = sampler_factory()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._step = 0
        self._thread = threading.Thread(
            target=self._loop, name=f"mltrail-system-metrics-{run_id}", daemon=True
        )

    @property
    def samples_logged(self) -> int:
        """How many samples were logged so far."""
        return self._step

    def start(self) -> None:
        """Start sampling in the background."""
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._log_sample()

    def _log_sample(self) -> None:
        with self._lock:
            try:
                values = self._sampler.sample()
                self._client.log_metrics(self.run_id, values, step=self._step)
                self._step += 1
            except Exception:  # monitoring must never disturb the run it watches
                _logger.warning("Sampling system metrics of run %s failed", self.run_id, exc_info=True)

    def stop(self) -> None:
        """Log a last sample, stop the thread and release the sampler (idempotent)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._log_sample()
        self._sampler.close()
