"""Background, batched export of finished traces to a trace store.

Traces wait in a bounded queue and one worker thread writes them in batches: the spans of every
trace bound for the same experiment and run go to the store in one ``log_spans`` call. When the
queue is full the traced call waits (blocking backpressure, the default) or, when configured to
drop, the trace is counted and a warning says how many were dropped: no trace is lost silently.
Store errors are logged and counted, never raised into user code. The worker starts on the first
trace, is not a daemon, and drains the queue before the interpreter exits.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from mltrail.artifacts.base import ArtifactRepository
from mltrail.errors import BackendError
from mltrail.tracing import attributes as attr
from mltrail.tracing.convert import span_data, trace_info
from mltrail.tracing.entities import SpanData, TraceInfo
from mltrail.tracing.processor import TraceRecord
from mltrail.tracing.store.base import TraceStore

__all__ = ["ExportStats", "QueueFullPolicy", "TraceExporter"]

_logger = logging.getLogger(__name__)

QueueFullPolicy = Literal["block", "drop"]
_RETRIES = 2
_IDLE_POLL = 0.2
_SKIPPED_METADATA = frozenset({attr.TRACE_SCHEMA_VERSION_KEY})


@dataclass(frozen=True, slots=True)
class ExportStats:
    """Counters of an exporter since it was built.

    Attributes:
        submitted: Traces handed to the exporter.
        exported: Traces written to the store.
        dropped: Traces dropped because the queue was full (only with ``on_queue_full="drop"``).
        failed: Traces the store refused or could not be reached for (each one logged).
        queued: Traces waiting now.
    """

    submitted: int
    exported: int
    dropped: int
    failed: int
    queued: int


def _same_value(stored: str | None, wanted: str) -> bool:
    if stored == wanted:
        return True
    if stored is None or not wanted.startswith("{"):
        return False
    try:
        return bool(orjson.loads(stored) == orjson.loads(wanted))
    except orjson.JSONDecodeError:
        return False


def _client_knows_more(record: TraceRecord) -> bool:
    """Whether the trace has values the store cannot derive from its spans alone.

    User-set tags, metadata, ids and previews; and token usage or cost, which the client sums
    without counting a span's usage again when an enclosing span already reports it.
    """
    if record.tags or record.metadata or record.client_request_id:
        return True
    if record.request_preview is not None or record.response_preview is not None:
        return True
    for span in record.spans:
        attributes = span.attributes
        if attributes and (attr.CHAT_TOKEN_USAGE in attributes or attr.LLM_COST in attributes):
            return True
    return False


def _needs_start_trace(info: TraceInfo, stored: TraceInfo | None) -> bool:
    """Whether the store's derived info lacks something only the client knows."""
    if stored is None:
        return True
    if any(
        not _same_value(stored.trace_metadata.get(k), v)
        for k, v in info.trace_metadata.items()
        if k not in _SKIPPED_METADATA
    ):
        return True
    if any(stored.tags.get(k) != v for k, v in info.tags.items()):
        return True
    return (
        stored.state != info.state
        or stored.request_preview != info.request_preview
        or stored.response_preview != info.response_preview
        or stored.client_request_id != info.client_request_id
    )


class TraceExporter:
    """Writes finished traces to a store from a background thread.

    Args:
        store: Returns the store to write to; called on the worker thread, once per batch.
        artifact_repository: Builds the repository of an artifact location, for attachments.
        max_queue_size: Traces that may wait before backpressure (or dropping) starts.
        max_batch_size: Most traces written per batch.
        on_queue_full: ``"block"`` makes the traced call wait for room; ``"drop"`` drops the
            trace, counts it and logs a warning.
        asynchronous: False writes each trace in the thread that finished it.
        linger: Seconds a batch may wait for more traces before it is written (unless it is
            full or a flush is waiting); larger batches mean fewer store transactions.
    """

    def __init__(
        self,
        store: Callable[[], TraceStore],
        *,
        artifact_repository: Callable[[str], ArtifactRepository] | None = None,
        max_queue_size: int = 10_000,
        max_batch_size: int = 512,
        on_queue_full: QueueFullPolicy = "block",
        asynchronous: bool = True,
        linger: float = 0.05,
    ) -> None:
        if max_queue_size < 1 or max_batch_size < 1:
            raise ValueError("max_queue_size and max_batch_size must be at least 1")
        if on_queue_full not in ("block", "drop"):
            raise ValueError(f"on_queue_full must be 'block' or 'drop', not {on_queue_full!r}")
        self._store = store
        self._artifact_repository = artifact_repository
        self._queue: queue.Queue[TraceRecord] = queue.Queue(max_queue_size)
        self._max_queue_size = max_queue_size
        self._max_batch_size = max_batch_size
        self._block = on_queue_full == "block"
        self._asynchronous = asynchronous
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._hurry = threading.Event()
        self._linger = linger
        self._stopping = False
        self._pending = 0
        self._submitted = 0
        self._exported = 0
        self._dropped = 0
        self._failed = 0
        self._resources: dict[int, Mapping[str, Any]] = {}

    # -- producer side ----------------------------------------------------------------------

    def submit(self, record: TraceRecord) -> None:
        """Queue a finished trace; never raises."""
        with self._lock:
            self._submitted += 1
            self._pending += 1
            if self._stopping:
                self._pending -= 1
                self._dropped += 1
                _logger.warning(
                    "mltrail: trace %s finished after tracing shut down; dropped", record.trace_id
                )
                return
        if not self._asynchronous or threading.current_thread() is self._worker or not self._ensure_worker():
            self._export([record])
            return
        if self._block:
            while True:
                try:
                    self._queue.put(record, timeout=1.0)
                    return
                except queue.Full:
                    if not self._worker_alive() and not self._ensure_worker():
                        self._export([record])
                        return
        else:
            try:
                self._queue.put_nowait(record)
            except queue.Full:
                self._drop(record)

    def _drop(self, record: TraceRecord) -> None:
        with self._lock:
            self._dropped += 1
            dropped = self._dropped
            self._finish(1)
        if dropped == 1 or dropped % 1000 == 0:
            _logger.warning(
                "mltrail: trace export queue full (max_queue_size=%d): dropped trace %s; %d dropped "
                "so far. Use on_queue_full='block' or a larger queue to keep every trace.",
                self._max_queue_size,
                record.trace_id,
                dropped,
            )

    def _worker_alive(self) -> bool:
        worker = self._worker
        return worker is not None and worker.is_alive()

    def _ensure_worker(self) -> bool:
        """Start the worker unless it runs; False when no thread can be started (interpreter exit)."""
        if self._worker_alive():
            return True
        with self._lock:
            if self._worker is not None and self._worker.is_alive():
                return True
            worker = threading.Thread(target=self._run, name="mltrail-trace-export", daemon=False)
            try:
                worker.start()
            except RuntimeError:
                return False
            self._worker = worker
            return True

    # -- lifecycle ---------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every trace submitted so far is written (or has failed).

        Args:
            timeout: Most seconds to wait; None waits as long as it takes.

        Returns:
            True when the queue drained in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        self._hurry.set()
        with self._idle:
            while self._pending > 0:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining if remaining is not None else 1.0)
        return True

    def shutdown(self, timeout: float | None = 30.0) -> None:
        """Write what is queued, then stop the worker; later traces are dropped with a warning."""
        self.flush(timeout)
        with self._lock:
            self._stopping = True
            worker = self._worker
        self._hurry.set()
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)

    def stats(self) -> ExportStats:
        """Counters since the exporter was built."""
        with self._lock:
            return ExportStats(
                self._submitted, self._exported, self._dropped, self._failed, self._queue.qsize()
            )

    # -- worker side ---------------------------------------------------------------------------

    def _run(self) -> None:
        main = threading.main_thread()
        while True:
            try:
                first = self._queue.get(timeout=_IDLE_POLL)
            except queue.Empty:
                if self._stopping or not main.is_alive():
                    return
                continue
            self._export(self._collect(first, main))

    def _collect(self, first: TraceRecord, main: threading.Thread) -> list[TraceRecord]:
        """A batch: what is queued, and what arrives within the linger time, up to the batch size."""
        batch = [first]
        deadline = time.monotonic() + self._linger
        while len(batch) < self._max_batch_size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._hurry.is_set() or self._stopping or not main.is_alive():
                break
            try:
                batch.append(self._queue.get(timeout=min(remaining, 0.01)))
            except queue.Empty:
                continue
        if self._queue.empty():
            self._hurry.clear()
        return batch

    def _finish(self, count: int) -> None:
        """Mark ``count`` traces done; the caller holds the lock."""
        self._pending -= count
        if self._pending <= 0:
            self._idle.notify_all()

    def _count(self, exported: int, failed: int) -> None:
        with self._lock:
            self._exported += exported
            self._failed += failed
            self._finish(exported + failed)

    def _resource(self, record: TraceRecord) -> Mapping[str, Any] | None:
        if not record.spans:
            return None
        resource = record.spans[0].resource
        cached = self._resources.get(id(resource))
        if cached is None:
            cached = self._resources[id(resource)] = dict(resource.attributes)
        return cached

    def _export(self, batch: list[TraceRecord]) -> None:
        """Write a batch; every trace in it ends counted as exported or failed."""
        try:
            store = self._store()
        except Exception:
            _logger.error(
                "mltrail: cannot open the trace store; %d traces not exported", len(batch), exc_info=True
            )
            self._count(0, len(batch))
            return
        groups: dict[tuple[str, str | None], list[tuple[TraceRecord, list[SpanData]]]] = {}
        failed = 0
        for record in batch:
            try:
                resource = self._resource(record)
                spans = [
                    span_data(span, resource, span.context.span_id == record.root_span_id)
                    for span in record.spans
                ]
            except Exception:
                _logger.error("mltrail: trace %s could not be converted", record.trace_id, exc_info=True)
                failed += 1
                continue
            key = (record.destination.experiment_id, record.destination.run_id)
            groups.setdefault(key, []).append((record, spans))
        if failed:
            self._count(0, failed)
        for (experiment_id, run_id), items in groups.items():
            self._export_group(store, experiment_id, run_id, items)

    def _export_group(
        self,
        store: TraceStore,
        experiment_id: str,
        run_id: str | None,
        items: list[tuple[TraceRecord, list[SpanData]]],
    ) -> None:
        spans = [span for _, trace_spans in items for span in trace_spans]
        try:
            infos = _retrying(lambda: store.log_spans(experiment_id, spans, run_id=run_id))
        except Exception as exc:
            _logger.error(
                "mltrail: %d traces not exported to experiment %s: %s",
                len(items),
                experiment_id,
                exc,
                exc_info=not isinstance(exc, BackendError),
            )
            self._count(0, len(items))
            return
        stored = {info.trace_id: info for info in infos}
        exported = failed = 0
        for record, trace_spans in items:
            if record.partial or not trace_spans:
                exported += 1
                continue
            try:
                info = stored.get(record.trace_id)
                wanted = trace_info(record, trace_spans) if _client_knows_more(record) else None
                if wanted is not None and _needs_start_trace(wanted, info):
                    info = _retrying(lambda w=wanted: store.start_trace(w))  # type: ignore[misc]
                if record.attachments and info is not None:
                    self._upload_attachments(record, info)
                exported += 1
            except Exception as exc:
                _logger.error("mltrail: trace %s not fully exported: %s", record.trace_id, exc, exc_info=True)
                failed += 1
        self._count(exported, failed)

    def _upload_attachments(self, record: TraceRecord, info: TraceInfo) -> None:
        location = info.tags.get(attr.ARTIFACT_LOCATION)
        if not location or self._artifact_repository is None:
            _logger.warning(
                "mltrail: trace %s has %d attachments but no artifact location; not uploaded",
                record.trace_id,
                len(record.attachments),
            )
            return
        repo = self._artifact_repository(location)
        for attachment in record.attachments:
            repo.write_stream(
                f"{attr.ATTACHMENTS_DIR}/{attachment.attachment_id}", io.BytesIO(attachment.data)
            )


def _retrying(call: Callable[[], Any]) -> Any:
    """Run a store call, retrying backend (transient) failures with a short backoff."""
    for attempt in range(_RETRIES + 1):
        try:
            return call()
        except BackendError:
            if attempt == _RETRIES:
                raise
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")
