"""Syntax tree of parsed searches: comparisons joined by AND, and order-by keys."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Comparison", "EntityType", "OrderKey"]


class EntityType(enum.StrEnum):
    """What an identifier refers to."""

    METRIC = "metric"
    PARAM = "parameter"
    TAG = "tag"
    ATTRIBUTE = "attribute"
    DATASET = "dataset"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One clause ``<entity>.<key> <comparator> <value>``.

    ``value`` is a float for numeric comparisons, a string for string ones, a tuple of strings
    for ``IN``/``NOT IN`` and None for ``IS NULL``/``IS NOT NULL``. Comparators are upper-case:
    ``= != < <= > >= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL``.
    """

    entity: EntityType
    key: str
    comparator: str
    value: float | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order-by key with its direction."""

    entity: EntityType
    key: str
    ascending: bool = True
