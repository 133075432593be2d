"""``InMemoryTraceStore``: a complete trace store in a dict, for tests and in-process use.

It keeps the rules of the ``TraceStore`` contract that a client can observe (upserts by span id,
trace infos derived from spans with previews of the root's inputs and outputs, merges of
``start_trace``, run links, tags, deletion). Its
search understands the common subset of the filter grammar: ``AND`` of comparisons on
``status``, ``name``, ``run_id``, ``request_id``, ``client_request_id``, ``timestamp(_ms)``,
``execution_time(_ms)``, ``tags.<k>`` and ``metadata.<k>``.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracing import attributes as attr
from mltrail.tracing.entities import SpanData, Trace, TraceInfo, TraceState, mlflow_trace_id
from mltrail.tracing.store.base import (
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    SEARCH_TRACES_MAX_RESULTS_LIMIT,
    TraceStore,
)
from mltrail.tracking.entities import Page

__all__ = ["InMemoryTraceStore"]

_CLAUSE = re.compile(
    r"^\s*(?P<key>[\w.]+|(?:tags?|metadata|request_metadata)\.`[^`]+`)\s*"
    r"(?P<op>!=|>=|<=|=|>|<|LIKE|ILIKE)\s*(?P<value>'(?:[^']*)'|-?\d+(?:\.\d+)?)\s*$",
    re.IGNORECASE,
)
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


def _like(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile("^" + re.escape(pattern).replace("%", ".*").replace("_", ".") + "$", flags)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if actual is None:
        return op == "!="
    op = op.upper()
    if op == "LIKE":
        return bool(_like(str(expected), 0).match(str(actual)))
    if op == "ILIKE":
        return bool(_like(str(expected), re.IGNORECASE).match(str(actual)))
    if isinstance(expected, float | int) and not isinstance(actual, int | float):
        return False
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    return ops[op](actual, expected)


def _field(info: TraceInfo, key: str) -> Any:
    prefix, _, name = key.partition(".")
    name = name.strip("`")
    if prefix in ("tags", "tag") and name:
        return info.tags.get(name)
    if prefix in ("metadata", "request_metadata") and name:
        return info.trace_metadata.get(name)
    bare = name if prefix in ("attributes", "trace") and name else key
    values: dict[str, Any] = {
        "status": info.state.value,
        "name": info.tags.get(attr.TRACE_NAME),
        "run_id": info.trace_metadata.get(attr.SOURCE_RUN),
        "request_id": info.trace_id,
        "client_request_id": info.client_request_id,
        "timestamp": info.request_time,
        "timestamp_ms": info.request_time,
        "execution_time": info.execution_duration,
        "execution_time_ms": info.execution_duration,
    }
    if bare not in values:
        raise InvalidArgumentError(f"Invalid filter key {key!r}: valid keys are {sorted(values)}")
    return values[bare]


def _matcher(filter_string: str | None) -> Callable[[TraceInfo], bool]:
    if not filter_string or not filter_string.strip():
        return lambda info: True
    clauses: list[tuple[str, str, Any]] = []
    for part in _AND.split(filter_string.strip()):
        match = _CLAUSE.match(part)
        if match is None:
            raise InvalidArgumentError(f"Invalid clause(s) in filter string: {part!r}")
        raw = match["value"]
        value: Any = raw[1:-1] if raw.startswith("'") else float(raw) if "." in raw else int(raw)
        clauses.append((match["key"], match["op"], value))
    return lambda info: all(_compare(_field(info, k), op, v) for k, op, v in clauses)


def _preview(value: Any) -> str | None:
    """Preview of a root input or output: the string itself, else its JSON, cut to 1000 chars."""
    if value is None:
        return None
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    limit = attr.MAX_PREVIEW_CHARS
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sort_key(key: str) -> Callable[[TraceInfo], tuple[bool, Any]]:
    def sort_key(info: TraceInfo) -> tuple[bool, Any]:
        value = _field(info, key)
        return (value is None, value if value is not None else 0)

    return sort_key


class InMemoryTraceStore(TraceStore):
    """A thread-safe trace store held in memory.

    Args:
        artifact_root: Root of trace artifact locations; trace ``T`` of experiment ``E`` gets tag
            ``mlflow.artifactLocation = <artifact_root>/<E>/traces/<T>/artifacts``.
    """

    def __init__(self, artifact_root: str = "memory://traces") -> None:
        self._artifact_root = artifact_root.rstrip("/")
        self._lock = threading.Lock()
        self._infos: dict[str, TraceInfo] = {}
        self._spans: dict[str, dict[str, SpanData]] = {}
        self.log_spans_calls = 0
        """How many times :meth:`log_spans` was called (tests check batching with it)."""

    def _location(self, experiment_id: str, trace_id: str) -> str:
        return f"{self._artifact_root}/{experiment_id}/traces/{trace_id}/artifacts"

    def _derive(self, trace_id: str, experiment_id: str, run_id: str | None) -> TraceInfo:
        spans = list(self._spans[trace_id].values())
        start = min(s.start_time_unix_nano for s in spans)
        ends = [s.end_time_unix_nano for s in spans if s.end_time_unix_nano is not None]
        root = next((s for s in spans if s.is_root), None)
        old = self._infos.get(trace_id)
        if root is None or root.end_time_unix_nano is None:
            state = TraceState.IN_PROGRESS
        else:
            state = TraceState.ERROR if root.status_code == "ERROR" else TraceState.OK
        tags = dict(old.tags) if old else {}
        tags.setdefault(attr.SPANS_LOCATION, "TRACKING_STORE")
        tags.setdefault(attr.ARTIFACT_LOCATION, self._location(experiment_id, trace_id))
        metadata = dict(old.trace_metadata) if old else {}
        request_preview = old.request_preview if old else None
        response_preview = old.response_preview if old else None
        if root is not None:
            tags[attr.TRACE_NAME] = root.name
            request_preview = _preview(root.attributes.get(attr.SPAN_INPUTS))
            response_preview = _preview(root.attributes.get(attr.SPAN_OUTPUTS))
            for key, value in root.attributes.items():
                if key.startswith(attr.TRACE_TAG_PREFIX):
                    tags[key[len(attr.TRACE_TAG_PREFIX) :]] = str(value)
        if run_id is not None:
            metadata[attr.SOURCE_RUN] = run_id
        return TraceInfo(
            trace_id=trace_id,
            experiment_id=old.experiment_id if old else experiment_id,
            request_time=start // 1_000_000,
            execution_duration=(max(ends) - start) // 1_000_000 if ends else None,
            state=state if not old or state != TraceState.IN_PROGRESS else old.state,
            request_preview=request_preview,
            response_preview=response_preview,
            client_request_id=old.client_request_id if old else None,
            trace_metadata=metadata,
            tags=tags,
        )

    def log_spans(
        self, experiment_id: str, spans: Sequence[SpanData], *, run_id: str | None = None
    ) -> list[TraceInfo]:
        """Upsert spans and derive the info of each trace touched (see ``TraceStore``)."""
        with self._lock:
            self.log_spans_calls += 1
            touched: list[str] = []
            for span in spans:
                trace_id = mlflow_trace_id(span.trace_id)
                if trace_id not in self._spans:
                    self._spans[trace_id] = {}
                if trace_id not in touched:
                    touched.append(trace_id)
                self._spans[trace_id][span.span_id] = span
            for trace_id in touched:
                self._infos[trace_id] = self._derive(trace_id, experiment_id, run_id)
            return [self._infos[t] for t in touched]

    def start_trace(self, info: TraceInfo) -> TraceInfo:
        """Create or complete a trace info; given metadata and tags win over stored ones."""
        with self._lock:
            old = self._infos.get(info.trace_id)
            tags = {**(old.tags if old else {}), **info.tags}
            tags.setdefault(attr.SPANS_LOCATION, "TRACKING_STORE")
            tags.setdefault(attr.ARTIFACT_LOCATION, self._location(info.experiment_id, info.trace_id))
            metadata = {**(old.trace_metadata if old else {}), **info.trace_metadata}
            metadata["mlflow.trace.infoFinalized"] = "true"
            stored = replace(info, tags=tags, trace_metadata=metadata)
            self._infos[info.trace_id] = stored
            self._spans.setdefault(info.trace_id, {})
            return stored

    def _info(self, trace_id: str) -> TraceInfo:
        info = self._infos.get(trace_id)
        if info is None:
            raise NotFoundError(f"Trace with ID '{trace_id}' not found.")
        return info

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        """The info of one trace; ``NotFoundError`` when unknown."""
        with self._lock:
            return self._info(trace_id)

    def get_trace(self, trace_id: str) -> Trace:
        """One trace with its spans; ``NotFoundError`` when unknown."""
        with self._lock:
            return Trace(self._info(trace_id), tuple(self._spans.get(trace_id, {}).values()))

    def batch_get_traces(self, trace_ids: Sequence[str]) -> list[Trace]:
        """The known traces among ``trace_ids``, with their spans."""
        with self._lock:
            return [
                Trace(self._infos[t], tuple(self._spans.get(t, {}).values()))
                for t in trace_ids
                if t in self._infos
            ]

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[TraceInfo]:
        """Search trace infos (filter subset described in the module docstring)."""
        if not 0 < max_results <= SEARCH_TRACES_MAX_RESULTS_LIMIT:
            raise InvalidArgumentError(
                f"max_results must be between 1 and {SEARCH_TRACES_MAX_RESULTS_LIMIT}, got {max_results}"
            )
        matches = _matcher(filter_string)
        wanted = {str(e) for e in experiment_ids}
        with self._lock:
            found = [i for i in self._infos.values() if i.experiment_id in wanted and matches(i)]
        found.sort(key=lambda i: i.trace_id)
        keys = list(order_by or ["timestamp_ms DESC"])
        for item in reversed(keys):
            key, _, direction = item.strip().partition(" ")
            found.sort(key=_sort_key(key), reverse=direction.strip().upper() == "DESC")
        offset = int(orjson.loads(base64.b64decode(page_token))["offset"]) if page_token else 0
        items = found[offset : offset + max_results]
        more = offset + max_results < len(found)
        token = base64.b64encode(orjson.dumps({"offset": offset + max_results})).decode() if more else None
        return Page(items, token)

    def delete_traces(
        self,
        experiment_id: str,
        *,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        """Delete traces by ids or by age and return how many were deleted."""
        if (trace_ids is None) == (max_timestamp_millis is None):
            raise InvalidArgumentError("Pass exactly one of trace_ids or max_timestamp_millis")
        with self._lock:
            infos = [i for i in self._infos.values() if i.experiment_id == str(experiment_id)]
            if trace_ids is not None:
                doomed = [i.trace_id for i in infos if i.trace_id in set(trace_ids)]
            else:
                assert max_timestamp_millis is not None
                old = sorted(
                    (i for i in infos if i.request_time <= max_timestamp_millis),
                    key=lambda i: i.request_time,
                )
                doomed = [i.trace_id for i in old[:max_traces]]
            for trace_id in doomed:
                del self._infos[trace_id]
                self._spans.pop(trace_id, None)
            return len(doomed)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        """Set a tag of a trace."""
        with self._lock:
            info = self._info(trace_id)
            self._infos[trace_id] = replace(info, tags={**info.tags, key: value})

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        """Delete a tag of a trace."""
        with self._lock:
            info = self._info(trace_id)
            if key not in info.tags:
                raise NotFoundError(f"No tag {key!r} on trace {trace_id}")
            self._infos[trace_id] = replace(info, tags={k: v for k, v in info.tags.items() if k != key})

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        """Link traces to a run (metadata ``mlflow.sourceRun``)."""
        if len(trace_ids) > 100:
            raise InvalidArgumentError("At most 100 traces can be linked to a run at once")
        with self._lock:
            for trace_id in trace_ids:
                info = self._info(trace_id)
                metadata = {**info.trace_metadata, attr.SOURCE_RUN: run_id}
                self._infos[trace_id] = replace(info, trace_metadata=metadata)
