"""Choose the trace store for a tracking URI: SQL for database URIs, REST for ``http(s)://``.

The adapter module is imported only when a store is built, so importing this module stays light.
"""

from __future__ import annotations

from collections.abc import Callable

from mltrail._plugins import TRACKING_STORES, load_object
from mltrail.artifacts.paths import uri_scheme
from mltrail.config import Settings
from mltrail.errors import InvalidArgumentError
from mltrail.tracing.store.base import TraceStore

__all__ = ["resolve_trace_store"]

_SQL = "mltrail.tracing.store.sql:SqlTraceStore"
_REST = "mltrail.tracing.store.rest:RestTraceStore"


def resolve_trace_store(uri: str, settings: Settings) -> TraceStore:
    """Build the trace store that serves ``uri``.

    Args:
        uri: A tracking URI (``sqlite:///...``, ``postgresql://...``, ``mysql://...``, ``http(s)://...``).
        settings: Configuration of REST stores (timeouts, retries, credentials).

    Returns:
        A new store.

    Raises:
        InvalidArgumentError: the URI's scheme has no trace store.
    """
    entry = TRACKING_STORES.get(uri_scheme(uri))
    if entry is None:
        raise InvalidArgumentError(f"No trace store serves the tracking URI {uri!r}")
    if entry.kind == "sql":
        sql_cls: Callable[[str], TraceStore] = load_object(_SQL)
        return sql_cls(uri)
    rest_cls: Callable[[str, Settings], TraceStore] = load_object(_REST)
    return rest_cls(uri, settings)
