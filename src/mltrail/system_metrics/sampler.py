"""One sample of the machine's CPU, memory, disk, network and (NVIDIA) GPU use.

psutil is imported when a sampler is built; NVIDIA's management library (``pynvml``, shipped by
``nvidia-ml-py``) only if it is installed, and GPUs are skipped when it cannot initialise.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from mltrail.errors import MissingDependencyError

__all__ = ["PREFIX", "SystemSampler"]

_logger = logging.getLogger(__name__)

PREFIX = "system/"
_MB = 1024 * 1024


class SystemSampler:
    """Reads system usage; each :meth:`sample` returns ``system/...`` metric values.

    Args:
        disk_path: The file system whose use is reported.

    Raises:
        MissingDependencyError: psutil is not installed (``pip install 'mltrail[system-metrics]'``).
    """

    def __init__(self, disk_path: str = "/") -> None:
        try:
            self._psutil: Any = importlib.import_module("psutil")
        except ImportError as exc:
            raise MissingDependencyError("psutil", "system-metrics") from exc
        self._disk_path = disk_path
        self._net_start = self._psutil.net_io_counters()
        # The first cpu_percent call only sets the reference point.
        self._psutil.cpu_percent(interval=None)
        self._nvml: Any = None
        self._gpus: list[Any] = []
        self._init_gpus()

    def _init_gpus(self) -> None:
        try:
            nvml = importlib.import_module("pynvml")
        except ImportError:
            return
        try:
            nvml.nvmlInit()
            self._gpus = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
            self._nvml = nvml
        except Exception:  # no driver or no GPU: report CPU-side metrics only
            _logger.debug("NVML unavailable; GPU metrics are not sampled", exc_info=True)
            self._gpus = []

    @property
    def gpu_count(self) -> int:
        """How many GPUs are sampled."""
        return len(self._gpus)

    def sample(self) -> dict[str, float]:
        """The current readings, keyed by metric name."""
        ps = self._psutil
        memory = ps.virtual_memory()
        disk = ps.disk_usage(self._disk_path)
        net = ps.net_io_counters()
        values = {
            "cpu_utilization_percentage": float(ps.cpu_percent(interval=None)),
            "system_memory_usage_megabytes": (memory.total - memory.available) / _MB,
            "system_memory_usage_percentage": float(memory.percent),
            "disk_usage_percentage": float(disk.percent),
            "disk_usage_megabytes": disk.used / _MB,
            "disk_available_megabytes": disk.free / _MB,
            "network_receive_megabytes": (net.bytes_recv - self._net_start.bytes_recv) / _MB,
            "network_transmit_megabytes": (net.bytes_sent - self._net_start.bytes_sent) / _MB,
        }
        for index, handle in enumerate(self._gpus):
            try:
                values.update(self._gpu_sample(index, handle))
            except Exception:  # a GPU that stops answering must not end the sampling
                _logger.debug("Reading GPU %d failed", index, exc_info=True)
        return {PREFIX + key: value for key, value in values.items()}

    def _gpu_sample(self, index: int, handle: Any) -> dict[str, float]:
        nvml = self._nvml
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        rates = nvml.nvmlDeviceGetUtilizationRates(handle)
        return {
            f"gpu_{index}_utilization_percentage": float(rates.gpu),
            f"gpu_{index}_memory_usage_megabytes": memory.used / _MB,
            f"gpu_{index}_memory_usage_percentage": 100.0 * memory.used / memory.total
            if memory.total
            else 0.0,
        }

    def close(self) -> None:
        """Release NVML, if it was initialised."""
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                _logger.debug("nvmlShutdown failed", exc_info=True)
            self._nvml = None
