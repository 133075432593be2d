"""The options of an autologging integration, shared by every integration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["AUTOLOG_TAG", "AutologConfig"]

# The run tag naming the integration that created or filled a run (as MLflow writes it).
AUTOLOG_TAG = "mlflow.autologging"


@dataclass(frozen=True)
class AutologConfig:
    """What an enabled integration records.

    Attributes:
        log_models: Log the trained model as a logged model of the run.
        log_datasets: Record the training (and evaluation) data as run inputs.
        log_input_examples: Save a few input rows with the model.
        log_post_training_metrics: Log ``sklearn.metrics`` calls on a model's predictions.
        max_tuning_runs: Child runs per hyperparameter search (best ranked first); None for all.
        extra_tags: Tags added to runs the integration creates.
    """

    log_models: bool = True
    log_datasets: bool = True
    log_input_examples: bool = True
    log_post_training_metrics: bool = True
    max_tuning_runs: int | None = None
    extra_tags: Mapping[str, str] = field(default_factory=dict)
