"""Trace analytics, pure logic: the filter-correlation score and the trace-metrics query model.

Two MLflow 3 analytics RPCs (spec TRACING §3) rest on this module:

* ``traces/calculate-filter-correlation`` counts the traces matching two search filters, both,
  and all (optionally within a base filter), and scores their association with normalised
  pointwise mutual information (NPMI): -1 never together, 0 independent, 1 always together.
* ``traces/metrics`` aggregates one metric (trace count, latency, token counts, span costs,
  assessment values ...) of one view (traces, spans or assessments), grouped by dimensions and
  optionally by time bucket. :data:`METRICS` lists what each view offers, which aggregations
  each metric allows and by which dimensions it can be grouped; :func:`aggregate` computes the
  aggregations of one group; :func:`parse_metric_filter` reads the ``<view>.<entity>[.<key>] =
  '<value>'`` filters of that RPC.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mltrail.errors import InvalidArgumentError

__all__ = [
    "METRICS",
    "TIME_BUCKET",
    "Aggregation",
    "AggregationType",
    "FilterCorrelation",
    "MetricFilter",
    "MetricPoint",
    "MetricSpec",
    "ViewType",
    "aggregate",
    "check_metric_query",
    "npmi",
    "parse_metric_filter",
]

TIME_BUCKET = "time_bucket"
"""The dimension holding a point's time bucket (ISO 8601 start) when a time interval is asked."""

JEFFREYS_PRIOR = 0.5


@dataclass(frozen=True)
class FilterCorrelation:
    """Counts of two filters over a set of traces and their NPMI (None where undefined)."""

    npmi: float | None
    npmi_smoothed: float | None
    filter1_count: int
    filter2_count: int
    joint_count: int
    total_count: int


def _npmi_core(n11: float, n10: float, n01: float, n00: float, smoothing: float) -> float | None:
    """NPMI of a 2x2 contingency table, each cell plus ``smoothing``; None when undefined."""
    a, b, c, d = (n + smoothing for n in (n11, n10, n01, n00))
    total = a + b + c + d
    first, second = a + b, a + c
    if first <= 0 or second <= 0 or a <= 0:
        return None
    if n10 == 0 and n01 == 0 and n00 == 0:
        return 1.0
    joint = math.log(a) - math.log(total)
    pmi = joint - (math.log(first) - math.log(total)) - (math.log(second) - math.log(total))
    if joint == 0:
        return 1.0
    # Clamped: rounding can push the ratio a hair outside [-1, 1].
    return max(-1.0, min(1.0, pmi / -joint))


def npmi(joint: int, first: int, second: int, total: int) -> tuple[float | None, float | None]:
    """The plain and the smoothed (Jeffreys prior, 0.5 per cell) NPMI of two filters' counts.

    Both are None when undefined: no traces at all, a filter matching nothing, or counts that
    do not fit together. Filters that both match but never together score exactly -1.
    """
    if total <= 0 or first == 0 or second == 0:
        return None, None
    n10, n01 = first - joint, second - joint
    n00 = total - first - second + joint
    if min(joint, n10, n01, n00) < 0:
        return None, None
    plain = -1.0 if joint == 0 else _npmi_core(joint, n10, n01, n00, 0.0)
    return plain, _npmi_core(joint, n10, n01, n00, JEFFREYS_PRIOR)


class ViewType(enum.StrEnum):
    """What a metric is computed over."""

    TRACES = "TRACES"
    SPANS = "SPANS"
    ASSESSMENTS = "ASSESSMENTS"


class AggregationType(enum.StrEnum):
    """How the values of a group are combined."""

    COUNT = "COUNT"
    SUM = "SUM"
    AVG = "AVG"
    PERCENTILE = "PERCENTILE"
    MIN = "MIN"
    MAX = "MAX"


@dataclass(frozen=True)
class Aggregation:
    """One aggregation; ``percentile`` (0..100) only and always for PERCENTILE."""

    type: AggregationType
    percentile: float | None = None

    def __post_init__(self) -> None:
        if self.type is AggregationType.PERCENTILE:
            if self.percentile is None or not 0 <= self.percentile <= 100:
                raise InvalidArgumentError(
                    f"PERCENTILE needs a percentile_value between 0 and 100, got {self.percentile}"
                )
        elif self.percentile is not None:
            raise InvalidArgumentError(f"percentile_value is only allowed with PERCENTILE, not {self.type}")

    @property
    def label(self) -> str:
        """The key of this aggregation in a point's ``values`` (``AVG``, ``P50.0`` ...)."""
        return f"P{float(self.percentile)}" if self.percentile is not None else self.type.value


@dataclass(frozen=True)
class MetricSpec:
    """What one metric of one view allows."""

    aggregations: frozenset[AggregationType]
    dimensions: frozenset[str]


_A = AggregationType
_COUNT = frozenset({_A.COUNT})
_STATS = frozenset({_A.AVG, _A.MIN, _A.MAX, _A.PERCENTILE})
_SUMS = _STATS | {_A.SUM}
_TRACE_NAME = frozenset({"trace_name"})
_TOKENS = MetricSpec(_SUMS, _TRACE_NAME)
_MODEL = frozenset({"span_model_name", "span_model_provider"})
_COST = MetricSpec(_SUMS, _MODEL)

METRICS: dict[ViewType, dict[str, MetricSpec]] = {
    ViewType.TRACES: {
        "trace_count": MetricSpec(_COUNT, frozenset({"trace_name", "trace_status"})),
        "session_count": MetricSpec(_COUNT, frozenset()),
        "latency": MetricSpec(_STATS, _TRACE_NAME),
        "input_tokens": _TOKENS,
        "output_tokens": _TOKENS,
        "total_tokens": _TOKENS,
        "cache_read_input_tokens": _TOKENS,
        "cache_creation_input_tokens": _TOKENS,
    },
    ViewType.SPANS: {
        "span_count": MetricSpec(_COUNT, frozenset({"span_name", "span_type", "span_status"}) | _MODEL),
        "latency": MetricSpec(_STATS, frozenset({"span_name", "span_status"})),
        "input_cost": _COST,
        "output_cost": _COST,
        "total_cost": _COST,
    },
    ViewType.ASSESSMENTS: {
        "assessment_count": MetricSpec(_COUNT, frozenset({"assessment_name", "assessment_value"})),
        "assessment_value": MetricSpec(_STATS, frozenset({"assessment_name"})),
    },
}
"""Per view, its metrics: the aggregations and the dimensions each one allows."""


def check_metric_query(
    view: ViewType, metric: str, aggregations: Sequence[Aggregation], dimensions: Sequence[str]
) -> MetricSpec:
    """The spec of ``metric`` after checking the request against it.

    Raises:
        InvalidArgumentError: unknown metric, or an aggregation or dimension it does not allow.
    """
    specs = METRICS[view]
    spec = specs.get(metric)
    if spec is None:
        raise InvalidArgumentError(f"metric_name must be one of {list(specs)}, got '{metric}'")
    if not aggregations:
        raise InvalidArgumentError("At least one aggregation is required")
    bad = sorted({a.type.value for a in aggregations} - {t.value for t in spec.aggregations})
    if bad:
        allowed = sorted(t.value for t in spec.aggregations)
        raise InvalidArgumentError(
            f"Found invalid aggregation_type(s): {bad}. Supported aggregation types: {allowed}"
        )
    unknown = sorted(set(dimensions) - spec.dimensions)
    if unknown:
        raise InvalidArgumentError(
            f"Found invalid dimension(s): {unknown}. Supported dimensions: {sorted(spec.dimensions)}"
        )
    return spec


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between closest ranks (numpy's default ``linear`` method)."""
    position = (len(ordered) - 1) * percent / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(values: Sequence[float], aggregations: Sequence[Aggregation]) -> dict[str, float]:
    """The aggregations of one group's values, keyed by label; COUNT counts, others skip empties."""
    out: dict[str, float] = {}
    ordered = sorted(values)
    for agg in aggregations:
        if agg.type is AggregationType.COUNT:
            out[agg.label] = float(len(values))
        elif not ordered:
            continue
        elif agg.type is AggregationType.SUM:
            out[agg.label] = float(math.fsum(ordered))
        elif agg.type is AggregationType.AVG:
            out[agg.label] = math.fsum(ordered) / len(ordered)
        elif agg.type is AggregationType.MIN:
            out[agg.label] = float(ordered[0])
        elif agg.type is AggregationType.MAX:
            out[agg.label] = float(ordered[-1])
        else:
            assert agg.percentile is not None
            out[agg.label] = float(_percentile(ordered, agg.percentile))
    return out


@dataclass(frozen=True)
class MetricPoint:
    """One group's result: its dimension values and its aggregated values."""

    metric_name: str
    dimensions: dict[str, str] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricFilter:
    """``<view>.<entity>[.<key>] = '<value>'``, e.g. ``trace.status = 'OK'``, ``trace.tag.env = 'prod'``."""

    view: str
    entity: str
    key: str | None
    value: str


_ENTITIES: dict[str, dict[str, bool]] = {
    # entity -> whether it takes a key
    "trace": {"status": False, "tag": True, "metadata": True},
    "span": {"name": False, "status": False, "type": False},
    "assessment": {"name": False, "type": False},
}
_FILTER = re.compile(
    r"""^\s*(?P<ident>[A-Za-z_][\w.]*(?:\.`[^`]+`)?)\s*=\s*(?P<q>['"])(?P<value>.*)(?P=q)\s*$""", re.DOTALL
)


def parse_metric_filter(text: str) -> MetricFilter:
    """Parse one filter of the trace-metrics RPC.

    Raises:
        InvalidArgumentError: not ``<view>.<entity>[.<key>] = '<value>'`` with a known view and
            entity.
    """
    match = _FILTER.match(text)
    if match is None:
        raise InvalidArgumentError(
            f"Invalid filter '{text}': expected <view>.<entity>[.<key>] = '<value>', e.g. trace.status = 'OK'"
        )
    view, _, rest = match["ident"].partition(".")
    entity, _, key = rest.partition(".")
    entities = _ENTITIES.get(view)
    if entities is None or entity not in entities:
        valid = [f"{v}.{e}" for v, es in _ENTITIES.items() for e in es]
        raise InvalidArgumentError(f"Invalid filter '{text}': the key must start with one of {valid}")
    key = key.strip("`")
    if entities[entity] != bool(key):
        need = "needs" if entities[entity] else "takes no"
        raise InvalidArgumentError(f"Invalid filter '{text}': '{view}.{entity}' {need} key")
    return MetricFilter(view, entity, key or None, match["value"])
