"""Validation of tracking inputs: every limit of spec REST-TRACKING §0.7, with MLflow-like messages.

Pure functions with no I/O. Stores call them before touching the database so that a rejected
batch stores nothing. Messages name the offending key or JSON path (``metrics[3].key``).
"""

from __future__ import annotations

import functools
import math
import posixpath
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.entities import DatasetInput, Metric, Param, RunTag

__all__ = [
    "CUSTOM_VIEW_TAG_PREFIX",
    "MAX_CUSTOM_VIEWS_PER_EXPERIMENT",
    "MAX_DATASET_DIGEST_SIZE",
    "MAX_DATASET_NAME_SIZE",
    "MAX_DATASET_PROFILE_SIZE",
    "MAX_DATASET_SCHEMA_SIZE",
    "MAX_DATASET_SOURCE_SIZE",
    "MAX_DATASET_SOURCE_TYPE_SIZE",
    "MAX_ENTITIES_PER_BATCH",
    "MAX_ENTITY_KEY_LENGTH",
    "MAX_EXPERIMENT_ARTIFACT_LOCATION_LENGTH",
    "MAX_EXPERIMENT_NAME_LENGTH",
    "MAX_EXPERIMENT_TAG_KEY_LENGTH",
    "MAX_EXPERIMENT_TAG_VAL_LENGTH",
    "MAX_INPUT_TAG_KEY_SIZE",
    "MAX_INPUT_TAG_VALUE_SIZE",
    "MAX_METRICS_PER_BATCH",
    "MAX_PARAMS_TAGS_PER_BATCH",
    "MAX_PARAM_VAL_LENGTH",
    "MAX_TAG_VAL_LENGTH",
    "custom_view_limit_error",
    "validate_artifact_location",
    "validate_batch",
    "validate_dataset_inputs",
    "validate_experiment_id",
    "validate_experiment_name",
    "validate_experiment_tag",
    "validate_key",
    "validate_max_results",
    "validate_metric",
    "validate_run_id",
]

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
MAX_EXPERIMENT_ARTIFACT_LOCATION_LENGTH = 2048
MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_ENTITIES_PER_BATCH = 1000
MAX_DATASET_NAME_SIZE = 500
MAX_DATASET_DIGEST_SIZE = 36
MAX_DATASET_SOURCE_SIZE = 65535
MAX_DATASET_SOURCE_TYPE_SIZE = 36
MAX_DATASET_SCHEMA_SIZE = 1048575
MAX_DATASET_PROFILE_SIZE = 16777215
MAX_INPUT_TAG_KEY_SIZE = 255
MAX_INPUT_TAG_VALUE_SIZE = 500
MAX_CUSTOM_VIEWS_PER_EXPERIMENT = 50
CUSTOM_VIEW_TAG_PREFIX = "mlflow.customView.view"

_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_BAD_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), "
    "colon(:) and slashes (/)."
)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INFINITIES = (math.inf, -math.inf)


def _invalid(path: str, value: object, why: str | None = None) -> InvalidArgumentError:
    shown = repr(value) if isinstance(value, str) else str(value)
    if len(shown) > 120:
        shown = shown[:100] + "...'"
    suffix = f": {why}" if why else "."
    return InvalidArgumentError(f"Invalid value {shown} for parameter '{path}' supplied{suffix}")


_TOO_LONG = "too long"


@functools.lru_cache(maxsize=8192)
def _key_problem(key: str) -> str | None:
    """Why a key is invalid, or None; cached because batches repeat a few keys many times."""
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        return _TOO_LONG
    if not _KEY_RE.match(key):
        return _BAD_CHARS
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        return (
            "Names may be treated as files in certain cases, and must not resolve to other names"
            f" when treated as such. This name would resolve to {norm!r}"
        )
    return None


def validate_key(key: object, path: str, kind: str = "Key") -> str:
    """Check a metric, param or tag key (charset, length, path normalisation).

    Args:
        key: The key to check.
        path: Its JSON path for the message (``key`` or ``params[2].key``).
        kind: What the key names, for the message (``Metric name``, ``Param key``).

    Returns:
        The key, unchanged.

    Raises:
        InvalidArgumentError: the key breaks a rule.
    """
    if not isinstance(key, str):
        raise _invalid(path, key, f"{kind} must be a string.")
    problem = _key_problem(key)
    if problem is not None:
        if problem == _TOO_LONG:
            raise InvalidArgumentError(
                f"'{path}' exceeds the maximum length of {MAX_ENTITY_KEY_LENGTH} characters"
            )
        raise _invalid(path, key, problem)
    return key


def validate_metric(metric: Metric, path: str = "") -> Metric:
    """Check one metric point; returns it with ±inf clamped to ±max double.

    Raises:
        InvalidArgumentError: a bad key, a non-numeric value, a negative timestamp or a bad step.
    """
    prefix = f"{path}." if path else ""
    validate_key(metric.key, f"{prefix}key" if path else "key", "Metric name")
    value = metric.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(
            f"{prefix}value",
            value,
            f"Got invalid value {value!r} for metric '{metric.key}' (timestamp={metric.timestamp}). "
            "Please specify value as a valid double (64-bit floating point)",
        )
    ts = metric.timestamp
    if isinstance(ts, bool) or not isinstance(ts, int) or ts < 0 or ts > _INT64_MAX:
        raise _invalid(
            f"{prefix}timestamp",
            ts,
            f"Got invalid timestamp {ts!r} for metric '{metric.key}' (value={value}). "
            "Timestamp must be a nonnegative long (64-bit integer) ",
        )
    step = metric.step
    if isinstance(step, bool) or not isinstance(step, int) or not _INT64_MIN <= step <= _INT64_MAX:
        raise _invalid(
            f"{prefix}step",
            step,
            f"Got invalid step {step!r} for metric '{metric.key}' (value={value}). "
            "Step must be a valid long (64-bit integer).",
        )
    if math.isinf(value):
        return replace(metric, value=math.copysign(1.7976931348623157e308, value))
    if not isinstance(value, float):
        return replace(metric, value=float(value))
    return metric


def _check_value(value: object, path: str, limit: int, truncate: bool, kind: str) -> str:
    if not isinstance(value, str):
        raise _invalid(path, value, f"{kind} must be a string.")
    if len(value) <= limit:
        return value
    if truncate:
        return value[:limit]
    raise InvalidArgumentError(f"'{path}' exceeds the maximum length of {limit} characters")


def _check_batch_size(name: str, limit: int, count: int) -> None:
    if count > limit:
        raise InvalidArgumentError(
            f"A batch logging request can contain at most {limit} {name}. Got {count} {name}. "
            f"Please split up {name} across multiple requests and try again."
        )


def validate_batch(
    metrics: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
    *,
    truncate: bool = True,
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Check a whole log-batch request before anything is stored.

    Args:
        metrics: Metric points.
        params: Params (keys must be unique within the batch).
        tags: Run tags.
        truncate: Truncate over-long param/tag values instead of rejecting them.

    Returns:
        The metrics (±inf clamped), params and tags (values truncated when allowed).

    Raises:
        InvalidArgumentError: any item or the batch size breaks a rule.
    """
    _check_batch_size("metrics", MAX_METRICS_PER_BATCH, len(metrics))
    _check_batch_size("params", MAX_PARAMS_TAGS_PER_BATCH, len(params))
    _check_batch_size("tags", MAX_PARAMS_TAGS_PER_BATCH, len(tags))
    _check_batch_size("entities", MAX_ENTITIES_PER_BATCH, len(metrics) + len(params) + len(tags))
    out_metrics = [
        # Fast path for well-formed points; anything unusual takes the full check and its message.
        m
        if type(m.value) is float
        and type(m.timestamp) is int
        and type(m.step) is int
        and type(m.key) is str
        and 0 <= m.timestamp <= _INT64_MAX
        and _INT64_MIN <= m.step <= _INT64_MAX
        and m.value not in _INFINITIES
        and _key_problem(m.key) is None
        else validate_metric(m, f"metrics[{i}]")
        for i, m in enumerate(metrics)
    ]
    out_params: list[Param] = []
    for i, p in enumerate(params):
        validate_key(p.key, f"params[{i}].key", "Param key")
        value = _check_value(p.value, f"params[{i}].value", MAX_PARAM_VAL_LENGTH, truncate, "Param value")
        out_params.append(p if value is p.value else Param(p.key, value))
    out_tags: list[RunTag] = []
    for i, t in enumerate(tags):
        validate_key(t.key, f"tags[{i}].key", "Tag key")
        value = _check_value(t.value, f"tags[{i}].value", MAX_TAG_VAL_LENGTH, truncate, "Tag value")
        out_tags.append(t if value is t.value else RunTag(t.key, value))
    dupes = sorted(k for k, n in Counter(p.key for p in params).items() if n > 1)
    if dupes:
        raise InvalidArgumentError(
            f"Duplicate parameter keys have been submitted: {dupes}. Please ensure the request "
            "contains only one param value per param key."
        )
    return out_metrics, out_params, out_tags


def validate_experiment_name(name: object) -> str:
    """Check an experiment name: a non-empty string of at most 500 characters."""
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"Invalid experiment name: '{name}'")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidArgumentError(
            f"Invalid value for parameter 'name': exceeds the maximum length of "
            f"{MAX_EXPERIMENT_NAME_LENGTH} characters"
        )
    return name


def validate_experiment_tag(key: object, value: object) -> tuple[str, str]:
    """Check an experiment tag (key ≤250 and value ≤20000 characters, never truncated)."""
    k = validate_key(key, "key", "Tag key")
    if len(k) > MAX_EXPERIMENT_TAG_KEY_LENGTH:  # pragma: no cover - same limit as entity keys
        raise InvalidArgumentError(
            f"'key' exceeds the maximum length of {MAX_EXPERIMENT_TAG_KEY_LENGTH} characters"
        )
    v = _check_value(value, "value", MAX_EXPERIMENT_TAG_VAL_LENGTH, False, "Tag value")
    return k, v


def custom_view_limit_error(experiment_id: str | None = None) -> InvalidArgumentError:
    """The error for an experiment that would hold more than 50 custom-view tags."""
    ref = f" for experiment {experiment_id}" if experiment_id else ""
    return InvalidArgumentError(
        f"Unable to create another custom view{ref}; the maximum number of custom views per "
        f"experiment is {MAX_CUSTOM_VIEWS_PER_EXPERIMENT}. Delete an existing custom view before "
        "creating a new one."
    )


def validate_artifact_location(location: str) -> str:
    """Check an explicit experiment artifact location (length, no ``runs:`` URI, no fragment/params)."""
    if len(location) > MAX_EXPERIMENT_ARTIFACT_LOCATION_LENGTH:
        raise InvalidArgumentError(
            f"Invalid artifact location: its length ({len(location)}) exceeds the maximum of "
            f"{MAX_EXPERIMENT_ARTIFACT_LOCATION_LENGTH} characters"
        )
    if location.startswith("runs:"):
        raise InvalidArgumentError(f"Artifact location cannot be a runs:/ URI. Given: '{location}'")
    if "#" in location or ";" in location.rpartition("/")[2]:
        raise InvalidArgumentError(f"Artifact location '{location}' must not contain a fragment or params")
    return location


def validate_experiment_id(experiment_id: object) -> int:
    """Parse an experiment id (a string holding an integer).

    Raises:
        InvalidArgumentError: the id is not an integer.
    """
    try:
        if isinstance(experiment_id, bool):
            raise ValueError
        return int(str(experiment_id).strip())
    except ValueError:
        raise InvalidArgumentError(
            f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer."
        ) from None


def validate_run_id(run_id: object) -> str:
    """Check a run id's format (``^[a-zA-Z0-9][\\w\\-]{0,255}$``)."""
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise _invalid("run_id", run_id)
    return run_id


def validate_max_results(max_results: object, limit: int, name: str = "max_results") -> int:
    """Check a page size: an integer in 1..limit."""
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidArgumentError(
            f"Invalid value {max_results} for parameter '{name}' supplied. It must be a positive integer"
        )
    if max_results > limit:
        raise InvalidArgumentError(
            f"Invalid value {max_results} for parameter '{name}' supplied. It must be at most {limit}, "
            f"but got value {max_results}"
        )
    return max_results


def _limit(value: str | None, limit: int, path: str) -> None:
    if value is not None and len(value) > limit:
        raise InvalidArgumentError(f"'{path}' exceeds the maximum length of {limit} characters")


def validate_dataset_inputs(datasets: Sequence[DatasetInput]) -> None:
    """Check dataset inputs: field sizes of datasets and input tags, required fields."""
    for i, d in enumerate(datasets):
        ds = d.dataset
        path = f"datasets[{i}].dataset"
        for field_name in ("name", "digest", "source_type", "source"):
            if not getattr(ds, field_name):
                raise InvalidArgumentError(f"Missing value for required parameter '{path}.{field_name}'.")
        _limit(ds.name, MAX_DATASET_NAME_SIZE, f"{path}.name")
        _limit(ds.digest, MAX_DATASET_DIGEST_SIZE, f"{path}.digest")
        _limit(ds.source_type, MAX_DATASET_SOURCE_TYPE_SIZE, f"{path}.source_type")
        _limit(ds.source, MAX_DATASET_SOURCE_SIZE, f"{path}.source")
        _limit(ds.schema, MAX_DATASET_SCHEMA_SIZE, f"{path}.schema")
        _limit(ds.profile, MAX_DATASET_PROFILE_SIZE, f"{path}.profile")
        for j, tag in enumerate(d.tags):
            tpath = f"datasets[{i}].tags[{j}]"
            if not tag.key:
                raise InvalidArgumentError(f"Missing value for required parameter '{tpath}.key'.")
            _limit(tag.key, MAX_INPUT_TAG_KEY_SIZE, f"{tpath}.key")
            _limit(tag.value, MAX_INPUT_TAG_VALUE_SIZE, f"{tpath}.value")
