"""Fixtures of the contract suites: a fresh tracking store per test, for every registered backend."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mltrail.tracking.store.base import TrackingStore
from tests.support.stores import STORE_FACTORIES, StoreOptions, open_store

OpenStore = Callable[[StoreOptions], TrackingStore]


@pytest.fixture(
    params=[pytest.param(name, marks=list(f.marks), id=name) for name, f in STORE_FACTORIES.items()]
)
def store_kind(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    return str(request.param)


@pytest.fixture
def open_tracking_store(store_kind: str, tmp_path: Path) -> Iterator[OpenStore]:
    """Open more stores of the backend under test, with options; closed after the test."""
    with contextlib.ExitStack() as stack:
        counter = iter(range(1_000_000))

        def opener(options: StoreOptions) -> TrackingStore:
            path = tmp_path / f"store{next(counter)}"
            path.mkdir()
            return stack.enter_context(open_store(store_kind, path, options))

        yield opener


@pytest.fixture
def tracking_store(open_tracking_store: OpenStore) -> TrackingStore:
    """A fresh store of the backend under test, with default options."""
    return open_tracking_store(StoreOptions())
