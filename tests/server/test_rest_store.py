"""``RestTrackingStore`` against a real server: the same error classes as the SQL store, wire details."""

from __future__ import annotations

import math
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from mltrail.config import Settings
from mltrail.errors import (
    AlreadyExistsError,
    BackendError,
    BadRequestError,
    EndpointNotFoundError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    NotImplementedFeatureError,
)
from mltrail.tracking.entities import Metric, Param, RunStatus, RunTag, ViewType
from mltrail.tracking.store.rest import RestTrackingStore
from tests.server.api_helpers import unique
from tests.server.conftest import ServedApp


@pytest.fixture
def store(server: ServedApp) -> Iterator[RestTrackingStore]:
    rest = RestTrackingStore(server.url + "/", Settings(http_max_retries=0))
    yield rest
    rest.close()


def test_round_trip_of_every_kind(store: RestTrackingStore) -> None:
    experiment_id = store.create_experiment(unique(), tags=[("k", "v")])
    assert store.get_experiment(experiment_id).tags == {"k": "v"}
    run = store.create_run(experiment_id, user_id="bob", start_time=5, tags=[RunTag("a", "b")], run_name="r")
    run_id = run.info.run_id
    store.log_batch(
        run_id,
        metrics=[Metric("m", math.nan, 1, 0), Metric("m", 2.0, 2, 1)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "2")],
    )
    fetched = store.get_run(run_id)
    assert fetched.info.user_id == "bob" and fetched.info.start_time == 5
    assert fetched.data.params == {"p": "1"}
    assert fetched.data.tags["t"] == "2" and fetched.data.tags["a"] == "b"
    assert fetched.data.metrics == {"m": 2.0}
    history = store.get_metric_history(run_id, "m").items
    assert math.isnan(history[0].value) and history[1].value == 2.0
    info = store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=9)
    assert info.status is RunStatus.FINISHED and info.end_time == 9
    page = store.search_runs([experiment_id], "params.p = '1'", ViewType.ALL, 10)
    assert [r.info.run_id for r in page] == [run_id]


def test_errors_map_to_the_same_classes(store: RestTrackingStore) -> None:
    name = unique()
    experiment_id = store.create_experiment(name)
    with pytest.raises(AlreadyExistsError):
        store.create_experiment(name)
    with pytest.raises(NotFoundError):
        store.get_run("0" * 32)
    with pytest.raises(NotFoundError):
        store.get_experiment_by_name(unique())
    run_id = store.create_run(experiment_id).info.run_id
    store.log_param(run_id, Param("p", "1"))
    with pytest.raises(InvalidArgumentError):
        store.log_param(run_id, Param("p", "2"))
    store.delete_experiment(experiment_id)
    with pytest.raises(InvalidStateError):
        store.rename_experiment(experiment_id, unique())
    with pytest.raises(InvalidArgumentError):
        store.log_metric(run_id, Metric("m", "1.0", 1))  # type: ignore[arg-type]


def test_gc_extension_rpcs(store: RestTrackingStore) -> None:
    experiment_id = store.create_experiment(unique())
    run_id = store.create_run(experiment_id).info.run_id
    store.delete_run(run_id)
    assert run_id in store.list_deleted_runs()
    assert run_id not in store.list_deleted_runs(older_than_ms=10**9)
    store.purge_run(run_id)
    with pytest.raises(NotFoundError):
        store.get_run(run_id)
    with pytest.raises(NotFoundError):
        store.purge_run(run_id)


def test_unreachable_server_is_a_backend_error() -> None:
    rest = RestTrackingStore("http://127.0.0.1:9", Settings(http_max_retries=0, http_timeout=2))
    with pytest.raises(BackendError, match="Cannot reach"):
        rest.get_experiment("0")


class _HtmlErrors(BaseHTTPRequestHandler):
    """Answers like a server without a route: 404 (or 400 for ``/bad``) with an HTML body."""

    def do_GET(self) -> None:
        status = 400 if "bad" in self.path else 404
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>nope</html>")

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def html_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlErrors)
    Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_non_json_errors_map_by_status(html_server: str) -> None:
    rest = RestTrackingStore(html_server, Settings(http_max_retries=0))
    with pytest.raises(EndpointNotFoundError):
        rest.get_run("a" * 32)
    with pytest.raises(NotImplementedFeatureError, match="not an mltrail server"):
        rest.purge_run("a" * 32)
    bad = RestTrackingStore(html_server + "/bad", Settings(http_max_retries=0))
    with pytest.raises(BadRequestError):
        bad.get_run("a" * 32)
