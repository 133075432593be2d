"""The web UI in Debian's stock Firefox ESR, driven over WebDriver BiDi (tests/support/bidi.py).

The Chromium tests (Playwright) cover the behaviour in depth; these open every page once in
Firefox on real logged data and check what the page shows, with the same readiness attributes
(``data-state``, ``data-testid`` ...). Every test also fails on a console error or an uncaught
exception and on a request to any origin other than the server's, and keeps a screenshot under
``test-output/ui/firefox/`` (or ``$MLTRAIL_TEST_OUTPUT/ui/firefox``).

One Firefox runs per module (per xdist worker); each test gets a fresh tab.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest

import mltrail
from mltrail.registry.client import RegistryClient
from mltrail.tracing import setup
from mltrail.tracking import _fluent_state
from mltrail.tracking.entities import Metric, Param
from tests.support.bidi import FIREFOX, Firefox, Tab, firefox_path, launch_firefox
from tests.ui.conftest import _ALLOWED_CONSOLE, OUTPUT_DIR, UiServer, _screenshot_name

T0 = 1_700_000_000_000
LRS = ["0.1", "0.01", "0.001"]
LONG_POINTS = 300
MODEL = "ff-model"
# Charts and the first page of a cold browser can be slow on a busy 2-core machine.
DRAW = 60.0
WAIT = 20.0


@dataclass(frozen=True)
class Run:
    """A logged run as the tests expect the pages to show it."""

    run_id: str
    name: str
    lr: str
    opt: str
    loss: float


@dataclass(frozen=True)
class Data:
    """What the module logged into the server."""

    experiment_id: str
    experiment_name: str
    runs: list[Run]
    long_run_id: str
    traces_experiment_id: str
    agent_trace_id: str
    quick_trace_id: str


def _log_traces(ui_server: UiServer) -> tuple[str, str, str]:
    """Two traces with spans in their own experiment: (experiment id, agent trace, quick trace)."""
    setup.reset()
    mltrail.set_tracking_uri(ui_server.url)
    try:
        experiment = mltrail.set_experiment("ff-traces")

        @mltrail.trace(span_type="TOOL")
        def lookup(query: str) -> dict[str, list[str]]:
            return {"hits": [query, query.upper()]}

        @mltrail.trace(span_type="AGENT")
        def agent(question: str) -> str:
            mltrail.update_current_trace(session_id="sess-ff", user_id="firefox-user")
            lookup(question)
            with mltrail.start_span("llm", span_type="CHAT_MODEL") as span:
                span.set_inputs({"prompt": question})
                span.set_token_usage(input_tokens=7, output_tokens=5)
                span.set_outputs({"answer": "forty-two"})
            return "forty-two"

        @mltrail.trace
        def quick(x: int) -> int:
            return x * 2

        quick(21)
        agent("what is the answer?")
        assert mltrail.flush_traces(120)
        by_name = {
            t.info.tags["mlflow.traceName"]: t.info.trace_id
            for t in mltrail.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
        }
        return experiment.experiment_id, by_name["agent"], by_name["quick"]
    finally:
        setup.reset()
        _fluent_state._reset()


@pytest.fixture(scope="module")
def data(ui_server: UiServer) -> Data:
    """An experiment of six runs plus one long run, a registered model, and two traces."""
    client = ui_server.client
    name = "firefox-runs"
    exp = client.create_experiment(name)
    runs = []
    for i in range(6):
        lr = LRS[i % 3]
        opt = "adam" if i % 2 else "sgd"
        run = client.create_run(
            exp, start_time=T0 + i * 60_000, run_name=f"ff-{i}", tags={"team": "red", "mlflow.user": "ada"}
        )
        rid = run.info.run_id
        loss = round(1.0 / (i + 1), 6)
        client.log_batch(
            rid,
            params=[Param("lr", lr), Param("opt", opt), Param("model", "mlp")],
            metrics=[Metric("loss", loss * 20 / (s + 1), T0 + s * 100, s) for s in range(20)]
            + [Metric("acc", 0.5 + i / 20, T0, 0)],
        )
        client.set_terminated(rid, end_time=T0 + i * 60_000 + 5_000)
        runs.append(Run(rid, f"ff-{i}", lr, opt, loss))
    long_run = client.create_run(exp, start_time=T0 + 10 * 60_000, run_name="ff-long")
    client.log_batch(
        long_run.info.run_id,
        metrics=[Metric("loss", 1.0 / (s + 1) + (s % 7) * 0.01, T0 + s * 10, s) for s in range(LONG_POINTS)],
    )
    client.set_terminated(long_run.info.run_id)

    registry = RegistryClient(ui_server.url)
    try:
        registry.create_registered_model(MODEL, {"owner": "firefox"}, "Registered for the Firefox tests.")
        registry.create_model_version(MODEL, f"runs:/{runs[0].run_id}/model", run_id=runs[0].run_id)
        registry.set_registered_model_alias(MODEL, "champion", "1")
    finally:
        registry.close()

    traces_exp, agent, quick = _log_traces(ui_server)
    return Data(exp, name, runs, long_run.info.run_id, traces_exp, agent, quick)


@pytest.fixture(scope="module")
def firefox() -> Iterator[Firefox]:
    """One headless Firefox ESR for the module; missing Firefox fails (CI installs it)."""
    if firefox_path() is None:
        pytest.fail(f"{FIREFOX} is not installed: run `make browsers` (it installs Chromium and Firefox ESR)")
    with launch_firefox() as browser:
        yield browser
        browser.drain()
        # The profile turns off the browser's own traffic (updates, telemetry, ...): none may leave.
        outside = [
            u for u in browser.background_requests if urlsplit(u).hostname not in ("127.0.0.1", "localhost")
        ]
        assert not outside, f"Firefox made requests of its own: {outside}"


@pytest.fixture
def tab(firefox: Firefox, ui_server: UiServer, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A fresh tab; fails the test on console errors, uncaught exceptions or foreign requests."""
    tab = firefox.new_tab()
    yield tab
    try:
        tab.screenshot(OUTPUT_DIR / "firefox" / _screenshot_name(request.node.nodeid))
    finally:
        errors = [f"{e.kind}: {e.text}" for e in tab.errors if not _ALLOWED_CONSOLE.search(e.text)]
        requests = tab.requests
        tab.close()
    origin = urlsplit(ui_server.url).netloc
    foreign = [
        u
        for u in requests
        if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != origin
    ]
    assert not foreign, f"requests outside the server's origin: {foreign}"
    assert not errors, f"console errors or uncaught exceptions: {errors}"
    assert requests, "the page made no request at all: the network events were not recorded"


def _q(selector: str) -> str:
    """``selector`` as a JavaScript string literal."""
    return json.dumps(selector)


def _text(tab: Tab, selector: str) -> str:
    """The trimmed text of the first element matching ``selector`` ('' when there is none)."""
    return str(tab.evaluate(f"document.querySelector({_q(selector)})?.textContent.trim() ?? ''"))


def _attr(tab: Tab, selector: str, name: str) -> str | None:
    """Attribute ``name`` of the first element matching ``selector`` (None when absent)."""
    value = tab.evaluate(f"document.querySelector({_q(selector)})?.getAttribute({_q(name)}) ?? null")
    return None if value is None else str(value)


def _count(tab: Tab, selector: str) -> int:
    return int(tab.evaluate(f"document.querySelectorAll({_q(selector)}).length"))


def _wait_text(tab: Tab, selector: str, text: str, timeout: float = WAIT) -> None:
    """Wait until the first element matching ``selector`` has exactly ``text``."""
    tab.wait_for(f"document.querySelector({_q(selector)})?.textContent.trim() === {_q(text)}", timeout)


def _wait_attr(tab: Tab, selector: str, name: str, value: str, timeout: float = WAIT) -> None:
    """Wait until the first element matching ``selector`` has attribute ``name`` == ``value``."""
    tab.wait_for(f"document.querySelector({_q(selector)})?.getAttribute({_q(name)}) === {_q(value)}", timeout)


def _wait_count(tab: Tab, selector: str, count: int, timeout: float = WAIT) -> None:
    tab.wait_for(f"document.querySelectorAll({_q(selector)}).length === {count}", timeout)


def _row_ids(tab: Tab) -> list[str]:
    return list(
        tab.evaluate(
            "[...document.querySelectorAll('[data-testid=runs-table] [data-testid=run-row]')]"
            ".map((r) => r.dataset.runId)"
        )
    )


RUNS_TABLE = "[data-testid=runs-table]"


def _open_runs(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view(f"/experiments/{data.experiment_id}"))
    _wait_attr(tab, RUNS_TABLE, "data-state", "ready")
    _wait_text(tab, "[data-testid=runs-count]", "7 runs")


def test_the_client_records_errors_and_requests(firefox: Firefox, ui_server: UiServer) -> None:
    """The checks every test relies on catch what they should (so a quiet page means no errors)."""
    tab = firefox.new_tab()
    try:
        tab.navigate(ui_server.view("/experiments"))
        tab.evaluate("console.error('deliberate console error'), true")
        tab.evaluate("setTimeout(() => { throw new Error('deliberate uncaught error'); }, 0), true")
        tab.wait_for("new Promise((resolve) => setTimeout(() => resolve(true), 50))")
        tab.wait_for("true")
        errors = {(e.kind, e.text) for e in tab.errors}
        assert ("console", "deliberate console error") in errors
        assert ("javascript", "Error: deliberate uncaught error") in errors
        assert f"{ui_server.url}/static-files/js/main.js" in tab.requests
    finally:
        tab.close()


def test_experiments_list(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view("/experiments"))
    row = f'[data-testid=experiment-row] a[href="#/experiments/{data.experiment_id}"]'
    _wait_text(tab, row, data.experiment_name)
    assert tab.evaluate("document.title") == "Experiments · mltrail"
    names = tab.evaluate(
        "[...document.querySelectorAll('[data-testid=experiment-row]')].map((r) => r.textContent)"
    )
    assert any("ff-traces" in n for n in names) and any("Default" in n for n in names)


def test_runs_table_filters_and_sorts(tab: Tab, ui_server: UiServer, data: Data) -> None:
    _open_runs(tab, ui_server, data)
    assert tab.evaluate("document.title") == f"{data.experiment_name} · mltrail"
    assert _text(tab, "[data-testid=experiment-title]") == data.experiment_name
    assert len(_row_ids(tab)) == 7
    newest = data.runs[-1]
    first = f"{RUNS_TABLE} [data-testid=run-row]"
    assert _text(tab, f"{first} a.run-link") == "ff-long"
    cell = f'{RUNS_TABLE} [data-run-id="{newest.run_id}"] [data-column="params.lr"]'
    assert _text(tab, cell) == newest.lr

    # The filter box, typed into with the keyboard and submitted with Enter.
    tab.click("#runs-filter")
    tab.type_text("params.lr = '0.1'")
    tab.press("Enter")
    expected = {r.run_id for r in data.runs if r.lr == "0.1"}
    _wait_count(tab, f"{RUNS_TABLE} [data-testid=run-row]", len(expected))
    _wait_attr(tab, RUNS_TABLE, "data-state", "ready")
    assert set(_row_ids(tab)) == expected
    assert "filter=params.lr" in str(tab.evaluate("location.hash"))

    # A click on the loss header sorts by it, highest first.
    tab.click(f'{RUNS_TABLE} [data-testid=column-header][data-column="metrics.loss"] button')
    _wait_attr(tab, RUNS_TABLE, "data-sort", "metrics.loss DESC")
    _wait_attr(tab, RUNS_TABLE, "data-state", "ready")
    by_loss = sorted((r for r in data.runs if r.lr == "0.1"), key=lambda r: r.loss, reverse=True)
    tab.wait_for(f"document.querySelector({_q(first)})?.dataset.runId === {_q(by_loss[0].run_id)}", WAIT)
    assert _row_ids(tab) == [r.run_id for r in by_loss]
    header = f'{RUNS_TABLE} [data-testid=column-header][data-column="metrics.loss"]'
    assert tab.evaluate(f"document.querySelector({_q(header)}).getAttribute('aria-sort')") == "descending"


def _tab_until(tab: Tab, predicate: str, limit: int = 60) -> list[str]:
    """Press Tab until the JavaScript ``predicate`` holds for ``el`` (the focused element).

    Returns a short description of each element the focus passed through.
    """
    passed: list[str] = []
    probe = (
        "(() => { const el = document.activeElement;"
        " const name = el ? `${el.tagName.toLowerCase()}#${el.id}.${el.className}`"
        " + ` ${(el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 30)}` : '';"
        f" return [name, !!(el && ({predicate}))]; }})()"
    )
    for _ in range(limit):
        tab.press("Tab")
        name, matched = tab.evaluate(probe)
        passed.append(name)
        if matched:
            return passed
    raise AssertionError(f"Tab never reached {predicate!r}; the focus went through {passed}")


def test_keyboard_reaches_the_filter_and_opens_a_run(tab: Tab, ui_server: UiServer, data: Data) -> None:
    _open_runs(tab, ui_server, data)
    # From the start of the page (nothing focused), Tab reaches the filter box...
    assert tab.evaluate("document.activeElement === document.body")
    _tab_until(tab, "el.id === 'runs-filter'")
    # ... typing there filters ...
    tab.type_text("params.opt = 'adam'")
    tab.press("Enter")
    adam = [r for r in data.runs if r.opt == "adam"]
    _wait_count(tab, f"{RUNS_TABLE} [data-testid=run-row]", len(adam))
    _wait_attr(tab, RUNS_TABLE, "data-state", "ready")
    # ... and further Tabs reach the first run's link, which Enter opens.
    _tab_until(tab, "el.matches('a.run-link')")
    name = str(tab.evaluate("document.activeElement.textContent"))
    target = next(r for r in adam if r.name == name)
    tab.press("Enter")
    tab.wait_for(f"location.hash === {_q('#/runs/' + target.run_id)}", WAIT)
    _wait_text(tab, "[data-testid=run-name]", target.name)


def test_run_page_overview(tab: Tab, ui_server: UiServer, data: Data) -> None:
    run = data.runs[1]
    tab.navigate(ui_server.view(f"/runs/{run.run_id}"))
    _wait_text(tab, "[data-testid=run-name]", run.name)
    assert tab.evaluate("document.title") == f"{run.name} · mltrail"
    assert _text(tab, "[data-testid=run-status]") == "FINISHED"
    assert _text(tab, "[data-testid=run-id]") == run.run_id
    assert _text(tab, "[data-testid=run-user]") == "ada"
    assert _text(tab, "[data-testid=run-experiment-link]") == data.experiment_name
    assert _text(tab, "[data-testid=params-table] tr[data-key=lr] td:nth-child(2)") == run.lr
    assert _count(tab, "[data-testid=params-table] tbody tr") == 3
    assert _text(tab, "[data-testid=latest-metrics] tr[data-key=loss] [data-testid=metric-value]") == "0.5"
    assert "red" in _text(tab, "[data-testid=tags-table] tr[data-key=team]")


def test_run_page_metric_chart(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view(f"/runs/{data.long_run_id}?tab=metrics&metrics=loss"))
    chart = '[data-testid=metric-chart][data-metric="loss"]'
    _wait_attr(tab, chart, "data-state", "drawn", DRAW)
    attrs = tab.evaluate(
        f"(() => {{ const c = document.querySelector({_q(chart)}); return {{"
        " points: c.dataset.points, lines: c.dataset.lines, x: c.dataset.xType, y: c.dataset.yType,"
        " range: c.dataset.xRange }; })()"
    )
    assert int(attrs["points"]) == LONG_POINTS
    assert attrs["lines"] == "1" and attrs["x"] == "linear" and attrs["y"] == "linear"
    assert attrs["range"] == f"0,{LONG_POINTS - 1}"
    # uPlot drew on its canvas: some pixels are painted.
    painted = tab.evaluate(
        f"(() => {{ const canvas = document.querySelector({_q(chart + ' canvas')});"
        " const { width, height } = canvas; if (!width || !height) return 0;"
        " const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;"
        " let n = 0; for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) n++; return n; })()"
    )
    assert painted > 100


def test_compare_page(tab: Tab, ui_server: UiServer, data: Data) -> None:
    compared = data.runs[:3]
    tab.navigate(ui_server.view(f"/compare?runs={','.join(r.run_id for r in compared)}"))
    _wait_count(tab, "[data-testid=compare-run]", 3)
    assert tab.evaluate("document.title") == "Compare 3 runs · mltrail"
    chart = '[data-testid=metric-chart][data-metric="loss"]'
    _wait_attr(tab, chart, "data-state", "drawn", DRAW)
    assert tab.evaluate(f"document.querySelector({_q(chart)}).dataset.lines") == "3"
    assert int(tab.evaluate(f"document.querySelector({_q(chart)}).dataset.points")) == 60
    legend = tab.evaluate(
        f"[...document.querySelectorAll({_q(chart + ' [data-testid=chart-legend-item]')})]"
        ".map((e) => e.textContent.trim())"
    )
    assert legend == [r.name for r in compared]
    table = "[data-testid=diff-table]"
    lr = f'{table} tr[data-key="params.lr"]'
    assert _attr(tab, lr, "data-differs") == "true"
    cells = tab.evaluate(
        f"[...document.querySelectorAll({_q(lr + ' td')})].map((td) => td.textContent.trim())"
    )
    assert cells == [r.lr for r in compared]
    same = f'{table} tr[data-key="params.model"]'
    assert _attr(tab, same, "data-differs") == "false"
    assert _attr(tab, f'{table} tr[data-key="metrics.acc"]', "data-differs") == "true"


def test_registered_models_list(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view("/models"))
    _wait_attr(tab, "[data-testid=models-table]", "data-state", "ready")
    assert tab.evaluate("document.title") == "Models · mltrail"
    row = f'[data-testid=model-row][data-model-name="{MODEL}"]'
    text = _text(tab, row)
    assert "v1" in text and "Registered for the Firefox tests." in text and "owner" in text
    assert _text(tab, f"{row} .badge.alias") == "@champion"


def test_model_version_page(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view(f"/models/{quote(MODEL)}/versions/1"))
    tab.wait_for(f"document.title === {_q(f'{MODEL} v1 · Models · mltrail')}", WAIT)
    overview = "[data-testid=version-overview]"
    tab.wait_for(f"document.querySelector({_q(overview)})", WAIT)
    source = data.runs[0].run_id
    assert tab.evaluate(
        f"document.querySelector({_q(overview + ' a[href=' + json.dumps('#/runs/' + source) + ']')}) !== null"
    )
    assert _text(tab, "[data-testid=version-stage]") == "None"
    tab.wait_for(
        "document.querySelector('[data-testid=version-aliases]')?.textContent.includes('champion')", WAIT
    )


def test_traces_list(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view(f"/experiments/{data.traces_experiment_id}/traces"))
    _wait_attr(tab, "[data-testid=traces-table]", "data-state", "ready")
    _wait_count(tab, "[data-testid=trace-row]", 2)
    assert tab.evaluate("document.title") == "Traces · ff-traces · mltrail"
    agent = f'[data-testid=trace-row][data-trace-id="{data.agent_trace_id}"]'
    assert _text(tab, f'{agent} td[data-column="name"]') == "agent"
    assert _text(tab, f'{agent} td[data-column="status"]') == "OK"
    assert _text(tab, f'{agent} td[data-column="tokens"]') == "12 (7 / 5)"
    assert _text(tab, f'{agent} td[data-column="user"]') == "firefox-user"
    # Newest first: the agent ran last.
    assert (
        tab.evaluate("document.querySelector('[data-testid=trace-row]').dataset.traceId")
        == data.agent_trace_id
    )


def test_trace_view(tab: Tab, ui_server: UiServer, data: Data) -> None:
    tab.navigate(ui_server.view(f"/traces/{data.agent_trace_id}"))
    _wait_count(tab, "[role=tree] [role=treeitem]", 3)
    assert tab.evaluate("document.title") == "agent · Trace · mltrail"
    spans = tab.evaluate(
        "[...document.querySelectorAll('[role=tree] [role=treeitem]')]"
        ".map((e) => [e.dataset.spanName, e.getAttribute('aria-level')])"
    )
    assert spans == [["agent", "1"], ["lookup", "2"], ["llm", "2"]]
    assert "agent" in _text(tab, "[data-testid=trace-title]")
    assert _text(tab, "[data-testid=trace-facts] [data-fact=user] dd") == "firefox-user"
    details = "[data-testid=span-details]"
    _wait_text(tab, f"{details} h2", "agent")
    # A click on a span shows its inputs and outputs.
    tab.click("[data-span-name=llm] > .span-row")
    _wait_text(tab, f"{details} h2", "llm")
    outputs = f"{details} [data-testid=span-outputs]"
    tab.wait_for(f"document.querySelector({_q(outputs)})?.textContent.includes('forty-two')", WAIT)
    assert "7 in · 5 out · 12 total" in _text(tab, details)
    assert (
        tab.evaluate("document.querySelector('[data-span-name=llm]').getAttribute('aria-selected')") == "true"
    )
