"""Read models behind the web UI: chart series, run groups, run counts and column keys.

The result types, the argument rules shared by every store, and default implementations built
only on the tracking store contract (``get_metric_history``, ``search_runs``), which any store
inherits. SQL stores override them with queries that do the work in the database.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.downsample import MAX_POINTS_RANGE, SeriesPoint, XAxis, downsample, order_key
from mltrail.tracking.entities import Run, ViewType

if TYPE_CHECKING:
    from mltrail.tracking.store.base import TrackingStore

__all__ = [
    "GROUP_ATTRIBUTES",
    "MAX_COLUMN_KEYS",
    "MAX_DOUBLE",
    "MAX_GROUPS",
    "MAX_GROUP_METRICS",
    "MAX_SERIES_KEYS",
    "MAX_SERIES_RUNS",
    "ColumnKeys",
    "GroupKey",
    "MetricAggregate",
    "MetricSeries",
    "RunGroup",
    "RunGroups",
    "check_group_metrics",
    "check_series_request",
    "count_runs_by_search",
    "experiment_columns_by_search",
    "group_runs_by_search",
    "mean_of",
    "metric_series_from_history",
    "parse_group_by",
]

MAX_SERIES_RUNS = 100
MAX_SERIES_KEYS = 50
MAX_GROUP_METRICS = 100
MAX_GROUPS = 1000
MAX_COLUMN_KEYS = 5000
# SQL stores clamp ±inf to ±max double when logging; these values stand for the infinities.
MAX_DOUBLE = 1.7976931348623157e308

# Run attributes a grouping may use, and the string each takes as a group value.
GROUP_ATTRIBUTES = ("run_name", "status", "user_id", "lifecycle_stage", "experiment_id", "artifact_uri")
_PREFIXES: Mapping[str, Literal["param", "tag", "attribute"]] = {
    "params": "param",
    "param": "param",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attribute",
    "attribute": "attribute",
    "attr": "attribute",
}


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One (run, metric) series for a chart.

    Args:
        run_id: The run.
        metric_key: The metric.
        total_points: How many points the series has in the requested x range.
        downsampled: Whether ``points`` is a min/max-preserving subset (False: all points).
        points: The points, ordered along the requested x axis.
    """

    run_id: str
    metric_key: str
    total_points: int
    downsampled: bool
    points: list[SeriesPoint]


@dataclass(frozen=True, slots=True)
class MetricAggregate:
    """Statistics of one metric's latest values over a group of runs (NaN values left out).

    ``count`` runs have a value; ``mean``, ``min`` and ``max`` are None when it is 0. Values
    of ±max double stand for ±inf, so the mean of a group holding one is infinite.
    """

    count: int
    mean: float | None
    min: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class RunGroup:
    """The runs sharing one value of the grouping key (None: runs without it)."""

    value: str | None
    run_count: int
    metrics: Mapping[str, MetricAggregate] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunGroups:
    """Groups ordered by value (None last), at most :data:`MAX_GROUPS` of them."""

    groups: list[RunGroup]
    total_runs: int
    truncated: bool


@dataclass(frozen=True, slots=True)
class ColumnKeys:
    """Distinct param, metric and tag keys, each sorted and capped at :data:`MAX_COLUMN_KEYS`."""

    params: list[str]
    metrics: list[str]
    tags: list[str]


@dataclass(frozen=True, slots=True)
class GroupKey:
    """A parsed grouping key: ``params.lr`` is ``GroupKey("param", "lr")``."""

    kind: Literal["param", "tag", "attribute"]
    key: str


def parse_group_by(text: str) -> GroupKey:
    """Parse ``params.<k>``, ``tags.<k>`` or ``attributes.<name>`` (the key may be backquoted).

    Raises:
        InvalidArgumentError: an unknown prefix, an empty key, or an attribute not in
            :data:`GROUP_ATTRIBUTES`.
    """
    prefix, dot, key = (text or "").strip().partition(".")
    kind = _PREFIXES.get(prefix.strip().lower())
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "`\"'":
        key = key[1:-1]
    if not dot or kind is None or not key:
        raise InvalidArgumentError(
            f"Invalid group_by {text!r}: expected 'params.<key>', 'tags.<key>' or 'attributes.<name>'."
        )
    if kind == "attribute":
        key = {"run_id": "run_id", "name": "run_name", "user": "user_id"}.get(key, key)
        if key not in GROUP_ATTRIBUTES:
            raise InvalidArgumentError(
                f"Invalid group_by {text!r}: runs can be grouped by the attributes "
                f"{', '.join(GROUP_ATTRIBUTES)}."
            )
    return GroupKey(kind, key)


def check_series_request(
    run_ids: Sequence[str], metric_keys: Sequence[str], max_points: int, x_axis: str
) -> tuple[list[str], list[str]]:
    """Validate a series request; returns the run ids and keys without duplicates, in order.

    Raises:
        InvalidArgumentError: no runs or keys, too many of them, ``max_points`` outside
            10..10000, or an unknown axis.
    """
    runs = list(dict.fromkeys(run_ids))
    keys = list(dict.fromkeys(metric_keys))
    if not runs:
        raise InvalidArgumentError("At least one run_id is required.")
    if not keys:
        raise InvalidArgumentError("At least one metric_key is required.")
    if len(runs) > MAX_SERIES_RUNS:
        raise InvalidArgumentError(f"At most {MAX_SERIES_RUNS} run_id values are allowed, got {len(runs)}.")
    if len(keys) > MAX_SERIES_KEYS:
        raise InvalidArgumentError(
            f"At most {MAX_SERIES_KEYS} metric_key values are allowed, got {len(keys)}."
        )
    low, high = MAX_POINTS_RANGE
    if isinstance(max_points, bool) or not isinstance(max_points, int) or not low <= max_points <= high:
        raise InvalidArgumentError(f"max_points must be between {low} and {high}, got {max_points!r}.")
    if x_axis not in ("step", "timestamp"):
        raise InvalidArgumentError(f"x_axis must be 'step' or 'timestamp', got {x_axis!r}.")
    return runs, keys


def mean_of(finite_sum: float, finite_count: int, positive_inf: int, negative_inf: int) -> float | None:
    """The mean of values given as the sum and count of finite ones and counts of infinities."""
    if positive_inf and negative_inf:
        return math.nan
    if positive_inf:
        return math.inf
    if negative_inf:
        return -math.inf
    return finite_sum / finite_count if finite_count else None


def metric_series_from_history(
    store: TrackingStore,
    run_ids: Sequence[str],
    metric_keys: Sequence[str],
    max_points: int,
    x_axis: XAxis,
    x_min: int | None,
    x_max: int | None,
) -> list[MetricSeries]:
    """Series built from each metric's full history (``get_metric_history``), in memory."""
    runs, keys = check_series_request(run_ids, metric_keys, max_points, x_axis)
    out: list[MetricSeries] = []
    for run_id in runs:
        for key in keys:
            history = store.get_metric_history(run_id, key).items
            points = [SeriesPoint(m.step, m.timestamp, m.value) for m in history]
            points = [p for p in points if _in_range(order_key(p, x_axis)[0], x_min, x_max)]
            picked, downsampled = downsample(points, max_points, x_axis)
            out.append(MetricSeries(run_id, key, len(points), downsampled, picked))
    return out


def _in_range(x: int, x_min: int | None, x_max: int | None) -> bool:
    return (x_min is None or x >= x_min) and (x_max is None or x <= x_max)


def _all_runs(
    store: TrackingStore, experiment_ids: Sequence[str], filter_string: str, view_type: ViewType
) -> Iterator[Run]:
    # Imported here: the store module imports this one.
    from mltrail.tracking.store.base import SEARCH_MAX_RESULTS_LIMIT

    token: str | None = None
    while True:
        page = store.search_runs(
            experiment_ids,
            filter_string=filter_string,
            run_view_type=view_type,
            max_results=SEARCH_MAX_RESULTS_LIMIT,
            page_token=token,
        )
        yield from page.items
        token = page.next_page_token
        if not token:
            return


def count_runs_by_search(
    store: TrackingStore, experiment_ids: Sequence[str], filter_string: str, view_type: ViewType
) -> int:
    """The number of matching runs, counted over ``search_runs`` pages."""
    return sum(1 for _ in _all_runs(store, experiment_ids, filter_string, view_type))


def _group_value(run: Run, group: GroupKey) -> str | None:
    if group.kind == "param":
        return run.data.params.get(group.key)
    if group.kind == "tag":
        return run.data.tags.get(group.key)
    value = getattr(run.info, group.key)
    return None if value is None else str(value)


def _aggregate(values: list[float]) -> MetricAggregate:
    finite = [v for v in values if abs(v) < MAX_DOUBLE]
    positive = sum(1 for v in values if v >= MAX_DOUBLE)
    negative = sum(1 for v in values if v <= -MAX_DOUBLE)
    if not values:
        return MetricAggregate(0, None, None, None)
    mean = mean_of(math.fsum(finite), len(finite), positive, negative)
    return MetricAggregate(len(values), mean, min(values), max(values))


def group_runs_by_search(
    store: TrackingStore,
    experiment_ids: Sequence[str],
    filter_string: str,
    view_type: ViewType,
    group_by: str,
    metric_keys: Sequence[str],
) -> RunGroups:
    """Groups computed over ``search_runs`` pages (each run's latest metric values)."""
    group = parse_group_by(group_by)
    keys = check_group_metrics(metric_keys)
    counts: dict[str | None, int] = {}
    values: dict[str | None, dict[str, list[float]]] = {}
    total = 0
    for run in _all_runs(store, experiment_ids, filter_string, view_type):
        total += 1
        value = _group_value(run, group)
        counts[value] = counts.get(value, 0) + 1
        per_key = values.setdefault(value, {k: [] for k in keys})
        for m in run.data.latest_metrics:
            if m.key in per_key and not math.isnan(m.value):
                per_key[m.key].append(m.value)
    ordered = sorted(counts, key=lambda v: (v is None, v or ""))
    groups = [
        RunGroup(v, counts[v], {k: _aggregate(values[v][k]) for k in keys}) for v in ordered[:MAX_GROUPS]
    ]
    return RunGroups(groups, total, len(ordered) > MAX_GROUPS)


def check_group_metrics(metric_keys: Sequence[str]) -> list[str]:
    """The metric keys of a grouping without duplicates; at most :data:`MAX_GROUP_METRICS`."""
    keys = list(dict.fromkeys(metric_keys))
    if len(keys) > MAX_GROUP_METRICS:
        raise InvalidArgumentError(f"At most {MAX_GROUP_METRICS} metric_keys are allowed, got {len(keys)}.")
    return keys


def experiment_columns_by_search(store: TrackingStore, experiment_ids: Sequence[str]) -> ColumnKeys:
    """Column keys collected from the experiments' active runs (``search_runs`` pages)."""
    params: set[str] = set()
    metrics: set[str] = set()
    tags: set[str] = set()
    for run in _all_runs(store, experiment_ids, "", ViewType.ACTIVE_ONLY):
        params.update(run.data.params)
        tags.update(run.data.tags)
        metrics.update(m.key for m in run.data.latest_metrics)
    return ColumnKeys(
        _capped(params),
        _capped(metrics),
        _capped(tags),
    )


def _capped(keys: set[str]) -> list[str]:
    # Sorted by UTF-8 bytes, the order SQL stores use (code point order is the same order).
    return sorted(keys)[:MAX_COLUMN_KEYS]
