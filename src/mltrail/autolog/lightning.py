"""PyTorch Lightning autologging: a callback injected into ``Trainer.fit``.

It records the module's hyperparameters, the optimizer's settings and the early-stopping
configuration as params; every value logged with ``self.log`` (step-level values at the
trainer's ``log_every_n_steps`` with the global step, epoch-level values at each epoch end with
the epoch as step); early-stopping results; and the best checkpoint (else the final weights) as
the run's ``pytorch`` model. Works with ``pytorch_lightning`` and ``lightning.pytorch``.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
import math
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mltrail.autolog._config import AutologConfig
from mltrail.autolog._runs import AutologRun, begin_run, finish_run
from mltrail.autolog._safety import PatchSet, exception_safe, safe_call
from mltrail.models.logging import log_model

__all__ = ["FLAVOR", "PACKAGES", "autolog", "is_enabled"]

FLAVOR = "lightning"
PACKAGES = ("pytorch_lightning", "lightning.pytorch")
_EXAMPLE_ROWS = 5

_state_lock = threading.Lock()
_config: AutologConfig | None = None
_patches = PatchSet()
_in_fit: contextvars.ContextVar[bool] = contextvars.ContextVar("mltrail_lightning_in_fit", default=False)


def is_enabled() -> bool:
    """Whether Lightning autologging is on."""
    return _config is not None


def _installed_packages() -> list[str]:
    found = []
    for name in PACKAGES:
        try:
            if importlib.util.find_spec(name) is not None:
                found.append(name)
        except (ImportError, ValueError):
            continue
    return found


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    log_input_examples: bool = True,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Turn PyTorch Lightning autologging on (or off with ``disable=True``).

    Each ``Trainer.fit`` logs to the active run, or to a new run it ends when fitting ends.

    Args:
        disable: Remove the patch and stop logging.
        log_models: Log the best checkpoint (or the final weights) as the model ``model``.
        log_datasets: Not used by Lightning (data comes from loaders); accepted for symmetry.
        log_input_examples: Save the first rows of the first training batch with the model.
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
        for package in _installed_packages():
            module = importlib.import_module(package)
            _patches.patch(module.Trainer, "fit", _make_fit(module))


def _make_fit(package: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            config = _config
            if config is None or _in_fit.get():
                return original(self, *args, **kwargs)
            token = _in_fit.set(True)
            try:
                return _autologged_fit(config, package, original, self, args, kwargs)
            finally:
                _in_fit.reset(token)

        return fit

    return make


def _autologged_fit(
    config: AutologConfig,
    package: Any,
    original: Callable[..., Any],
    trainer: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    run = safe_call(FLAVOR, begin_run, FLAVOR, config.extra_tags)
    callback = safe_call(FLAVOR, _attach, package, trainer, config, run) if run is not None else None
    try:
        result = original(trainer, *args, **kwargs)
    except BaseException:
        _detach(trainer, callback)
        finish_run(FLAVOR, run, failed=True)
        raise
    if callback is not None:
        with exception_safe(FLAVOR):
            callback.finish(trainer)
    _detach(trainer, callback)
    finish_run(FLAVOR, run)
    return result


def _attach(package: Any, trainer: Any, config: AutologConfig, run: AutologRun) -> Any:
    callback = _callback_class(package)(config, run)
    trainer.callbacks.append(callback)
    return callback


def _detach(trainer: Any, callback: Any) -> None:
    if callback is None:
        return
    with exception_safe(FLAVOR):
        if callback in trainer.callbacks:
            trainer.callbacks.remove(callback)


_CALLBACK_CLASSES: dict[str, type] = {}


def _scalars(values: Mapping[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for key, value in values.items():
        try:
            number = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError, RuntimeError):
            continue
        if math.isfinite(number):
            found[str(key)] = number
    return found


def _flat_params(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flat_params(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def _callback_class(package: Any) -> type:
    """A ``Callback`` subclass of this Lightning package (built once per package)."""
    cached = _CALLBACK_CLASSES.get(package.__name__)
    if cached is not None:
        return cached
    base: type = package.Callback
    callback = type("MltrailAutologCallback", (_CallbackLogic, base), {})
    _CALLBACK_CLASSES[package.__name__] = callback
    return callback


class _CallbackLogic:
    """The hooks of the injected callback (mixed into the package's ``Callback``)."""

    def __init__(self, config: AutologConfig, run: AutologRun) -> None:
        self._config = config
        self._run = run
        self._example: Any = None
        self._step_keys: set[str] = set()
        self._epoch_keys: set[str] = set()

    def _log(self, metrics: Mapping[str, float], step: int) -> None:
        if metrics:
            self._run.client.log_metrics(self._run.run_id, metrics, step=step)

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        with exception_safe(FLAVOR):
            self._run.client.log_params(self._run.run_id, _start_params(trainer, pl_module))

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if self._example is None and self._config.log_models:
            with exception_safe(FLAVOR):
                self._example = _example_of(batch)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        with exception_safe(FLAVOR):
            every = max(1, int(getattr(trainer, "log_every_n_steps", 50) or 1))
            step = int(trainer.global_step)
            values = {
                k: v
                for k, v in trainer.callback_metrics.items()
                if k not in self._epoch_keys and not k.endswith("_epoch")
            }
            self._step_keys.update(values)
            if step % every == 0:
                self._log(_scalars(values), step)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        with exception_safe(FLAVOR):
            values = {
                k: v
                for k, v in trainer.callback_metrics.items()
                if k.endswith("_epoch") or k not in self._step_keys
            }
            self._epoch_keys.update(values)
            self._log(_scalars(values), int(trainer.current_epoch))

    def finish(self, trainer: Any) -> None:
        """After ``fit``: early-stopping results, then the model."""
        client, run_id = self._run.client, self._run.run_id
        stopping: dict[str, float] = {}
        for es in getattr(trainer, "early_stopping_callbacks", []) or []:
            stopping.update(
                _scalars(
                    {
                        "early_stopping_stopped_epoch": es.stopped_epoch,
                        "early_stopping_wait_count": es.wait_count,
                        "early_stopping_best_score": es.best_score,
                    }
                )
            )
        self._log(stopping, int(trainer.current_epoch))
        if self._config.log_models:
            model = trainer.lightning_module
            best = _best_checkpoint(trainer)
            if best is not None:
                client.set_tag(run_id, "best_checkpoint", os.path.basename(best))
            _log_module(model, best, self._example if self._config.log_input_examples else None, self._run)


def _start_params(trainer: Any, pl_module: Any) -> dict[str, str]:
    params: dict[str, str] = {}
    hparams = getattr(pl_module, "hparams", None)
    if isinstance(hparams, Mapping):
        params.update(_flat_params(hparams))
    params["epochs"] = str(trainer.max_epochs)
    for index, optimizer in enumerate(getattr(trainer, "optimizers", []) or []):
        prefix = "optimizer" if index == 0 else f"optimizer_{index}"
        params[f"{prefix}_name"] = type(optimizer).__name__
        group = optimizer.param_groups[0] if optimizer.param_groups else {}
        for key, value in group.items():
            if key != "params" and isinstance(value, (int, float, str, bool, tuple, type(None))):
                params[f"{prefix}_{key}"] = str(value)
    for es in getattr(trainer, "early_stopping_callbacks", []) or []:
        for key in ("monitor", "mode", "patience", "min_delta", "stopping_threshold", "divergence_threshold"):
            if hasattr(es, key):
                params[f"early_stopping_{key}"] = str(getattr(es, key))
    return params


def _example_of(batch: Any) -> Any:
    first = batch
    if isinstance(batch, (list, tuple)) and batch:
        first = batch[0]
    if hasattr(first, "detach"):
        return first[:_EXAMPLE_ROWS].detach().cpu().numpy()
    return None


def _best_checkpoint(trainer: Any) -> str | None:
    checkpoint = getattr(trainer, "checkpoint_callback", None)
    path = getattr(checkpoint, "best_model_path", None) if checkpoint is not None else None
    return path if path and os.path.isfile(path) else None


def _log_module(module: Any, best: str | None, example: Any, run: AutologRun) -> None:
    import torch

    final = None
    if best is not None:
        # Weights only: nothing in the checkpoint is unpickled as code.
        state = torch.load(best, map_location="cpu", weights_only=True)
        final = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict(state["state_dict"])
    training = module.training
    try:
        module.eval()
        log_model("pytorch", module, "model", input_example=example, client=run.client)
    finally:
        module.train(training)
        if final is not None:
            module.load_state_dict(final)
