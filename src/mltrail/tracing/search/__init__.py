"""Search grammar of traces (spec TRACING §5): filter clauses and order-by keys, pure logic.

SQL stores compile the parsed :class:`TraceClause` list into queries.
"""

from __future__ import annotations

from mltrail.tracing.search.grammar import (
    TraceClause,
    TraceEntity,
    TraceOrderKey,
    check_max_results,
    parse_trace_filter,
    parse_trace_order_by,
)

__all__ = [
    "TraceClause",
    "TraceEntity",
    "TraceOrderKey",
    "check_max_results",
    "parse_trace_filter",
    "parse_trace_order_by",
]
