"""A small in-memory ``TrackingStore`` for client unit tests (test-only).

It keeps the rules the client relies on (active/deleted runs, immutable params, metric
history ordering, batch limits) but has no filter grammar: ``search_runs`` accepts only an
empty filter. It can be told to fail writes, to test how failures surface.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from mltrail._utils import now_ms
from mltrail.errors import (
    AlreadyExistsError,
    BackendError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
)
from mltrail.tracking.entities import (
    DatasetInput,
    DatasetSummary,
    Experiment,
    LifecycleStage,
    Metric,
    ModelInput,
    ModelOutput,
    Page,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunStatus,
    RunTag,
    ViewType,
)
from mltrail.tracking.logged_models import (
    LoggedModel,
    LoggedModelParameter,
    LoggedModelStatus,
    LoggedModelTag,
)
from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_DEFAULT, TrackingStore


class FakeTrackingStore(TrackingStore):
    """Experiments and runs in dicts, guarded by one lock.

    Args:
        artifact_root: Root under which experiments get ``<root>/<id>``.
    """

    def __init__(self, artifact_root: str) -> None:
        self._root = artifact_root.rstrip("/")
        self._lock = threading.Lock()
        self._experiments: dict[str, Experiment] = {}
        self._runs: dict[str, RunInfo] = {}
        self._params: dict[str, dict[str, str]] = {}
        self._tags: dict[str, dict[str, str]] = {}
        self._metrics: dict[str, list[Metric]] = {}
        self._inputs: dict[str, list[DatasetInput]] = {}
        self.batches: list[tuple[str, int]] = []
        self._models: dict[str, LoggedModel] = {}
        self._deleted_models: set[str] = set()
        self.fail_writes: Exception | None = None
        self.closed = False
        self.create_experiment("Default")

    # -- experiments -------------------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[tuple[str, str]] | None = None
    ) -> str:
        with self._lock:
            if not name:
                raise InvalidArgumentError("Experiment name must not be empty")
            if any(e.name == name for e in self._experiments.values()):
                raise AlreadyExistsError(f"Experiment '{name}' already exists")
            exp_id = str(len(self._experiments))
            self._experiments[exp_id] = Experiment(
                experiment_id=exp_id,
                name=name,
                artifact_location=artifact_location or f"{self._root}/{exp_id}",
                creation_time=now_ms(),
                last_update_time=now_ms(),
                tags=dict(tags or ()),
            )
            return exp_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        try:
            return self._experiments[experiment_id]
        except KeyError:
            raise NotFoundError(f"No experiment with id={experiment_id}") from None

    def get_experiment_by_name(self, name: str) -> Experiment:
        for exp in self._experiments.values():
            if exp.name == name:
                return exp
        raise NotFoundError(f"No experiment named '{name}'")

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        if filter_string:
            raise InvalidArgumentError("The fake store has no filter grammar")
        stages = view_type.stages()
        items = [e for e in self._experiments.values() if e.lifecycle_stage in stages]
        return Page(items[:max_results])

    def _set_stage(self, experiment_id: str, stage: LifecycleStage) -> None:
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage == stage:
            raise NotFoundError(f"Experiment {experiment_id} is already {stage.value}")
        self._experiments[experiment_id] = replace(exp, lifecycle_stage=stage)
        for run_id, info in self._runs.items():
            if info.experiment_id == experiment_id:
                self._runs[run_id] = replace(info, lifecycle_stage=stage)

    def delete_experiment(self, experiment_id: str) -> None:
        with self._lock:
            self._set_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        with self._lock:
            self._set_stage(experiment_id, LifecycleStage.ACTIVE)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        with self._lock:
            exp = self.get_experiment(experiment_id)
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidStateError("Cannot rename a non-active experiment")
            self._experiments[experiment_id] = replace(exp, name=new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        with self._lock:
            exp = self.get_experiment(experiment_id)
            self._experiments[experiment_id] = replace(exp, tags={**exp.tags, key: value})

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._lock:
            exp = self.get_experiment(experiment_id)
            if key not in exp.tags:
                raise NotFoundError(f"No tag {key}")
            self._experiments[experiment_id] = replace(
                exp, tags={k: v for k, v in exp.tags.items() if k != key}
            )

    # -- runs --------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        user_id: str = "",
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        with self._lock:
            exp = self.get_experiment(experiment_id)
            if exp.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidArgumentError("The experiment must be in the 'active' state")
            tag_map = {t.key: t.value for t in tags}
            name = run_name or tag_map.get("mlflow.runName") or f"run-{len(self._runs)}"
            tag_map["mlflow.runName"] = name
            run_id = uuid.uuid4().hex
            self._runs[run_id] = RunInfo(
                run_id=run_id,
                experiment_id=experiment_id,
                run_name=name,
                user_id=user_id,
                status=RunStatus.RUNNING,
                start_time=start_time or 0,
                end_time=None,
                artifact_uri=f"{exp.artifact_location}/{run_id}/artifacts",
            )
            self._params[run_id] = {}
            self._tags[run_id] = tag_map
            self._metrics[run_id] = []
            self._inputs[run_id] = []
        return self.get_run(run_id)

    def _info(self, run_id: str) -> RunInfo:
        try:
            return self._runs[run_id]
        except KeyError:
            raise NotFoundError(f"Run '{run_id}' not found") from None

    def _active(self, run_id: str) -> RunInfo:
        info = self._info(run_id)
        if info.lifecycle_stage != LifecycleStage.ACTIVE:
            raise InvalidArgumentError(f"The run {run_id} must be in the 'active' state")
        return info

    def get_run(self, run_id: str) -> Run:
        with self._lock:
            info = self._info(run_id)
            latest: dict[str, Metric] = {}
            for m in self._metrics[run_id]:
                cur = latest.get(m.key)
                if cur is None or (m.step, m.timestamp, m.value) >= (cur.step, cur.timestamp, cur.value):
                    latest[m.key] = m
            return Run(
                info=info,
                data=RunData(tuple(latest.values()), dict(self._params[run_id]), dict(self._tags[run_id])),
                inputs=RunInputs(dataset_inputs=tuple(self._inputs[run_id])),
            )

    def update_run_info(
        self,
        run_id: str,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        with self._lock:
            info = self._active(run_id)
            if status is not None:
                info = replace(info, status=status)
            if end_time is not None:
                info = replace(info, end_time=end_time)
            if run_name is not None:
                info = replace(info, run_name=run_name)
                self._tags[run_id]["mlflow.runName"] = run_name
            self._runs[run_id] = info
            return info

    def delete_run(self, run_id: str) -> None:
        with self._lock:
            self._runs[run_id] = replace(self._info(run_id), lifecycle_stage=LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        with self._lock:
            self._runs[run_id] = replace(self._info(run_id), lifecycle_stage=LifecycleStage.ACTIVE)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        with self._lock:
            if self.fail_writes is not None:
                raise self.fail_writes
            self._active(run_id)
            if len(metrics) > 1000 or len(params) > 100 or len(tags) > 100:
                raise InvalidArgumentError("Batch over the limits")
            for p in params:
                old = self._params[run_id].get(p.key)
                if old is not None and old != p.value:
                    raise InvalidArgumentError("Changing param values is not allowed")
            for p in params:
                self._params[run_id][p.key] = p.value
            history = self._metrics[run_id]
            seen = {(m.key, m.value, m.timestamp, m.step) for m in history}
            for m in metrics:
                if (m.key, m.value, m.timestamp, m.step) not in seen:
                    history.append(m)
                    seen.add((m.key, m.value, m.timestamp, m.step))
            for t in tags:
                self._tags[run_id][t.key] = t.value
                if t.key == "mlflow.runName":
                    self._runs[run_id] = replace(self._runs[run_id], run_name=t.value)
            if metrics:
                self.batches.append((run_id, len(metrics)))

    def delete_tag(self, run_id: str, key: str) -> None:
        with self._lock:
            self._active(run_id)
            if key not in self._tags[run_id]:
                raise NotFoundError(f"No tag {key}")
            del self._tags[run_id][key]

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        with self._lock:
            self._info(run_id)
            points = sorted(
                (m for m in self._metrics[run_id] if m.key == key),
                key=lambda m: (m.timestamp, m.step, m.value),
            )
            return Page(points)

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        key: str,
        start_step: int | None = None,
        end_step: int | None = None,
        max_results: int = 2500,
    ) -> list[Metric]:
        return [replace(m, run_id=r) for r in run_ids for m in self.get_metric_history(r, key).items]

    def log_inputs(
        self, run_id: str, datasets: Sequence[DatasetInput] = (), models: Sequence[ModelInput] = ()
    ) -> None:
        with self._lock:
            self._active(run_id)
            self._inputs[run_id].extend(datasets)

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        raise BackendError("The fake store does not record outputs")

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        if filter_string or order_by:
            raise InvalidArgumentError("The fake store has no filter grammar")
        stages = run_view_type.stages()
        ids = [
            r.run_id
            for r in sorted(self._runs.values(), key=lambda r: (-(r.start_time or 0), r.run_id))
            if r.experiment_id in experiment_ids and r.lifecycle_stage in stages
        ]
        return Page([self.get_run(i) for i in ids[:max_results]])

    def search_datasets(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        return []

    def list_deleted_runs(self, older_than_ms: int | None = None) -> list[str]:
        return [r.run_id for r in self._runs.values() if r.lifecycle_stage == LifecycleStage.DELETED]

    def purge_run(self, run_id: str) -> None:
        with self._lock:
            del self._runs[run_id]

    # -- logged models (no filter grammar, no model metrics) ----------------------------------

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[LoggedModelParameter] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        with self._lock:
            exp = self.get_experiment(experiment_id)
            model_id = f"m-{uuid.uuid4().hex}"
            now = now_ms()
            model = LoggedModel(
                model_id=model_id,
                experiment_id=experiment_id,
                name=name or f"model-{len(self._models)}",
                artifact_uri=f"{exp.artifact_location}/models/{model_id}/artifacts",
                status=LoggedModelStatus.PENDING,
                creation_timestamp_ms=now,
                last_updated_timestamp_ms=now,
                model_type=model_type,
                source_run_id=source_run_id,
                tags={t.key: t.value for t in tags},
                params={p.key: p.value for p in params},
            )
            self._models[model_id] = model
            return model

    def _model(self, model_id: str) -> LoggedModel:
        try:
            return self._models[model_id]
        except KeyError:
            raise NotFoundError(f"Logged model with ID '{model_id}' not found.") from None

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        model = self._model(model_id)
        if model_id in self._deleted_models and not allow_deleted:
            raise NotFoundError(f"Logged model with ID '{model_id}' not found.")
        return model

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        with self._lock:
            model = replace(self._model(model_id), status=status, last_updated_timestamp_ms=now_ms())
            self._models[model_id] = model
            return model

    def delete_logged_model(self, model_id: str) -> None:
        with self._lock:
            self._model(model_id)
            self._deleted_models.add(model_id)

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        with self._lock:
            model = self._model(model_id)
            self._models[model_id] = replace(model, tags={**model.tags, **{t.key: t.value for t in tags}})

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._lock:
            model = self._model(model_id)
            if key not in model.tags:
                raise NotFoundError(f"No tag with key '{key}' on model '{model_id}'")
            self._models[model_id] = replace(model, tags={k: v for k, v in model.tags.items() if k != key})

    def log_logged_model_params(self, model_id: str, params: Sequence[LoggedModelParameter]) -> None:
        with self._lock:
            model = self._model(model_id)
            self._models[model_id] = replace(
                model, params={**model.params, **{p.key: p.value for p in params}}
            )

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        if filter_string or datasets or order_by:
            raise InvalidArgumentError("The fake store has no filter grammar")
        items = sorted(
            (
                m
                for m in self._models.values()
                if m.experiment_id in experiment_ids and m.model_id not in self._deleted_models
            ),
            key=lambda m: (-m.creation_timestamp_ms, m.model_id),
        )
        return Page(items[: max_results or 100])

    def close(self) -> None:
        self.closed = True
