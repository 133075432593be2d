"""The runs that ``bench/server.py`` searches: one seeded generator shared by both tools' setups.

Standard library only, so that the MLflow venv's seeding script imports it too and both servers
hold exactly the same data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "SEARCH_FILTER",
    "SEARCH_ORDER_BY",
    "SEARCH_PAGE_SIZE",
    "SearchRun",
    "expected_matches",
    "search_runs_data",
]

SEARCH_FILTER = "metrics.accuracy > 0.5"
SEARCH_ORDER_BY = ["metrics.loss ASC"]
SEARCH_PAGE_SIZE = 1000


@dataclass(frozen=True)
class SearchRun:
    """One finished run: two metrics at step 0, one param and its name."""

    index: int
    name: str
    accuracy: float
    loss: float
    lr: str


def search_runs_data(n: int, seed: int = 42) -> Iterator[SearchRun]:
    """The ``n`` runs to search, the same for every call with the same seed."""
    rng = random.Random(seed)
    for i in range(n):
        accuracy, loss = rng.random(), rng.random()
        yield SearchRun(index=i, name=f"run-{i}", accuracy=accuracy, loss=loss, lr=str(i % 10))


def expected_matches(n: int, seed: int = 42) -> int:
    """How many of the runs the search filter keeps."""
    return sum(1 for run in search_runs_data(n, seed) if run.accuracy > 0.5)
