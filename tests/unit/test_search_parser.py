"""Parser of run and experiment filters and of order-by clauses."""

from __future__ import annotations

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracking.search import (
    Comparison,
    EntityType,
    OrderKey,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)

M, P, T, A, D = EntityType.METRIC, EntityType.PARAM, EntityType.TAG, EntityType.ATTRIBUTE, EntityType.DATASET


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.acc > 0.5", Comparison(M, "acc", ">", 0.5)),
        ("metric.acc != -2", Comparison(M, "acc", "!=", -2.0)),
        ("metrics.`my metric` <= 1e-3", Comparison(M, "my metric", "<=", 0.001)),
        ('metrics."a.b" = 3', Comparison(M, "a.b", "=", 3.0)),
        ("params.lr = '0.1'", Comparison(P, "lr", "=", "0.1")),
        ('param.lr = "0.1"', Comparison(P, "lr", "=", "0.1")),
        ("parameters.model.type LIKE 'cnn%'", Comparison(P, "model.type", "LIKE", "cnn%")),
        ("parameter.x ILIKE 'A'", Comparison(P, "x", "ILIKE", "A")),
        ("tags.t IS NULL", Comparison(T, "t", "IS NULL", None)),
        ("tag.t is not null", Comparison(T, "t", "IS NOT NULL", None)),
        ("tags.`mlflow.source.name` = 'x'", Comparison(T, "mlflow.source.name", "=", "x")),
        ("attributes.status = 'FINISHED'", Comparison(A, "status", "=", "FINISHED")),
        ("attr.run_name LIKE 'a%'", Comparison(A, "run_name", "LIKE", "a%")),
        ("run.user_id != 'bob'", Comparison(A, "user_id", "!=", "bob")),
        ("status = 'RUNNING'", Comparison(A, "status", "=", "RUNNING")),
        ("created > 100", Comparison(A, "start_time", ">", 100.0)),
        ("attributes.Created > 100", Comparison(A, "start_time", ">", 100.0)),
        ("`Run name` = 'x'", Comparison(A, "run_name", "=", "x")),
        ("attributes.`Run Name` = 'x'", Comparison(A, "run_name", "=", "x")),
        ("end_time <= 5", Comparison(A, "end_time", "<=", 5.0)),
        ("attributes.run_id IN ('a', 'b')", Comparison(A, "run_id", "IN", ("a", "b"))),
        ("run_id NOT IN ('a')", Comparison(A, "run_id", "NOT IN", ("a",))),
        ("dataset.name = 'mnist'", Comparison(D, "name", "=", "mnist")),
        ("datasets.digest IN ('x', 'y')", Comparison(D, "digest", "IN", ("x", "y"))),
        ("dataset.context NOT IN ('train')", Comparison(D, "context", "NOT IN", ("train",))),
        ("dataset.context ILIKE 'TR%'", Comparison(D, "context", "ILIKE", "TR%")),
    ],
)
def test_run_clauses(text: str, expected: Comparison) -> None:
    assert parse_run_filter(text) == [expected]


def test_conjunction() -> None:
    parsed = parse_run_filter("metrics.a > 1 AND params.b = 'x' and tags.c IS NULL")
    assert [c.entity for c in parsed] == [M, P, T]


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_filter(text: str | None) -> None:
    assert parse_run_filter(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.a > 1 OR metrics.b > 1", "Invalid clause\\(s\\) in filter string: 'OR'"),
        ("params.a = 1", "Expected a quoted string value"),
        ("tags.a = b", "Expected a quoted string value"),
        ("metrics.a = 'x'", "Expected numeric value"),
        ("attributes.start_time > 'x'", "Expected numeric value"),
        ("metrics.a LIKE 1", "Invalid comparator 'LIKE'"),
        ("params.a < 'x'", "Invalid comparator '<'"),
        ("metrics.a IS NULL", "Invalid comparator 'IS NULL'"),
        ("attributes.status IS NULL", "Invalid comparator"),
        ("attributes.start_time IN (1)", "Invalid comparator"),
        ("params.a IN ('x')", "Invalid comparator 'IN'"),
        ("foo.a = 'x'", "Invalid entity type 'foo'"),
        ("attributes.bogus = 'x'", "Invalid attribute key 'bogus'"),
        ("dataset.size = 'x'", "Invalid dataset key 'size'"),
        ("metrics.a >", "expected a value"),
        ("metrics.a", "expected a comparator"),
        ("metrics.a > 1 metrics.b > 1", "expected 'AND'"),
        ("metrics.a > 1 AND", "expected an identifier"),
        ("run_id IN ()", "non-empty list"),
        ("run_id IN ('a' 'b')", "expected ',' or '\\)'"),
        ("run_id IN 'a'", "parenthesised list"),
        ("(metrics.a > 1)", "expected an identifier"),
        ("tags. = 'x'", "expected a key"),
        ("metrics.a NOT LIKE 1", "invalid comparator"),
    ],
)
def test_run_filter_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        parse_run_filter(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name = 'a'", Comparison(A, "name", "=", "a")),
        ("attribute.name ILIKE '%x%'", Comparison(A, "name", "ILIKE", "%x%")),
        ("experiment_id = 3", Comparison(A, "experiment_id", "=", "3")),
        ("experiment_id = '3'", Comparison(A, "experiment_id", "=", "3")),
        ("experiment_id IN (1, '2')", Comparison(A, "experiment_id", "IN", ("1", "2"))),
        ("experiment_id NOT IN (0)", Comparison(A, "experiment_id", "NOT IN", ("0",))),
        ("creation_time >= 10", Comparison(A, "creation_time", ">=", 10.0)),
        ("last_update_time < 10", Comparison(A, "last_update_time", "<", 10.0)),
        ("tags.k = 'v'", Comparison(T, "k", "=", "v")),
        ("tags.`k k` IS NOT NULL", Comparison(T, "k k", "IS NOT NULL", None)),
    ],
)
def test_experiment_clauses(text: str, expected: Comparison) -> None:
    assert parse_experiment_filter(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "metrics.a > 1",
        "params.a = 'x'",
        "dataset.name = 'x'",
        "name > 'a'",
        "experiment_id IN ('x')",
        "experiment_id LIKE '1'",
        "creation_time = 'x'",
        "name = 'a' OR name = 'b'",
        "status = 'x'",
    ],
)
def test_experiment_filter_errors(text: str) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_experiment_filter(text)


def test_order_by_keys() -> None:
    assert parse_run_order_by(["metrics.acc DESC", "params.`a b`", "tags.t asc", "attributes.run_name"]) == [
        OrderKey(M, "acc", False),
        OrderKey(P, "a b", True),
        OrderKey(T, "t", True),
        OrderKey(A, "run_name", True),
    ]
    assert parse_run_order_by(None) == []
    assert parse_experiment_order_by(["name DESC", "experiment_id"]) == [
        OrderKey(A, "name", False),
        OrderKey(A, "experiment_id", True),
    ]


@pytest.mark.parametrize(
    "clauses",
    [
        ["metrics.a", "metrics.a DESC"],
        ["start_time", "created"],
        ["bogus"],
        ["metrics.a sideways"],
        ["metrics.a DESC extra"],
        [""],
        ["dataset.name"],
    ],
)
def test_run_order_by_errors(clauses: list[str]) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_run_order_by(clauses)


@pytest.mark.parametrize("clauses", [["metrics.a"], ["tags.x"], ["status"]])
def test_experiment_order_by_errors(clauses: list[str]) -> None:
    with pytest.raises(InvalidArgumentError):
        parse_experiment_order_by(clauses)
