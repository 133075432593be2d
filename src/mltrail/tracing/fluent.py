"""``search_traces``: find traces of the fluent API's store as a DataFrame or a list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from mltrail.errors import InvalidArgumentError, MissingDependencyError
from mltrail.tracing.entities import Trace, TraceInfo
from mltrail.tracing.setup import trace_store
from mltrail.tracing.store.base import SEARCH_TRACES_MAX_RESULTS_LIMIT
from mltrail.tracking import _fluent_state as fluent_state

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["search_traces", "trace_to_dict"]

_COLUMNS = (
    "trace_id",
    "trace",
    "client_request_id",
    "state",
    "request_time",
    "execution_duration",
    "request",
    "response",
    "trace_metadata",
    "tags",
    "spans",
)


def _span_dict(trace: Trace) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "span_id": s.span_id,
            "parent_span_id": s.parent_span_id,
            "span_type": s.span_type,
            "status_code": s.status_code,
            "start_time_unix_nano": s.start_time_unix_nano,
            "end_time_unix_nano": s.end_time_unix_nano,
            "attributes": dict(s.attributes),
        }
        for s in trace.spans
    ]


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """A trace as plain data: the info's fields and the spans' main fields."""
    info = trace.info
    return {
        "trace_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "client_request_id": info.client_request_id,
        "state": info.state.value,
        "request_time": info.request_time,
        "execution_duration": info.execution_duration,
        "request_preview": info.request_preview,
        "response_preview": info.response_preview,
        "trace_metadata": dict(info.trace_metadata),
        "tags": dict(info.tags),
        "spans": _span_dict(trace),
    }


def _infos(
    experiment_ids: Sequence[str],
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
) -> list[TraceInfo]:
    store = trace_store()
    found: list[TraceInfo] = []
    token: str | None = None
    while len(found) < max_results:
        page = store.search_traces(
            experiment_ids,
            filter_string=filter_string,
            max_results=min(max_results - len(found), SEARCH_TRACES_MAX_RESULTS_LIMIT),
            order_by=order_by,
            page_token=token,
        )
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    return found


@overload
def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    return_type: Literal["pandas"] = "pandas",
) -> pd.DataFrame: ...


@overload
def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    *,
    return_type: Literal["list"],
) -> list[Trace]: ...


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
    return_type: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[Trace]:
    """Search traces with their spans.

    Args:
        experiment_ids: Experiments to search (default: the active experiment).
        filter_string: Filter such as ``"tags.env = 'prod' AND status = 'OK'"`` (spec TRACING.md §5).
        max_results: Most traces returned.
        order_by: Items like ``"timestamp_ms DESC"``.
        return_type: ``"pandas"`` for a DataFrame (one row per trace: ``trace_id``, ``trace``,
            ``state``, ``request_time``, ``execution_duration``, ``request``, ``response``,
            ``trace_metadata``, ``tags``, ``spans`` ...) or ``"list"`` for :class:`Trace` objects.

    Returns:
        The traces, newest first unless ordered otherwise.

    Raises:
        InvalidArgumentError: bad arguments or filter.
        MissingDependencyError: ``return_type="pandas"`` without pandas installed.
    """
    if return_type not in ("pandas", "list"):
        raise InvalidArgumentError(f"return_type must be 'pandas' or 'list', not {return_type!r}")
    if max_results < 1:
        raise InvalidArgumentError(f"max_results must be positive, got {max_results}")
    ids = [str(e) for e in experiment_ids] if experiment_ids else [fluent_state.current_experiment_id()]
    infos = _infos(ids, filter_string, max_results, order_by)
    by_id = {t.info.trace_id: t for t in trace_store().batch_get_traces([i.trace_id for i in infos])}
    traces = [by_id.get(info.trace_id, Trace(info)) for info in infos]
    if return_type == "list":
        return traces
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingDependencyError("pandas", "data") from exc
    rows = [
        {
            "trace_id": t.info.trace_id,
            "trace": t,
            "client_request_id": t.info.client_request_id,
            "state": t.info.state.value,
            "request_time": t.info.request_time,
            "execution_duration": t.info.execution_duration,
            "request": t.info.request_preview,
            "response": t.info.response_preview,
            "trace_metadata": dict(t.info.trace_metadata),
            "tags": dict(t.info.tags),
            "spans": _span_dict(t),
        }
        for t in traces
    ]
    return pd.DataFrame(rows, columns=list(_COLUMNS))
