"""Tracking store contract: many threads writing at once lose nothing and see no backend errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mltrail.tracking.entities import Metric, Param, RunTag
from mltrail.tracking.store.base import TrackingStore
from tests.contract._helpers import new_experiment, new_run

THREADS = 32


def test_concurrent_writers(tracking_store: TrackingStore) -> None:
    exp_id = new_experiment(tracking_store)
    shared = new_run(tracking_store, exp_id).info.run_id

    def work(worker: int) -> str:
        own = new_run(tracking_store, exp_id, name=f"w{worker}").info.run_id
        for step in range(5):
            tracking_store.log_metric(shared, Metric(f"w{worker}", float(step), 1000 + step, step))
            tracking_store.log_batch(
                own,
                metrics=[Metric("loss", float(step), 1000 + step, step)],
                params=[Param(f"p{step}", str(worker))],
                tags=[RunTag("worker", str(worker))],
            )
        tracking_store.set_tag(shared, RunTag(f"t{worker}", "done"))
        return own

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        own_runs = list(pool.map(work, range(THREADS)))

    shared_run = tracking_store.get_run(shared)
    assert shared_run.data.metrics == {f"w{w}": 4.0 for w in range(THREADS)}
    assert all(shared_run.data.tags[f"t{w}"] == "done" for w in range(THREADS))
    for worker, run_id in enumerate(own_runs):
        run = tracking_store.get_run(run_id)
        assert run.data.params == {f"p{s}": str(worker) for s in range(5)}
        assert run.data.metrics == {"loss": 4.0}
        assert len(tracking_store.get_metric_history(run_id, "loss")) == 5
    assert len(tracking_store.search_runs([exp_id], max_results=100)) == THREADS + 1
