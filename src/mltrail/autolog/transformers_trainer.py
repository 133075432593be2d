"""Hugging Face ``transformers.Trainer`` autologging: a ``TrainerCallback`` added by ``train()``.

It records the training arguments (and the model's configuration under ``model_config.``) as
params, every value the trainer logs (loss, learning rate, ``eval_*``...) at its global step,
and at the end of training the model with its tokenizer as a ``transformers`` model whose task
is read from the model's class.
"""

from __future__ import annotations

import contextvars
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mltrail.autolog._config import AutologConfig
from mltrail.autolog._runs import AutologRun, begin_run, finish_run
from mltrail.autolog._safety import PatchSet, exception_safe, safe_call
from mltrail.models.logging import log_model

__all__ = ["FLAVOR", "autolog", "is_enabled", "task_of"]

FLAVOR = "transformers"
# Model class name suffix -> pipeline task.
_TASKS = (
    ("ForSequenceClassification", "text-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForCausalLM", "text-generation"),
    ("LMHeadModel", "text-generation"),
    ("ForMaskedLM", "fill-mask"),
    ("ForConditionalGeneration", "text2text-generation"),
    ("Model", "feature-extraction"),
)

_state_lock = threading.Lock()
_config: AutologConfig | None = None
_patches = PatchSet()
_in_train: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "mltrail_transformers_in_train", default=False
)


def is_enabled() -> bool:
    """Whether Trainer autologging is on."""
    return _config is not None


def task_of(model: Any) -> str | None:
    """The pipeline task of a transformers model, from its class name (None if unknown)."""
    name = type(model).__name__
    for suffix, task in _TASKS:
        if name.endswith(suffix):
            return task
    return None


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    log_input_examples: bool = True,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Turn ``transformers.Trainer`` autologging on (or off with ``disable=True``).

    Each ``Trainer.train`` logs to the active run, or to a new run it ends when training ends
    (metrics of a later ``evaluate()`` still go to that run).

    Args:
        disable: Remove the patch and stop logging.
        log_models: Log the trained model and tokenizer as the model ``model``.
        log_datasets: Not used (Trainer datasets are not described); accepted for symmetry.
        log_input_examples: Not used (text models get their task's default signature).
        extra_tags: Tags of the runs autologging creates.
    """
    global _config
    with _state_lock:
        if disable:
            _config = None
            _patches.restore()
            return
        _config = AutologConfig(
            log_models=log_models,
            log_datasets=log_datasets,
            log_input_examples=log_input_examples,
            extra_tags={k: str(v) for k, v in (extra_tags or {}).items()},
        )
        import transformers

        _patches.patch(transformers.Trainer, "train", _make_train)


def _make_train(original: Callable[..., Any]) -> Callable[..., Any]:
    def train(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or _in_train.get():
            return original(self, *args, **kwargs)
        token = _in_train.set(True)
        try:
            return _autologged_train(config, original, self, args, kwargs)
        finally:
            _in_train.reset(token)

    return train


def _autologged_train(
    config: AutologConfig,
    original: Callable[..., Any],
    trainer: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    run = safe_call(FLAVOR, begin_run, FLAVOR, config.extra_tags)
    callback = safe_call(FLAVOR, _attach, trainer, config, run) if run is not None else None
    try:
        result = original(trainer, *args, **kwargs)
    except BaseException:
        finish_run(FLAVOR, run, failed=True)
        raise
    finish_run(FLAVOR, run)
    del callback  # stays on the trainer so a later evaluate() is logged to the same run
    return result


def _attach(trainer: Any, config: AutologConfig, run: AutologRun) -> Any:
    import transformers

    for existing in list(trainer.callback_handler.callbacks):
        if isinstance(existing, _CallbackLogic):
            trainer.remove_callback(existing)
    cls = type("MltrailTrainerCallback", (_CallbackLogic, transformers.TrainerCallback), {})
    callback = cls(config, run)
    trainer.add_callback(callback)
    return callback


def _scalars(values: Mapping[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if math.isfinite(float(value)):
            found[str(key)] = float(value)
    return found


class _CallbackLogic:
    """The hooks of the injected ``TrainerCallback``."""

    def __init__(self, config: AutologConfig, run: AutologRun) -> None:
        self._config = config
        self._run = run

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        with exception_safe(FLAVOR):
            params = {k: str(v) for k, v in args.to_dict().items()}
            config = getattr(model, "config", None)
            if config is not None and hasattr(config, "to_dict"):
                params.update({f"model_config.{k}": str(v) for k, v in config.to_dict().items()})
            self._run.client.log_params(self._run.run_id, params)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        with exception_safe(FLAVOR):
            metrics = _scalars(logs)
            if metrics:
                self._run.client.log_metrics(self._run.run_id, metrics, step=int(state.global_step))

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not self._config.log_models or model is None:
            return
        with exception_safe(FLAVOR):
            tokenizer = kwargs.get("processing_class") or kwargs.get("tokenizer")
            task = task_of(model)
            if tokenizer is None or task is None:
                raise ValueError(
                    f"cannot log the model: {'no tokenizer' if tokenizer is None else 'unknown task'} "
                    f"for {type(model).__name__}"
                )
            training = model.training
            model.eval()
            try:
                log_model(
                    "transformers",
                    {"model": model, "tokenizer": tokenizer},
                    "model",
                    task=task,
                    client=self._run.client,
                )
            finally:
                model.train(training)
