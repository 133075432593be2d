"""Training metrics of a fitted scikit-learn estimator, by kind, from one set of predictions.

Names follow MLflow's autologging: ``training_accuracy_score``, ``training_f1_score``,
``training_log_loss``, ``training_roc_auc``, ``training_mean_squared_error``,
``training_root_mean_squared_error``, ``training_r2_score``, ``training_score``... Clustering
gets ``training_silhouette_score`` when the data is small enough for it to be cheap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SILHOUETTE_MAX_ROWS", "Predictions", "training_metrics"]

PREFIX = "training_"
# silhouette_score is quadratic in the number of rows.
SILHOUETTE_MAX_ROWS = 5_000


@dataclass
class Predictions:
    """Predictions computed once per fit and shared by the metrics and the model signature."""

    y_pred: Any = None
    y_proba: Any = None


def _try(metrics: dict[str, float], name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = float(fn(*args, **kwargs))
    except Exception:  # a metric that does not apply to this data is simply left out
        return
    if math.isfinite(value):
        metrics[PREFIX + name] = value


def _kind(estimator: Any) -> str:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    if getattr(estimator, "_estimator_type", None) == "clusterer" or hasattr(estimator, "labels_"):
        return "clusterer"
    return "other"


def _uses_default_score(estimator: Any, kind: str) -> bool:
    from sklearn.base import ClassifierMixin, RegressorMixin

    score = getattr(type(estimator), "score", None)
    score = getattr(score, "__wrapped__", score)
    mixin = ClassifierMixin if kind == "classifier" else RegressorMixin
    return score is getattr(mixin.score, "__wrapped__", mixin.score)


def training_metrics(
    estimator: Any, metrics_api: Any, x: Any, y: Any, sample_weight: Any
) -> tuple[dict[str, float], Predictions]:
    """Metrics fitting the estimator's kind, computed from at most one ``predict`` call.

    Args:
        estimator: The fitted estimator.
        metrics_api: ``sklearn.metrics`` functions to use (the originals, not patched ones).
        x: Training features.
        y: Training labels, or None.
        sample_weight: Per-sample weights, or None.

    Returns:
        The metrics, and the predictions made on ``x``.
    """
    kind = _kind(estimator)
    preds = Predictions()
    metrics: dict[str, float] = {}
    if kind == "clusterer":
        labels = getattr(estimator, "labels_", None)
        n_rows = len(x) if hasattr(x, "__len__") else 0
        if labels is not None and 0 < n_rows <= SILHOUETTE_MAX_ROWS:
            n_labels = len(set(labels.tolist()))
            if 1 < n_labels < n_rows:
                _try(metrics, "silhouette_score", metrics_api.silhouette_score, x, labels)
        return metrics, preds
    if y is None or not hasattr(estimator, "predict"):
        return metrics, preds
    preds.y_pred = estimator.predict(x)
    sw = {"sample_weight": sample_weight}
    if kind == "classifier":
        m = metrics_api
        _try(metrics, "accuracy_score", m.accuracy_score, y, preds.y_pred, **sw)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # One call for all three: each separate function recomputes the confusion matrix.
                scores = m.precision_recall_fscore_support(y, preds.y_pred, average="weighted", **sw)[:3]
            for name, value in zip(("precision_score", "recall_score", "f1_score"), scores, strict=True):
                if value is not None and math.isfinite(float(value)):
                    metrics[PREFIX + name] = float(value)
        except Exception:  # e.g. continuous labels: these metrics do not apply
            pass
        if hasattr(estimator, "predict_proba"):
            try:
                preds.y_proba = estimator.predict_proba(x)
            except Exception:  # e.g. SVC(probability=False) exposes predict_proba but refuses it
                preds.y_proba = None
        if preds.y_proba is not None:
            labels = getattr(estimator, "classes_", None)
            _try(metrics, "log_loss", m.log_loss, y, preds.y_proba, labels=labels, **sw)
            proba = preds.y_proba
            if proba.ndim == 2 and proba.shape[1] == 2:
                _try(metrics, "roc_auc", m.roc_auc_score, y, proba[:, 1], **sw)
            else:
                _try(
                    metrics, "roc_auc", m.roc_auc_score, y, proba,
                    average="weighted", multi_class="ovo", labels=labels, **sw,
                )  # fmt: skip
        if _uses_default_score(estimator, kind) and PREFIX + "accuracy_score" in metrics:
            metrics[PREFIX + "score"] = metrics[PREFIX + "accuracy_score"]
        else:
            _try(metrics, "score", estimator.score, x, y)
    elif kind == "regressor":
        m = metrics_api
        _try(metrics, "mean_squared_error", m.mean_squared_error, y, preds.y_pred, **sw)
        if PREFIX + "mean_squared_error" in metrics:
            metrics[PREFIX + "root_mean_squared_error"] = math.sqrt(metrics[PREFIX + "mean_squared_error"])
        _try(metrics, "mean_absolute_error", m.mean_absolute_error, y, preds.y_pred, **sw)
        _try(metrics, "r2_score", m.r2_score, y, preds.y_pred, **sw)
        if _uses_default_score(estimator, kind) and PREFIX + "r2_score" in metrics:
            metrics[PREFIX + "score"] = metrics[PREFIX + "r2_score"]
        else:
            _try(metrics, "score", estimator.score, x, y)
    return metrics, preds
