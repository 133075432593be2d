"""Post-training metrics: ``sklearn.metrics`` calls on an autologged model's predictions.

When a model fitted under autologging predicts, the prediction object is remembered together
with the model's run and the name of the variable the caller passed (``X_test``). A metric
function that later receives that prediction logs ``<metric>_<variable>`` (``-2``, ``-3``... on
repeated calls) to the model's run. ``model.score(X_test, y_test)`` logs ``<Class>_score_X_test``.
"""

from __future__ import annotations

import contextvars
import numbers
import sys
import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from mltrail.tracking._fluent_state import default_client

__all__ = ["PostTrainingTracker"]

FALLBACK_DATASET_NAME = "unknown_dataset"


@dataclass(frozen=True)
class _Prediction:
    run_id: str
    dataset_name: str


def caller_variable_name(value: Any, frame_depth: int) -> str:
    """The name a caller's local variable holding ``value`` has, or a fallback."""
    try:
        frame = sys._getframe(frame_depth + 1)
    except ValueError:
        return FALLBACK_DATASET_NAME
    for name, local in frame.f_locals.items():
        if local is value and name.isidentifier():
            return name
    return FALLBACK_DATASET_NAME


class PostTrainingTracker:
    """Links models to runs and predictions to models, and names post-training metrics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._predictions: dict[int, _Prediction] = {}
        self._datasets: defaultdict[str, defaultdict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        self._calls: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.suppressed: contextvars.ContextVar[bool] = contextvars.ContextVar(
            "mltrail_sklearn_post_suppressed", default=False
        )

    def register_model(self, model: Any, run_id: str) -> None:
        """Remember that ``model`` was fitted in ``run_id``."""
        try:
            with self._lock:
                self._models[model] = run_id
        except TypeError:  # not weak-referenceable: no post-training metrics for it
            pass

    def run_of(self, model: Any) -> str | None:
        """The run ``model`` was fitted in, if autologged."""
        try:
            return self._models.get(model)
        except TypeError:
            return None

    def dataset_name(self, run_id: str, dataset: Any, variable: str) -> str:
        """``variable``, suffixed ``-N`` when another object was seen under that name in the run."""
        with self._lock:
            seen = self._datasets[run_id][variable]
            if id(dataset) not in seen:
                seen.append(id(dataset))
            index = seen.index(id(dataset))
        return variable if index == 0 else f"{variable}-{index + 1}"

    def register_prediction(self, result: Any, run_id: str, dataset_name: str) -> None:
        """Remember that ``result`` was predicted by a model of ``run_id`` on ``dataset_name``."""
        key = id(result)
        try:
            weakref.finalize(result, self._forget, key)
        except TypeError:  # e.g. a plain list: its id could be reused, so do not track it
            return
        with self._lock:
            self._predictions[key] = _Prediction(run_id, dataset_name)

    def _forget(self, key: int) -> None:
        with self._lock:
            self._predictions.pop(key, None)

    def find_prediction(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Prediction | None:
        """The registered prediction among a metric call's arguments, if any."""
        with self._lock:
            if not self._predictions:
                return None
            for arg in (*args, *kwargs.values()):
                found = self._predictions.get(id(arg))
                if found is not None:
                    return found
        return None

    def metric_key(self, run_id: str, metric_name: str, dataset_name: str) -> str:
        """``<metric>[-N]_<dataset>``: the N-th call of a metric function in a run gets ``-N``."""
        with self._lock:
            index = self._calls[run_id][metric_name]
            self._calls[run_id][metric_name] = index + 1
        name = metric_name if index == 0 else f"{metric_name}-{index + 1}"
        return f"{name}_{dataset_name}"

    def log(self, run_id: str, key: str, value: Any) -> None:
        """Log a post-training metric to the model's run (queued like any metric point)."""
        default_client().log_metric(run_id, key, float(value))

    def reset(self) -> None:
        """Forget every model, prediction and name (autologging was disabled)."""
        with self._lock:
            self._models = weakref.WeakKeyDictionary()
            self._predictions.clear()
            self._datasets.clear()
            self._calls.clear()


def is_loggable(value: Any) -> bool:
    """A real number that is not a bool (numpy scalars included)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, numbers.Real) and not hasattr(value, "__len__")
