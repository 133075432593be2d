"""scikit-learn autologging: params, training metrics, dataset and model on every ``fit``.

``autolog()`` patches ``fit``, ``fit_transform`` and ``fit_predict`` of every estimator class
already imported and, through a post-import hook, of every scikit-learn module imported later.
Only the outermost fit logs: a pipeline's steps and a search's candidate fits run unpatched
inside it. Searches (``GridSearchCV``, ``RandomizedSearchCV``) add a child run per candidate and
``best_*`` params with ``best_cv_score`` on the parent. ``predict``/``predict_proba``/``score``
and the ``sklearn.metrics`` functions are patched for post-training metrics.
"""

from __future__ import annotations

import contextvars
import inspect
import math
import threading
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from mltrail._utils import now_ms
from mltrail.autolog import _sklearn_metrics
from mltrail.autolog._config import AUTOLOG_TAG, AutologConfig
from mltrail.autolog._import_hook import PostImportHook
from mltrail.autolog._runs import AutologRun, begin_run, finish_run
from mltrail.autolog._safety import PatchSet, exception_safe, safe_call
from mltrail.autolog._sklearn_post import PostTrainingTracker, caller_variable_name, is_loggable
from mltrail.data import from_numpy, from_pandas
from mltrail.data.dataset import Dataset
from mltrail.errors import InvalidArgumentError
from mltrail.models.logging import log_model
from mltrail.models.signature import infer_signature
from mltrail.tracking import context
from mltrail.tracking.entities import DatasetInput, InputTag, Metric, Param, RunStatus, RunTag

__all__ = ["FLAVOR", "autolog", "is_enabled"]

FLAVOR = "sklearn"
_FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_PREDICT_METHODS = ("predict", "predict_proba")
_EXAMPLE_ROWS = 5
_SEARCH_METRIC_SKIP = ("param", "split")

_state_lock = threading.Lock()
_config: AutologConfig | None = None
_patches = PatchSet()
_hook: PostImportHook | None = None
_post = PostTrainingTracker()
_in_fit: contextvars.ContextVar[bool] = contextvars.ContextVar("mltrail_sklearn_in_fit", default=False)


def is_enabled() -> bool:
    """Whether scikit-learn autologging is on."""
    return _config is not None


def autolog(
    *,
    disable: bool = False,
    log_models: bool = True,
    log_datasets: bool = True,
    log_input_examples: bool = True,
    log_post_training_metrics: bool = True,
    max_tuning_runs: int | None = None,
    extra_tags: Mapping[str, Any] | None = None,
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    Each outermost ``fit`` logs to the active run, or to a new run it ends afterwards: the
    estimator's params (nested ones as ``step__param``), training metrics fitting its kind, the
    training data as a ``train`` input, and the model (skops) with a signature and input example.

    Args:
        disable: Remove every patch and stop logging.
        log_models: Log the fitted estimator as the run's model ``model``.
        log_datasets: Record the training data as a run input.
        log_input_examples: Save the first rows of the training data with the model.
        log_post_training_metrics: Log ``sklearn.metrics`` results computed on the model's
            predictions, and ``model.score`` calls, to the model's run.
        max_tuning_runs: Child runs per hyperparameter search, best ranked first (None: all).
        extra_tags: Tags of the runs autologging creates.
    """
    global _config, _hook
    with _state_lock:
        if disable:
            _config = None
            if _hook is not None:
                _hook.uninstall()
                _hook = None
            _patches.restore()
            _post.reset()
            return
        _config = AutologConfig(
            log_models=log_models,
            log_datasets=log_datasets,
            log_input_examples=log_input_examples,
            log_post_training_metrics=log_post_training_metrics,
            max_tuning_runs=max_tuning_runs,
            extra_tags={k: str(v) for k, v in (extra_tags or {}).items()},
        )
        import sklearn.base
        import sklearn.metrics

        _patch_metric_functions(sklearn.metrics)
        for cls in _subclasses(sklearn.base.BaseEstimator):
            _patch_class(cls)
        if _hook is None:
            _hook = PostImportHook("sklearn", _on_module_loaded)
            _hook.install()


def _subclasses(root: type) -> list[type]:
    found: list[type] = []
    stack = [root]
    seen: set[type] = set()
    while stack:
        subclasses: list[type] = stack.pop().__subclasses__()
        for sub in subclasses:
            if sub not in seen:
                seen.add(sub)
                found.append(sub)
                stack.append(sub)
    return found


def _on_module_loaded(module: ModuleType) -> None:
    with exception_safe(FLAVOR):
        import sklearn.base

        base = sklearn.base.BaseEstimator
        for value in list(vars(module).values()):
            if isinstance(value, type) and issubclass(value, base) and value.__module__ == module.__name__:
                _patch_class(value)
        if module.__name__ == "sklearn.metrics":
            _patch_metric_functions(module)


def _patch_class(cls: type) -> None:
    # Mixins in the MRO (LinearClassifierMixin.predict, TransformerMixin.fit_transform...) hold
    # many of the methods, so every class of the MRO is patched where it defines one.
    for owner in cls.__mro__[:-1]:
        for name in _FIT_METHODS:
            _patches.patch(owner, name, _make_fit)
        for name in _PREDICT_METHODS:
            _patches.patch(owner, name, _make_predict)
        _patches.patch(owner, "score", _make_score)


def _is_metric_function(name: str, value: Any) -> bool:
    if not inspect.isfunction(value) or name.startswith("_"):
        return False
    if name in ("make_scorer", "get_scorer", "check_scoring", "get_scorer_names"):
        return False
    return name.endswith(("_score", "_error", "_loss")) or name == "log_loss"


def _patch_metric_functions(module: ModuleType) -> None:
    for name, value in list(vars(module).items()):
        if _is_metric_function(name, value):
            _patches.patch(module, name, _make_metric)


# -- fit ---------------------------------------------------------------------------------------


def _make_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or _in_fit.get():
            return original(self, *args, **kwargs)
        token = _in_fit.set(True)
        try:
            return _autologged_fit(config, signature, original, self, args, kwargs)
        finally:
            _in_fit.reset(token)

    return fit


def _autologged_fit(
    config: AutologConfig,
    signature: inspect.Signature,
    original: Callable[..., Any],
    estimator: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    run = safe_call(FLAVOR, begin_run, FLAVOR, config.extra_tags)
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException:
        finish_run(FLAVOR, run, failed=True)
        raise
    if run is not None:
        with exception_safe(FLAVOR):
            x, y, weight = _fit_inputs(signature, estimator, args, kwargs)
            _log_fit(config, run, estimator, x, y, weight)
        finish_run(FLAVOR, run)
    return result


def _fit_inputs(
    signature: inspect.Signature, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any, Any]:
    try:
        bound = signature.bind_partial(estimator, *args, **kwargs).arguments
    except TypeError:
        bound = {}
    names = list(signature.parameters)[1:]
    x = bound.get(names[0]) if names else None
    y = bound.get(names[1]) if len(names) > 1 else None
    weight = bound.get("sample_weight")
    if weight is None and isinstance(bound.get("params"), Mapping):
        weight = bound["params"].get("sample_weight")
    return x, y, weight


def _param_value(value: Any) -> str:
    return str(value)


def _estimator_params(estimator: Any) -> dict[str, str]:
    try:
        params = estimator.get_params(deep=True)
    except Exception:
        params = estimator.get_params(deep=False)
    return {str(k): _param_value(v) for k, v in params.items()}


def _is_search(estimator: Any) -> bool:
    searchable = hasattr(estimator, "param_grid") or hasattr(estimator, "param_distributions")
    return searchable and hasattr(estimator, "cv_results_")


def _log_fit(config: AutologConfig, run: AutologRun, estimator: Any, x: Any, y: Any, weight: Any) -> None:
    import sklearn.metrics

    client = run.client
    cls = type(estimator)
    params = _estimator_params(estimator)
    tags = {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__name__}",
        AUTOLOG_TAG: FLAVOR,
    }
    search = _is_search(estimator)
    search_metrics: dict[str, float] = {}
    if search:
        best = getattr(estimator, "best_params_", None) or {}
        params.update({f"best_{k}": _param_value(v) for k, v in best.items()})
        score = getattr(estimator, "best_score_", None)
        if score is not None and math.isfinite(float(score)):
            search_metrics["best_cv_score"] = float(score)
    client.log_batch(
        run.run_id,
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    metrics, preds = _sklearn_metrics.training_metrics(estimator, sklearn.metrics, x, y, weight)
    metrics.update(search_metrics)
    dataset = safe_call(FLAVOR, _dataset, x, y) if config.log_datasets and x is not None else None
    if dataset is not None:
        with exception_safe(FLAVOR):
            tag = InputTag(context.TAG_DATASET_CONTEXT, "train")
            client.log_inputs(run.run_id, [DatasetInput(dataset.to_entity(), (tag,))])
    model_id = None
    if config.log_models:
        # A search object references CV splitters and scorers skops does not trust; its refit
        # best estimator is the model users deploy.
        model = getattr(estimator, "best_estimator_", None) if search else estimator
        if model is not None:
            model_id = safe_call(FLAVOR, _log_model, config, run, model, x, preds)
    if metrics:
        _log_metrics(run, metrics, model_id, dataset)
    if search:
        with exception_safe(FLAVOR):
            _log_search_children(config, run, estimator)
    if config.log_post_training_metrics:
        _post.register_model(estimator, run.run_id)


def _log_metrics(run: AutologRun, metrics: Mapping[str, float], model_id: str | None, dataset: Any) -> None:
    ts = now_ms()
    name = dataset.name if dataset is not None else None
    digest = dataset.digest if dataset is not None else None
    points = [
        Metric(
            k, float(v), ts, 0, dataset_name=name, dataset_digest=digest, model_id=model_id, run_id=run.run_id
        )
        for k, v in metrics.items()
    ]
    run.client.log_batch(run.run_id, metrics=points)


def _head(data: Any, rows: int) -> Any:
    if hasattr(data, "iloc"):
        return data.iloc[:rows]
    if hasattr(data, "shape") and hasattr(data, "__getitem__"):
        return data[:rows]
    if isinstance(data, list):
        return data[:rows]
    return None


def _dataset(x: Any, y: Any) -> Dataset | None:
    import numpy as np

    if hasattr(x, "iloc") and hasattr(x, "columns"):
        frame = x
        target = None
        if y is not None and hasattr(y, "__len__") and len(y) == len(x):
            target = str(getattr(y, "name", None) or "target")
            if target not in frame.columns:
                frame = frame.assign(**{target: np.asarray(y)})
            else:
                target = None
        return from_pandas(frame, name="dataset", targets=target)
    features = np.asarray(x)
    if features.dtype.hasobject:
        return None
    targets = np.asarray(y) if y is not None else None
    return from_numpy(features, name="dataset", targets=targets)


def _log_model(
    config: AutologConfig, run: AutologRun, estimator: Any, x: Any, preds: _sklearn_metrics.Predictions
) -> str | None:
    head = _head(x, _EXAMPLE_ROWS) if x is not None else None
    signature: Any = None
    if head is not None:
        output = preds.y_pred[:_EXAMPLE_ROWS] if preds.y_pred is not None else None
        if output is None and hasattr(estimator, "predict"):
            output = estimator.predict(head)
        signature = infer_signature(head, output) if output is not None else None
    options: dict[str, Any] = {
        "signature": signature if signature is not None else False,
        "input_example": head if config.log_input_examples else None,
        "client": run.client,
    }
    try:
        info = log_model(FLAVOR, estimator, "model", **options)
    except InvalidArgumentError as exc:
        # scikit-learn's own types (a tree's Tree, ...) are outside skops' default trust list;
        # they are recorded in the MLmodel file so loading can opt in to them explicitly.
        untrusted = (exc.details or {}).get("untrusted_types") or []
        if not untrusted or not all(str(t).startswith("sklearn.") for t in untrusted):
            raise
        info = log_model(FLAVOR, estimator, "model", skops_trusted_types=untrusted, **options)
    return info.model_id


def _log_search_children(config: AutologConfig, run: AutologRun, search: Any) -> None:
    results = search.cv_results_
    candidates: list[dict[str, Any]] = list(results.get("params", []))
    if not candidates:
        return
    ranks = results.get("rank_test_score")
    order = sorted(range(len(candidates)), key=lambda i: (int(ranks[i]) if ranks is not None else 0, i))
    if config.max_tuning_runs is not None:
        order = order[: max(0, config.max_tuning_runs)]
    numeric = [
        key
        for key, values in results.items()
        if not key.startswith(_SEARCH_METRIC_SKIP) and getattr(values, "dtype", None) is not None
        and values.dtype.kind in "iuf"
    ]  # fmt: skip
    client = run.client
    parent_name = client.get_run(run.run_id).info.run_name
    base_tags = {
        context.TAG_PARENT_RUN_ID: run.run_id,
        AUTOLOG_TAG: FLAVOR,
        **context.system_tags(client.settings),
    }
    for i in order:
        child = client.create_run(run.experiment_id, tags=base_tags, run_name=f"{parent_name}-{i + 1}")
        child_id = child.info.run_id
        params = [Param(str(k), _param_value(v)) for k, v in candidates[i].items()]
        ts = now_ms()
        metrics = []
        for key in numeric:
            value = float(results[key][i])
            if math.isfinite(value):
                metrics.append(Metric(key, value, ts, 0))
        client.log_batch(child_id, metrics=metrics, params=params)
        client.set_terminated(child_id, RunStatus.FINISHED)


# -- post-training metrics -----------------------------------------------------------------------


def _make_predict(original: Callable[..., Any]) -> Callable[..., Any]:
    def predict(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or not config.log_post_training_metrics or _in_fit.get() or _post.suppressed.get():
            return original(self, *args, **kwargs)
        run_id = _post.run_of(self)
        if run_id is None:
            return original(self, *args, **kwargs)
        token = _post.suppressed.set(True)
        try:
            result = original(self, *args, **kwargs)
        finally:
            _post.suppressed.reset(token)
        data = args[0] if args else next(iter(kwargs.values()), None)
        with exception_safe(FLAVOR):
            name = _post.dataset_name(run_id, data, caller_variable_name(data, 1))
            _post.register_prediction(result, run_id, name)
        return result

    return predict


def _make_score(original: Callable[..., Any]) -> Callable[..., Any]:
    def score(self: Any, *args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or not config.log_post_training_metrics or _in_fit.get() or _post.suppressed.get():
            return original(self, *args, **kwargs)
        run_id = _post.run_of(self)
        if run_id is None:
            return original(self, *args, **kwargs)
        token = _post.suppressed.set(True)
        try:
            value = original(self, *args, **kwargs)
        finally:
            _post.suppressed.reset(token)
        data = args[0] if args else next(iter(kwargs.values()), None)
        with exception_safe(FLAVOR):
            if is_loggable(value):
                dataset = _post.dataset_name(run_id, data, caller_variable_name(data, 1))
                key = _post.metric_key(run_id, f"{type(self).__name__}_score", dataset)
                _post.log(run_id, key, value)
        return value

    return score


def _make_metric(original: Callable[..., Any]) -> Callable[..., Any]:
    metric_name = original.__name__

    def metric(*args: Any, **kwargs: Any) -> Any:
        config = _config
        if config is None or not config.log_post_training_metrics or _in_fit.get() or _post.suppressed.get():
            return original(*args, **kwargs)
        token = _post.suppressed.set(True)
        try:
            value = original(*args, **kwargs)
        finally:
            _post.suppressed.reset(token)
        with exception_safe(FLAVOR):
            found = _post.find_prediction(args, kwargs)
            if found is not None and is_loggable(value):
                key = _post.metric_key(found.run_id, metric_name, found.dataset_name)
                _post.log(found.run_id, key, value)
        return value

    return metric
