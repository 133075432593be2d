"""System metrics: sampled into ``system/...`` metrics of a run, stopped cleanly at its end."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import mltrail
import mltrail.system_metrics as sm
from mltrail.registry import fluent as registry_fluent
from mltrail.system_metrics import SystemMetricsMonitor, SystemSampler
from mltrail.tracking import _fluent_state
from mltrail.tracking.client import TrackingClient

pytest.importorskip("psutil", reason="system metrics need psutil (mltrail[system-metrics])")

CPU_SIDE = {
    "system/cpu_utilization_percentage",
    "system/system_memory_usage_megabytes",
    "system/system_memory_usage_percentage",
    "system/disk_usage_percentage",
    "system/disk_usage_megabytes",
    "system/disk_available_megabytes",
    "system/network_receive_megabytes",
    "system/network_transmit_megabytes",
}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TrackingClient]:
    monkeypatch.setenv("MLTRAIL_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    sm._reset()
    registry_fluent._reset()
    _fluent_state._reset()
    uri = f"sqlite:///{tmp_path / 'mltrail.db'}"
    mltrail.set_tracking_uri(uri)
    client = TrackingClient(uri)
    try:
        yield client
    finally:
        sm._reset()
        while mltrail.active_run() is not None:
            mltrail.end_run()
        _fluent_state._reset()
        client.close()


def _system_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mltrail-system-metrics")]


def test_sampler_reads_cpu_memory_disk_and_network() -> None:
    sampler = SystemSampler()
    try:
        values = sampler.sample()
    finally:
        sampler.close()
    assert set(values) >= CPU_SIDE
    assert 0 <= values["system/cpu_utilization_percentage"] <= 100 * 64
    assert 0 < values["system/system_memory_usage_percentage"] < 100
    assert values["system/disk_usage_megabytes"] > 0
    gpu_keys = [k for k in values if k.startswith("system/gpu_")]
    assert len(gpu_keys) == 3 * sampler.gpu_count


def test_monitor_samples_at_the_interval_and_stops(store: TrackingClient) -> None:
    run = store.create_run("0")
    monitor = SystemMetricsMonitor(store, run.info.run_id, interval=0.05)
    monitor.start()
    time.sleep(0.4)
    monitor.stop()
    monitor.stop()  # idempotent
    assert not _system_threads()
    history = store.get_metric_history(run.info.run_id, "system/cpu_utilization_percentage")
    steps = [m.step for m in history]
    assert steps == list(range(len(steps)))
    assert len(steps) >= 3
    assert monitor.samples_logged == len(steps)


def test_environment_variable_turns_it_on_for_fluent_runs(
    store: TrackingClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLTRAIL_ENABLE_SYSTEM_METRICS", "true")
    monkeypatch.setenv("MLTRAIL_SYSTEM_METRICS_INTERVAL", "0.05")
    _fluent_state._reset()
    mltrail.set_tracking_uri(store.tracking_uri)
    with mltrail.start_run() as run:
        assert run.run_id in sm.active_monitors()
        time.sleep(0.3)
    assert sm.active_monitors() == {}
    assert not _system_threads()
    metrics = store.get_run(run.run_id).data.metrics
    assert set(metrics) >= CPU_SIDE
    assert len(store.get_metric_history(run.run_id, "system/disk_usage_percentage")) >= 2


def test_off_by_default_and_switchable_in_code(store: TrackingClient) -> None:
    with mltrail.start_run() as plain:
        pass
    assert store.get_run(plain.run_id).data.metrics == {}

    sm.enable_system_metrics_logging()
    sm.set_sampling_interval(10.0)
    with mltrail.start_run() as sampled:
        pass  # shorter than the interval: the final sample is still logged
    assert set(store.get_run(sampled.run_id).data.metrics) >= CPU_SIDE

    sm.disable_system_metrics_logging()
    with mltrail.start_run() as off:
        pass
    assert store.get_run(off.run_id).data.metrics == {}


def test_invalid_interval_is_rejected() -> None:
    with pytest.raises(ValueError):
        sm.set_sampling_interval(0)


class _FakeNvml:
    """Stands in for NVIDIA's ``pynvml`` on machines without a GPU: one device, fixed readings."""

    def __init__(self) -> None:
        self.shut_down = False

    def nvmlInit(self) -> None:
        pass

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        return f"gpu{index}"

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> SimpleNamespace:
        return SimpleNamespace(used=512 * 1024 * 1024, total=2048 * 1024 * 1024)

    def nvmlDeviceGetUtilizationRates(self, handle: str) -> SimpleNamespace:
        return SimpleNamespace(gpu=37)

    def nvmlShutdown(self) -> None:
        self.shut_down = True


def test_gpu_metrics_when_nvml_is_present(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    sampler = SystemSampler()
    values = sampler.sample()
    sampler.close()
    assert sampler.gpu_count == 1
    assert values["system/gpu_0_utilization_percentage"] == 37.0
    assert values["system/gpu_0_memory_usage_megabytes"] == 512.0
    assert values["system/gpu_0_memory_usage_percentage"] == 25.0
    assert fake.shut_down
