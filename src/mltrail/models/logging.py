"""Logging models to the tracking store as MLflow 3 logged models (``mltrail.<flavor>.log_model``).

The flow, shared by every flavor: save the model into a temporary directory with the flavor,
create a ``LOGGED_MODEL_PENDING`` logged model in the active run's experiment, upload the
directory to the model's ``artifact_uri`` (with a progress bar for large files), finalize it
``READY`` (``UPLOAD_FAILED`` if the upload fails), link it to the run as an output and, if asked,
register it. As in MLflow 3, nothing is copied under the run's own artifacts:
``runs:/<run_id>/<name>`` finds the model through the run's logged models.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from mltrail._plugins import resolve_artifact_repository
from mltrail.artifacts._progress import DEFAULT_PROGRESS_THRESHOLD, ProgressCallback, transfer_progress
from mltrail.artifacts.base import ArtifactRepository
from mltrail.errors import InvalidArgumentError
from mltrail.models.flavor import get_flavor
from mltrail.models.model import Model
from mltrail.models.schema import ModelSignature
from mltrail.registry.client import RegistryClient
from mltrail.registry.fluent import registry_client
from mltrail.tracking import context
from mltrail.tracking._fluent_state import active_run, current_experiment_id, default_client
from mltrail.tracking.client import TrackingClient
from mltrail.tracking.entities import Metric, ModelOutput
from mltrail.tracking.logged_models import LoggedModel, LoggedModelStatus

__all__ = ["ModelInfo", "log_model", "upload_progress"]

_logger = logging.getLogger(__name__)

_MODEL_DIR = "model"


@dataclass(frozen=True, slots=True)
class _UploadProgress:
    """How model uploads report progress (see :func:`upload_progress`)."""

    enabled: bool | None = None
    threshold: int = DEFAULT_PROGRESS_THRESHOLD


_DEFAULT_PROGRESS = _UploadProgress()
_PROGRESS: contextvars.ContextVar[_UploadProgress | None] = contextvars.ContextVar(
    "mltrail_upload_progress", default=None
)


def _progress() -> _UploadProgress:
    return _PROGRESS.get() or _DEFAULT_PROGRESS


@contextlib.contextmanager
def upload_progress(enabled: bool | None = True, threshold: int | None = None) -> Iterator[None]:
    """Change how ``log_model`` shows upload progress inside a ``with`` block (this context only).

    By default a file larger than 100 MiB gets a progress bar on stderr when stderr is a terminal.

    Args:
        enabled: True forces bars (for files above ``threshold``), False hides them, None shows
            them on a terminal.
        threshold: Files of at most this many bytes never get a bar (default unchanged).

    Yields:
        Nothing; the previous behaviour is restored on exit.
    """
    current = _progress()
    token = _PROGRESS.set(_UploadProgress(enabled, current.threshold if threshold is None else threshold))
    try:
        yield
    finally:
        _PROGRESS.reset(token)


@dataclass(frozen=True)
class ModelInfo:
    """What ``log_model`` logged.

    Attributes:
        model_uri: ``models:/<model_id>``, the URI to load the model by.
        model_id: The logged model's id.
        name: The logged model's name (``runs:/<run_id>/<name>`` also loads it).
        run_id: The run the model was logged from, if any.
        artifact_path: Where the model's files are stored (the logged model's artifact URI),
            as in MLflow 3.
        flavors: The MLmodel ``flavors`` mapping.
        signature: The model's signature, if any.
        model_uuid: The MLmodel ``model_uuid`` (the model id, as MLflow 3 writes it).
        utc_time_created: When the model was saved.
        saved_input_example_info: Where the input example is stored, if one was saved.
        metadata: User metadata of the MLmodel file.
        registered_model_version: The version created by ``registered_model_name``, if any.
        logged_model: The logged model entity after finalizing (status, params, tags, ...).
    """

    model_uri: str
    model_id: str
    name: str
    run_id: str | None
    artifact_path: str
    flavors: dict[str, dict[str, Any]]
    signature: ModelSignature | None = None
    model_uuid: str | None = None
    utc_time_created: str | None = None
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    registered_model_version: str | None = None
    logged_model: LoggedModel | None = field(default=None, compare=False)


class _ProgressReader:
    """A binary reader that reports every chunk it hands out to a progress callback."""

    def __init__(self, stream: BinaryIO, advance: ProgressCallback) -> None:
        self._stream = stream
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._advance(len(data))
        return data


def _model_files(directory: Path) -> list[tuple[Path, str]]:
    files = [p for p in directory.rglob("*") if p.is_file()]
    return sorted((p, p.relative_to(directory).as_posix()) for p in files)


def _upload(repo: ArtifactRepository, directory: Path) -> None:
    """Upload a model directory to the root of ``repo``, with progress bars for big files."""
    progress = _progress()
    if hasattr(repo, "show_progress") and hasattr(repo, "progress_threshold"):
        # The S3 and HTTP repositories draw their own bars (and upload files in parallel).
        repo.show_progress = progress.enabled
        repo.progress_threshold = progress.threshold
        repo.log_artifacts(str(directory))
        return
    for local, rel in _model_files(directory):
        size = local.stat().st_size
        with (
            open(local, "rb") as stream,
            transfer_progress(
                size, local.name, enabled=progress.enabled, threshold=progress.threshold
            ) as advance,
        ):
            repo.write_stream(rel, _ProgressReader(stream, advance))  # type: ignore[arg-type]


def _copy_step_metrics(client: TrackingClient, run_id: str, model_id: str, step: int) -> None:
    """Attach the run's metric points of ``step`` to the model, as MLflow 3 does."""
    points: list[Metric] = []
    for key in client.get_run(run_id).data.metrics:
        points.extend(
            Metric(
                key=m.key,
                value=m.value,
                timestamp=m.timestamp,
                step=m.step,
                dataset_name=m.dataset_name,
                dataset_digest=m.dataset_digest,
                model_id=model_id,
                run_id=run_id,
            )
            for m in client.get_metric_history(run_id, key)
            if m.step == step and m.model_id is None
        )
    if points:
        client.log_batch(run_id, metrics=points)


def _register(
    client: TrackingClient | None, model_uri: str, name: str, tags: Mapping[str, str] | None
) -> str:
    if client is None:
        return registry_client().register_model(model_uri, name, tags).version
    with RegistryClient(client.tracking_uri, settings=client.settings, tracking_store=client.store) as reg:
        return reg.register_model(model_uri, name, tags).version


def log_model(
    flavor_name: str,
    model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    client: TrackingClient | None = None,
    **flavor_kwargs: Any,
) -> ModelInfo:
    """Save a model with a flavor and log it as a logged model of the active run.

    Without an active run the model is logged to the active experiment with no source run.

    Args:
        flavor_name: The flavor that saves the model (``sklearn``, ``python_function``, ...).
        model: The framework's model object (for ``python_function``: the ``PythonModel``, a
            predict function or a models-from-code file).
        name: The logged model's name; ``runs:/<run_id>/<name>`` loads it (a generated name if
            None). None of ``/ : . % " '``.
        artifact_path: Former name of ``name``; pass only one of them.
        signature: Explicit signature; ``False`` for none; by default inferred from the example.
        input_example: Example input, or ``(input, params)``.
        registered_model_name: Also register the model as a new version of this registered
            model (created if missing).
        params: Params of the logged model; the active run's params are added to them.
        tags: Tags of the logged model (and of the registered version).
        model_type: A free-form type label (e.g. ``"agent"``).
        step: The run's step the model belongs to; the run's metric points at that step are
            attached to the model.
        client: The tracking client to log through (default: the fluent API's client).
        **flavor_kwargs: Options of the flavor's ``save`` (``serialization_format``,
            ``pip_requirements``, ``metadata``, ...).

    Returns:
        What was logged; ``model_uri`` is ``models:/<model_id>``.

    Raises:
        InvalidArgumentError: both ``name`` and ``artifact_path``, a bad name, or a model the
            flavor cannot save.
        NotFoundError: an unknown flavor or experiment.
        MltrailError: the upload failed (the logged model is then ``UPLOAD_FAILED``).
    """
    if name is not None and artifact_path is not None:
        raise InvalidArgumentError("Pass only one of name and artifact_path (artifact_path is its old name).")
    model_name = name if name is not None else artifact_path
    flavor = get_flavor(flavor_name)
    tracking = client if client is not None else default_client()
    run = active_run()
    run_id = run.run_id if run is not None else None
    experiment_id = run.info.experiment_id if run is not None else current_experiment_id()

    with tempfile.TemporaryDirectory(prefix="mltrail-log-model-") as tmp:
        directory = Path(tmp) / _MODEL_DIR
        saved = flavor.save(
            model, directory, signature=signature, input_example=input_example, **flavor_kwargs
        )
        all_params = {**(tracking.get_run(run_id).data.params if run_id else {}), **(params or {})}
        all_tags = {**context.system_tags(tracking.settings), **{k: str(v) for k, v in (tags or {}).items()}}
        logged = tracking.create_logged_model(
            experiment_id,
            name=model_name,
            source_run_id=run_id,
            tags=all_tags,
            params=all_params,
            model_type=model_type,
        )
        try:
            saved.artifact_path = logged.artifact_uri
            saved.run_id = run_id
            saved.model_id = logged.model_id
            saved.model_uuid = logged.model_id
            saved.save(directory)
            repo = resolve_artifact_repository(
                logged.artifact_uri, tracking_uri=tracking.tracking_uri, settings=tracking.settings
            )
            _upload(repo, directory)
        except BaseException:
            try:
                tracking.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
            except Exception:  # the upload's own error is the one the caller must see
                _logger.warning("Could not mark logged model %s as failed", logged.model_id, exc_info=True)
            raise
        finalized = tracking.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)

    if run_id is not None:
        tracking.log_outputs(run_id, [ModelOutput(logged.model_id, int(step))])
        _copy_step_metrics(tracking, run_id, logged.model_id, int(step))
    model_uri = f"models:/{logged.model_id}"
    version = None
    if registered_model_name is not None:
        version_tags = {k: str(v) for k, v in tags.items()} if tags else None
        version = _register(client, model_uri, registered_model_name, version_tags)
    if run_id is not None or version is not None:
        finalized = tracking.get_logged_model(logged.model_id)
    return _model_info(saved, finalized, model_uri, version)


def _model_info(saved: Model, logged: LoggedModel, model_uri: str, version: str | None) -> ModelInfo:
    return ModelInfo(
        model_uri=model_uri,
        model_id=logged.model_id,
        name=logged.name,
        run_id=saved.run_id,
        artifact_path=logged.artifact_uri,
        flavors=saved.flavors,
        signature=saved.signature,
        model_uuid=saved.model_uuid,
        utc_time_created=saved.utc_time_created,
        saved_input_example_info=saved.saved_input_example_info,
        metadata=saved.metadata,
        registered_model_version=version,
        logged_model=logged,
    )
