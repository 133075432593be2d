"""Background batching through the client and the fluent API: many threads, process exit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import mltrail
from mltrail.config import Settings
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import RunStatus


def test_16_threads_2000_points_each_nothing_lost_or_duplicated(client: TrackingClient) -> None:
    run_ids = [client.create_run("0").info.run_id for _ in range(4)]
    barrier = threading.Barrier(16)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        try:
            barrier.wait()
            run_id = run_ids[t % 4]
            for i in range(2000):
                client.log_metric(run_id, f"thread_{t}", float(i), step=i, timestamp=10_000 + i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    client.flush()
    for t in range(16):
        history = client.get_metric_history(run_ids[t % 4], f"thread_{t}")
        assert len(history) == 2000
        assert sorted(m.step for m in history) == list(range(2000))
        assert len({(m.step, m.value, m.timestamp) for m in history}) == 2000


def test_fluent_log_metric_is_cheap(fluent_api: TrackingClient) -> None:
    with mltrail.start_run() as run:
        mltrail.log_metric("warmup", 0.0)
        start = time.perf_counter()
        for i in range(10_000):
            mltrail.log_metric("loss", float(i), step=i)
        per_call = (time.perf_counter() - start) / 10_000
    # MLflow takes ~7 ms per call here; 100x faster is 70 µs. Generous for a shared 2-core box.
    assert per_call < 70e-6, f"{per_call * 1e6:.1f} µs per call"
    assert len(fluent_api.get_metric_history(run.run_id, "loss")) == 10_000


def test_points_are_written_at_interpreter_exit(
    tmp_path: Path, tracking_uri: str, artifact_root: Path
) -> None:
    script = textwrap.dedent(
        f"""
        import mltrail
        mltrail.set_tracking_uri({tracking_uri!r})
        run = mltrail.start_run()
        print(run.run_id, flush=True)
        for i in range(5000):
            mltrail.log_metric("m", float(i), step=i)
        # no end_run, no flush: the exit hook must write the queued points
        """
    )
    env = {
        "MLTRAIL_ARTIFACT_ROOT": str(artifact_root),
        "MLTRAIL_FLUSH_INTERVAL": "30",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.strip()
    with TrackingClient(tracking_uri, settings=Settings(artifact_root=str(artifact_root))) as reader:
        history = reader.get_metric_history(run_id, "m")
        assert sorted(m.step for m in history) == list(range(5000))
        assert reader.get_run(run_id).info.status == RunStatus.RUNNING
