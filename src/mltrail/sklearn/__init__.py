"""scikit-learn models: ``save_model`` (skops by default) and ``load_model``.

Example::

    import mltrail.sklearn

    mltrail.sklearn.save_model(estimator, "model-dir")
    estimator = mltrail.sklearn.load_model("model-dir")
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from mltrail.autolog.sklearn import autolog
from mltrail.models.flavors.sklearn import SERIALIZATION_FORMATS, SklearnFlavor
from mltrail.models.logging import ModelInfo
from mltrail.models.logging import log_model as _log_model
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.models.uri import resolve_model_uri
from mltrail.tracking.client import TrackingClient

__all__ = ["SERIALIZATION_FORMATS", "autolog", "load_model", "log_model", "save_model"]


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "skops",
    skops_trusted_types: Iterable[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Model:
    """Save a scikit-learn estimator as a model directory.

    Args:
        sk_model: The fitted estimator.
        path: A new (or empty) directory.
        serialization_format: ``"skops"`` (default, safe to load), or ``"pickle"`` /
            ``"cloudpickle"`` (loading then needs ``allow_pickle=True``).
        skops_trusted_types: Types outside skops' defaults that you vouch for (skops format);
            saving fails, naming them, if the model needs types not listed here.
        pyfunc_predict_fn: The estimator method the python_function ``predict`` calls.
        signature: Explicit signature; ``False`` for none; by default inferred from the example.
        input_example: Example input, or ``(input, params)``.
        pip_requirements: Replaces the inferred requirements.
        extra_pip_requirements: Added to the requirements.
        metadata: User metadata for the MLmodel file.

    Returns:
        The MLmodel metadata written.

    Raises:
        InvalidArgumentError: unknown format, untrusted skops types, or a model skops cannot store.
    """
    return SklearnFlavor().save(
        sk_model,
        path,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        pyfunc_predict_fn=pyfunc_predict_fn,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
    )


def log_model(
    sk_model: Any,
    name: str | None = None,
    *,
    serialization_format: str = "skops",
    skops_trusted_types: Iterable[str] | None = None,
    pyfunc_predict_fn: str = "predict",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Iterable[str] | None = None,
    extra_pip_requirements: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    artifact_path: str | None = None,
    client: TrackingClient | None = None,
) -> ModelInfo:
    """Log a scikit-learn estimator as a logged model of the active run (see :func:`save_model`).

    Args:
        sk_model: The fitted estimator.
        name: The logged model's name (``runs:/<run_id>/<name>`` loads it).
        serialization_format: ``"skops"`` (default), ``"pickle"`` or ``"cloudpickle"``.
        skops_trusted_types: Types outside skops' defaults that you vouch for.
        pyfunc_predict_fn: The estimator method the python_function ``predict`` calls.
        signature: Explicit signature; ``False`` for none; by default inferred from the example.
        input_example: Example input, or ``(input, params)``.
        pip_requirements: Replaces the inferred requirements.
        extra_pip_requirements: Added to the requirements.
        metadata: User metadata for the MLmodel file.
        registered_model_name: Also register it as a new version of this registered model.
        params: Params of the logged model (the active run's params are added).
        tags: Tags of the logged model.
        model_type: A free-form type label.
        step: The run's step the model belongs to.
        artifact_path: Former name of ``name``.
        client: The tracking client to log through (default: the fluent API's client).

    Returns:
        What was logged; load it back by ``info.model_uri`` (``models:/<model_id>``) or
        ``runs:/<run_id>/<name>``.

    Raises:
        InvalidArgumentError: a bad name or option, or a model the flavor cannot save.
        MltrailError: the upload failed (the logged model is then ``UPLOAD_FAILED``).
    """
    return _log_model(
        "sklearn",
        sk_model,
        name,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        pyfunc_predict_fn=pyfunc_predict_fn,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        artifact_path=artifact_path,
        client=client,
    )


def load_model(
    model_uri: str | os.PathLike[str],
    *,
    allow_pickle: bool = False,
    skops_trusted_types: Iterable[str] | None = None,
) -> Any:
    """Load a scikit-learn estimator saved by mltrail or MLflow.

    Args:
        model_uri: A local directory, ``file:``, ``runs:/``, ``models:/`` (id, version, stage,
            alias), ``s3://`` or ``mlflow-artifacts:/`` URI.
        allow_pickle: Permit pickle/cloudpickle files (this executes code stored in the model)
            and trust the skops types recorded in the MLmodel file.
        skops_trusted_types: skops types to trust beyond skops' defaults.

    Raises:
        InvalidArgumentError: loading needs an opt-in the caller did not give.
    """
    return SklearnFlavor().load(
        resolve_model_uri(model_uri), allow_pickle=allow_pickle, skops_trusted_types=skops_trusted_types
    )
