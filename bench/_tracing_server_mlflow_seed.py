"""Seed the search traces into an MLflow server's database, inside ``bench/.venv-mlflow``.

``python _tracing_server_mlflow_seed.py URI EXPERIMENT_ID LABEL TRACES ARTIFACT_ROOT`` prints one
JSON line. MLflow's OTLP ingest stores a few dozen spans a second on the benchmark machine, so
100,000 five-span traces through it would take hours. Instead the first :data:`TEMPLATES` traces
of the set go through MLflow's own ``SqlAlchemyStore.log_spans`` (the code behind its
``/v1/traces`` route), from the very payload bytes ``bench/tracing_server.py`` sends to mltrail;
every further trace ``i`` is a copy of the rows MLflow wrote for template ``i % TEMPLATES`` (trace
info, tags, metadata, spans), given trace ``i``'s id, timestamps, trace tags, session and user.
So both servers hold the same traces, ids and tag values; only the free text inside MLflow's
copied span contents (a city number) comes from the template trace.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from _tracing_server_payloads import TRACE_STEP_NS, batches, otel_trace_id, root_values, span_ids
from mlflow.entities.span import Span
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

TEMPLATES = 100  # a multiple of 10, so trace i and its template share the ``team`` tag
_CHUNK = 1000  # traces per insert transaction
_STEP_MS = TRACE_STEP_NS // 1_000_000
_TAG_KEYS = ("team", "env", "app_version")
_GENERATED = ("duration_ns",)  # computed by the database from the start and end times


_Rows = list[dict[str, Any]]
_Template = tuple[str, dict[str, Any], _Rows, _Rows, _Rows]
"""A template trace: its id, trace info row, tag rows, metadata rows and span rows."""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _spans(payload: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(payload)
    return [
        Span.from_otel_proto(span, resource=rs.resource)
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]


def _rows(
    conn: sa.Connection, table: sa.Table, column: str, ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {trace_id: [] for trace_id in ids}
    for row in conn.execute(sa.select(table).where(table.c[column].in_(ids))):
        grouped[row._mapping[column]].append(dict(row._mapping))
    return grouped


class _Cloner:
    """Turns the rows of a template trace into the rows of trace ``i``."""

    def __init__(self, label: str, templates: dict[int, _Template]) -> None:
        self.label = label
        self.templates = templates

    def rows(self, index: int) -> Iterator[tuple[str, dict[str, Any]]]:
        template = index % TEMPLATES
        old_id, info, tags, metadata, spans = self.templates[template]
        otel_id = otel_trace_id(self.label, index)
        new_id = "tr-" + otel_id.hex()
        old_b64 = _b64(otel_trace_id(self.label, template))
        new_b64 = _b64(otel_id)
        shift_ms = (index - template) * _STEP_MS
        values = root_values(index)
        yield (
            "trace_info",
            info
            | {
                "request_id": new_id,
                "timestamp_ms": info["timestamp_ms"] + shift_ms,
                "session_id": values["session.id"],
            },
        )
        for tag in tags:
            value = tag["value"]
            if tag["key"] in _TAG_KEYS:
                value = values[tag["key"]]
            elif tag["key"] == "mlflow.artifactLocation":
                value = value.replace(old_id, new_id)
            yield "trace_tags", tag | {"request_id": new_id, "value": value}
        for meta in metadata:
            value = meta["value"]
            if meta["key"] == "mlflow.trace.user":
                value = values["user.id"]
            elif meta["key"] == "mlflow.trace.session":
                value = values["session.id"]
            yield "trace_request_metadata", meta | {"request_id": new_id, "value": value}
        shift_ns = shift_ms * 1_000_000
        new_span_ids = dict(zip(span_ids(self.label, template), span_ids(self.label, index), strict=True))
        hex_ids = {old.hex(): new.hex() for old, new in new_span_ids.items()}
        b64_ids = {_b64(old): _b64(new) for old, new in new_span_ids.items()}
        for span in spans:
            content = json.loads(span["content"])
            content["trace_id"] = new_b64 if content["trace_id"] == old_b64 else content["trace_id"]
            for key in ("span_id", "parent_span_id"):
                content[key] = b64_ids.get(content[key], content[key])
            content["start_time_unix_nano"] += shift_ns
            if content.get("end_time_unix_nano") is not None:
                content["end_time_unix_nano"] += shift_ns
            attributes = content.get("attributes", {})
            attributes["mlflow.traceRequestId"] = json.dumps(new_id)
            if span["parent_span_id"] is None:
                for key in _TAG_KEYS:
                    attributes[f"mlflow.traceTag.{key}"] = json.dumps(values[key])
                attributes["session.id"] = json.dumps(values["session.id"])
                attributes["user.id"] = json.dumps(values["user.id"])
            row = {key: value for key, value in span.items() if key not in _GENERATED} | {
                "trace_id": new_id,
                "span_id": hex_ids[span["span_id"]],
                "parent_span_id": hex_ids.get(span["parent_span_id"] or "", span["parent_span_id"]),
                "start_time_unix_nano": span["start_time_unix_nano"] + shift_ns,
                "content": json.dumps(content, ensure_ascii=False),
            }
            if span["end_time_unix_nano"] is not None:
                row["end_time_unix_nano"] = span["end_time_unix_nano"] + shift_ns
            yield "spans", row


def seed(uri: str, experiment_id: str, label: str, traces: int, artifact_root: str) -> dict[str, Any]:
    """Write ``traces`` traces of set ``label`` into ``experiment_id``; returns counts and timings."""
    started = time.perf_counter()
    store = SqlAlchemyStore(uri, artifact_root)  # type: ignore[no-untyped-call]
    for payload in batches(label, min(TEMPLATES, traces), TEMPLATES):
        store.log_spans(experiment_id, _spans(payload))
    logged = time.perf_counter() - started
    meta = sa.MetaData()
    names = ("trace_info", "trace_tags", "trace_request_metadata", "spans")
    tables = {name: sa.Table(name, meta, autoload_with=store.engine) for name in names}
    ids = ["tr-" + otel_trace_id(label, i).hex() for i in range(min(TEMPLATES, traces))]
    with store.engine.connect() as conn:
        infos = {
            row["request_id"]: row
            for rows in _rows(conn, tables["trace_info"], "request_id", ids).values()
            for row in rows
        }
        tags = _rows(conn, tables["trace_tags"], "request_id", ids)
        metadata = _rows(conn, tables["trace_request_metadata"], "request_id", ids)
        spans = _rows(conn, tables["spans"], "trace_id", ids)
    templates = {i: (tid, infos[tid], tags[tid], metadata[tid], spans[tid]) for i, tid in enumerate(ids)}
    cloner = _Cloner(label, templates)
    written = {name: 0 for name in names}
    for first in range(TEMPLATES, traces, _CHUNK):
        batch: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
        for index in range(first, min(first + _CHUNK, traces)):
            for name, row in cloner.rows(index):
                batch[name].append(row)
        with store.engine.begin() as conn:
            for name in names:
                if batch[name]:
                    conn.execute(tables[name].insert(), batch[name])
                    written[name] += len(batch[name])
    return {
        "traces": traces,
        "logged_through_store": len(ids),
        "copied_rows": written,
        "log_spans_s": logged,
        "total_s": time.perf_counter() - started,
    }


if __name__ == "__main__":
    uri, experiment, set_label, count, root = sys.argv[1:6]
    print(json.dumps(seed(uri, experiment, set_label, int(count), root)))
