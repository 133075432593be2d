"""The ``python`` blocks of docs/autolog.md run as written, in order, on a local store."""

from __future__ import annotations

import re
from pathlib import Path

import mltrail
from mltrail.tracking.client import TrackingClient

_DOC = Path(__file__).resolve().parents[2] / "docs" / "autolog.md"


def test_autolog_guide_examples_run(store: TrackingClient) -> None:
    blocks = re.findall(r"```python\n(.*?)```", _DOC.read_text(), re.DOTALL)
    assert len(blocks) == 4
    namespace: dict[str, object] = {"__name__": "docs_autolog"}
    for block in blocks:
        exec(compile(block, str(_DOC), "exec"), namespace)
    mltrail.flush()
    runs = store.search_runs(["0"], max_results=100).items
    pipeline_run = next(r for r in runs if r.data.tags.get("estimator_name") == "Pipeline")
    assert "accuracy_score_X_test" in pipeline_run.data.metrics
    assert "Pipeline_score_X_test" in pipeline_run.data.metrics
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert len(children) == 3
    sampled = [r for r in runs if "system/cpu_utilization_percentage" in r.data.metrics]
    assert len(sampled) == 1 and "loss" in sampled[0].data.metrics
