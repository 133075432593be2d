"""System metrics: CPU, memory, disk, network and GPU use sampled into ``system/...`` run metrics.

Off by default. Turn it on for every run of the fluent API with ``MLTRAIL_ENABLE_SYSTEM_METRICS=true``
(interval ``MLTRAIL_SYSTEM_METRICS_INTERVAL`` seconds, default 10) or in code::

    import mltrail.system_metrics

    mltrail.system_metrics.enable_system_metrics_logging()

``start_run`` then starts a sampler thread for the run and ``end_run`` stops it (after a last
sample) before the run's queued metrics are written. Needs psutil (``mltrail[system-metrics]``);
GPUs are sampled when NVIDIA's ``pynvml`` is installed and a driver answers.
"""

from __future__ import annotations

import logging
import threading

from mltrail.system_metrics.monitor import SystemMetricsMonitor
from mltrail.system_metrics.sampler import PREFIX, SystemSampler
from mltrail.tracking.client import TrackingClient

__all__ = [
    "PREFIX",
    "SystemMetricsMonitor",
    "SystemSampler",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "is_enabled",
    "on_run_end",
    "on_run_start",
    "set_sampling_interval",
]

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_enabled: bool | None = None
_interval: float | None = None
_monitors: dict[str, SystemMetricsMonitor] = {}


def enable_system_metrics_logging() -> None:
    """Sample system metrics for every run started from now on (overrides the setting)."""
    global _enabled
    _enabled = True


def disable_system_metrics_logging() -> None:
    """Stop sampling system metrics for new runs (overrides the setting)."""
    global _enabled
    _enabled = False


def set_sampling_interval(seconds: float | None) -> None:
    """Seconds between samples for new runs (None: ``MLTRAIL_SYSTEM_METRICS_INTERVAL``)."""
    global _interval
    if seconds is not None and seconds <= 0:
        raise ValueError("The sampling interval must be positive")
    _interval = seconds


def is_enabled(client: TrackingClient) -> bool:
    """Whether runs of ``client`` get system metrics (code override, else the setting)."""
    return client.settings.enable_system_metrics if _enabled is None else _enabled


def on_run_start(run_id: str, client: TrackingClient) -> None:
    """Start sampling ``run_id`` if system metrics are on; called by ``start_run``.

    A monitor that cannot start (psutil missing) logs a warning; the run goes on.
    """
    if not is_enabled(client):
        return
    interval = _interval if _interval is not None else client.settings.system_metrics_interval
    try:
        monitor = SystemMetricsMonitor(client, run_id, interval)
    except Exception:
        _logger.warning("System metrics are on but cannot be sampled", exc_info=True)
        return
    with _lock:
        previous = _monitors.pop(run_id, None)
        _monitors[run_id] = monitor
    if previous is not None:
        previous.stop()
    monitor.start()


def on_run_end(run_id: str) -> None:
    """Stop sampling ``run_id`` (a last sample is queued); called by ``end_run``."""
    with _lock:
        monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stop()


def active_monitors() -> dict[str, SystemMetricsMonitor]:
    """The running monitors by run id (a copy)."""
    with _lock:
        return dict(_monitors)


def _reset() -> None:
    """Stop every monitor and forget the code overrides (for test fixtures)."""
    global _enabled, _interval
    with _lock:
        monitors = list(_monitors.values())
        _monitors.clear()
    for monitor in monitors:
        monitor.stop()
    _enabled = None
    _interval = None
