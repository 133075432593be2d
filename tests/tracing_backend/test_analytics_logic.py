"""Pure logic of trace analytics: NPMI, aggregations and percentiles, metric filters and checks."""

from __future__ import annotations

import math

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracing.store.analytics import (
    Aggregation,
    AggregationType,
    MetricFilter,
    ViewType,
    aggregate,
    check_metric_query,
    npmi,
    parse_metric_filter,
)


def _reference_npmi(n11: float, n10: float, n01: float, n00: float) -> float:
    """NPMI straight from its definition: log(p(x,y) / (p(x) p(y))) / -log p(x,y)."""
    total = n11 + n10 + n01 + n00
    joint = n11 / total
    first, second = (n11 + n10) / total, (n11 + n01) / total
    return math.log(joint / (first * second)) / -math.log(joint)


def test_npmi_matches_its_definition() -> None:
    plain, smoothed = npmi(joint=10, first=20, second=15, total=100)
    assert plain == pytest.approx(_reference_npmi(10, 10, 5, 75))
    assert smoothed == pytest.approx(_reference_npmi(10.5, 10.5, 5.5, 75.5))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((5, 5, 5, 10), 1.0),  # always together
        ((10, 10, 10, 10), 1.0),  # both match everything
        ((0, 5, 5, 10), -1.0),  # never together
        ((2, 4, 4, 8), 0.0),  # independent
    ],
)
def test_npmi_edges(counts: tuple[int, int, int, int], expected: float) -> None:
    plain, smoothed = npmi(*counts)
    assert plain == pytest.approx(expected, abs=1e-12)
    assert smoothed is not None and -1.0 <= smoothed <= 1.0


@pytest.mark.parametrize("counts", [(0, 0, 5, 10), (0, 5, 0, 10), (0, 0, 0, 0), (6, 5, 5, 10), (1, 5, 5, 3)])
def test_npmi_undefined(counts: tuple[int, int, int, int]) -> None:
    assert npmi(*counts) == (None, None)


def test_aggregate_and_percentiles() -> None:
    aggs = [
        Aggregation(AggregationType.COUNT),
        Aggregation(AggregationType.SUM),
        Aggregation(AggregationType.AVG),
        Aggregation(AggregationType.MIN),
        Aggregation(AggregationType.MAX),
        Aggregation(AggregationType.PERCENTILE, 50),
        Aggregation(AggregationType.PERCENTILE, 90),
        Aggregation(AggregationType.PERCENTILE, 0),
        Aggregation(AggregationType.PERCENTILE, 100),
    ]
    result = aggregate([4.0, 1.0, 3.0, 2.0], aggs)
    # numpy.quantile(..., method="linear") gives 2.5 and 3.7 for this data.
    assert result == {
        "COUNT": 4.0,
        "SUM": 10.0,
        "AVG": 2.5,
        "MIN": 1.0,
        "MAX": 4.0,
        "P50.0": 2.5,
        "P90.0": pytest.approx(3.7),
        "P0.0": 1.0,
        "P100.0": 4.0,
    }
    assert aggregate([], aggs) == {"COUNT": 0.0}
    assert aggregate([7.0], [Aggregation(AggregationType.PERCENTILE, 99.5)]) == {"P99.5": 7.0}


def test_aggregation_rules() -> None:
    with pytest.raises(InvalidArgumentError):
        Aggregation(AggregationType.PERCENTILE)
    with pytest.raises(InvalidArgumentError):
        Aggregation(AggregationType.PERCENTILE, 101)
    with pytest.raises(InvalidArgumentError):
        Aggregation(AggregationType.AVG, 50)
    spec = check_metric_query(
        ViewType.SPANS, "total_cost", [Aggregation(AggregationType.SUM)], ["span_model_name"]
    )
    assert "span_model_provider" in spec.dimensions
    with pytest.raises(InvalidArgumentError, match="metric_name must be one of"):
        check_metric_query(ViewType.ASSESSMENTS, "latency", [Aggregation(AggregationType.AVG)], [])
    with pytest.raises(InvalidArgumentError, match="At least one aggregation"):
        check_metric_query(ViewType.TRACES, "trace_count", [], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trace.status = 'OK'", MetricFilter("trace", "status", None, "OK")),
        ('trace.tag.env = "prod"', MetricFilter("trace", "tag", "env", "prod")),
        (
            "trace.metadata.`mlflow.trace.user` = 'me'",
            MetricFilter("trace", "metadata", "mlflow.trace.user", "me"),
        ),
        ("span.type='LLM'", MetricFilter("span", "type", None, "LLM")),
        ("assessment.name = 'answer quality'", MetricFilter("assessment", "name", None, "answer quality")),
    ],
)
def test_parse_metric_filter(text: str, expected: MetricFilter) -> None:
    assert parse_metric_filter(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "status = 'OK'",
        "trace.tag = 'x'",
        "span.name.x = 'y'",
        "trace.status != 'OK'",
        "trace.status = OK",
        "",
    ],
)
def test_parse_metric_filter_rejects(text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_metric_filter(text)
