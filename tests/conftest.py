"""Root test configuration: a clean ``MLTRAIL_*`` environment per test and directory-based markers.

``MLTRAIL_TEST_*`` variables (server URIs for the test databases) configure the test run itself
and are kept; every other ``MLTRAIL_*`` variable is removed for the duration of each test. At the
end of the session the PostgreSQL template databases of ``tests.support.databases`` are dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import drop_templates

_TESTS_DIR = Path(__file__).parent
_DIRECTORY_MARKERS = {"integration": "integration", "ui": "ui"}


@pytest.fixture(scope="session", autouse=True)
def _drop_template_databases() -> Iterator[None]:
    """Drop the PostgreSQL template databases this test process created (any test directory)."""
    yield
    drop_templates()


@pytest.fixture(autouse=True)
def _clean_mltrail_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MLTRAIL_") and not name.startswith("MLTRAIL_TEST_"):
            monkeypatch.delenv(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        try:
            relative = item.path.relative_to(_TESTS_DIR)
        except ValueError:
            continue
        marker = _DIRECTORY_MARKERS.get(relative.parts[0]) if relative.parts else None
        if marker:
            item.add_marker(marker)
