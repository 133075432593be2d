"""The three UI measurements, in Debian's Chromium through Playwright, for mltrail and for MLflow.

Every measurement opens a fresh browser context (empty cache, no local storage) and a page of
1440 x 900. Times are read from the page's own clock (``performance.now()``), so Playwright's
round trips are not counted:

* ``first_rows``: from the navigation's start (the page's time origin) until the runs table's
  first row is visible;
* ``resort``: from the click on the sort control (a capturing ``pointerdown`` listener stamps it)
  until the table's first row is the run with the highest ``m0``;
* ``big_chart``: from the navigation's start until the chart of the big metric is drawn with its
  data.

Conditions are polled on every animation frame (``wait_for_function(polling="raf")``), which
returns the page's clock at the first frame the condition holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _ui_data import BIG_METRIC, BenchData
from playwright.sync_api import Browser, Page, Playwright

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCENARIOS",
    "Side",
    "launch",
    "measure_once",
    "mlflow_side",
    "mltrail_side",
]

CHROMIUM = "/usr/bin/chromium"
# The flags of the UI tests (tests/ui/conftest.py): without the background-networking ones
# Chromium reaches for the network on start-up.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 300_000
SCENARIOS = ("first_rows", "resort", "big_chart")

# Stamps the first pointerdown of the page, before any handler of the page's own code runs.
_STAMP_CLICK = """() => {
  window.__benchClickAt = undefined;
  window.addEventListener("pointerdown", () => {
    if (window.__benchClickAt === undefined) window.__benchClickAt = performance.now();
  }, { capture: true });
}"""

# -- mltrail: the hooks its pages keep for this benchmark --------------------------------------

_MLTRAIL_FIRST_ROW = """() => {
  const row = document.querySelector('[data-testid="run-row"]');
  return row && row.getClientRects().length > 0 ? performance.now() : 0;
}"""
_MLTRAIL_SORTED = """(topRunId) => {
  const table = document.querySelector('[data-testid="runs-table"]');
  if (!table || table.dataset.state !== "ready") return 0;
  if (!(table.dataset.sort || "").startsWith("metrics.m0")) return 0;
  const row = table.querySelector('[data-testid="run-row"]');
  return row && row.dataset.runId === topRunId ? performance.now() : 0;
}"""
_MLTRAIL_CHART = f"""() => {{
  const chart = document.querySelector('[data-testid="metric-chart"][data-metric="{BIG_METRIC}"]');
  return chart && chart.dataset.state === "drawn" ? performance.now() : 0;
}}"""

# -- MLflow 3.17.2: its runs table is an ag-grid, its run charts plotly -------------------------

_MLFLOW_FIRST_ROW_LINK = '.ag-row[row-index="0"] a[href*="/runs/"]'
_MLFLOW_FIRST_ROW = f"""() => {{
  const link = document.querySelector('{_MLFLOW_FIRST_ROW_LINK}');
  return link && link.getClientRects().length > 0 ? performance.now() : 0;
}}"""
_MLFLOW_SORTED = f"""(topRunName) => {{
  const link = document.querySelector('{_MLFLOW_FIRST_ROW_LINK}');
  return link && link.textContent.trim() === topRunName ? performance.now() : 0;
}}"""
# The metric's chart card shows a skeleton until the sampled history is in, then a plotly graph
# whose trace holds the points (MLflow asks for 320). The drawn path is not a measure of the data:
# plotly simplifies it (about 40 segments for this curve in the card's width).
_MLFLOW_CHART = """() => {
  const cards = '[data-testid="experiment-view-compare-runs-card"]';
  for (const plot of document.querySelectorAll(`${cards} .js-plotly-plot`)) {
    const traces = plot.data || [];
    const line = plot.querySelector(".scatterlayer path.js-line");
    if (plot._fullLayout && line && (line.getAttribute("d") || "").length > 0
        && traces.some((trace) => (trace.x || []).length >= 100)) return performance.now();
  }
  return 0;
}"""


@dataclass(frozen=True)
class Side:
    """One tool's UI: how each scenario is driven on a page. Each returns milliseconds."""

    tool: str
    base_url: str
    data: BenchData
    first_rows: Callable[[Page, Side], float]
    resort: Callable[[Page, Side], float]
    big_chart: Callable[[Page, Side], float]

    def scenario(self, name: str) -> Callable[[Page, Side], float]:
        """The driver of one of :data:`SCENARIOS`."""
        driver: Callable[[Page, Side], float] = getattr(self, name)
        return driver


def _wait_clock(page: Page, condition: str, arg: object = None) -> float:
    """The page's clock at the first animation frame where ``condition`` returns a time."""
    handle = page.wait_for_function(condition, arg=arg, polling="raf", timeout=TIMEOUT_MS)
    value = handle.json_value()
    handle.dispose()
    return float(value)


def _click_time(page: Page, click: Callable[[], None], condition: str, arg: object) -> float:
    """Milliseconds from the pointerdown of ``click`` until ``condition`` holds."""
    page.evaluate(_STAMP_CLICK)
    click()
    done = _wait_clock(page, condition, arg)
    started = page.evaluate("() => window.__benchClickAt")
    if started is None:
        raise RuntimeError("the click never reached the page")
    return done - float(started)


# -- mltrail -----------------------------------------------------------------------------------


def _mltrail_runs_url(side: Side) -> str:
    return f"{side.base_url}/#/experiments/{side.data.experiment_id}"


def _mltrail_first_rows(page: Page, side: Side) -> float:
    page.goto(_mltrail_runs_url(side), wait_until="commit")
    return _wait_clock(page, _MLTRAIL_FIRST_ROW)


def _mltrail_resort(page: Page, side: Side) -> float:
    page.goto(_mltrail_runs_url(side))
    page.locator('[data-testid="runs-table"][data-state="ready"] [data-testid="run-row"]').first.wait_for()
    header = page.locator('[data-testid="column-header"][data-column="metrics.m0"]')
    header.wait_for()
    return _click_time(page, header.click, _MLTRAIL_SORTED, side.data.top_run_id)


def _mltrail_big_chart(page: Page, side: Side) -> float:
    url = f"{side.base_url}/#/runs/{side.data.big_run_id}?tab=metrics&metrics={BIG_METRIC}"
    page.goto(url, wait_until="commit")
    return _wait_clock(page, _MLTRAIL_CHART)


def mltrail_side(base_url: str, data: BenchData) -> Side:
    """mltrail's UI at ``base_url`` on ``data``."""
    return Side("mltrail", base_url, data, _mltrail_first_rows, _mltrail_resort, _mltrail_big_chart)


# -- MLflow ------------------------------------------------------------------------------------

# ``workflowType`` picks MLflow's "Model training" navigation (its runs table) over the GenAI one
# it opens by default; it is the URL MLflow's own toggle produces.
_MLFLOW_WORKFLOW = "workflowType=machine_learning"


def _mlflow_runs_url(side: Side) -> str:
    return f"{side.base_url}/#/experiments/{side.data.experiment_id}/runs?{_MLFLOW_WORKFLOW}"


def _mlflow_first_rows(page: Page, side: Side) -> float:
    page.goto(_mlflow_runs_url(side), wait_until="commit")
    return _wait_clock(page, _MLFLOW_FIRST_ROW)


def _mlflow_resort(page: Page, side: Side) -> float:
    page.goto(_mlflow_runs_url(side))
    page.locator(_MLFLOW_FIRST_ROW_LINK).first.wait_for()
    # MLflow sorts from a menu: opening it is the step before the timed click (as scrolling the
    # m0 header into view is for mltrail); descending is the menu's default direction.
    page.get_by_test_id("sort-select-dropdown").click()
    item = page.get_by_test_id("sort-select-m0")
    item.wait_for()
    return _click_time(page, item.click, _MLFLOW_SORTED, side.data.top_run_name)


def _mlflow_big_chart(page: Page, side: Side) -> float:
    data = side.data
    url = (
        f"{side.base_url}/#/experiments/{data.big_experiment_id}/runs/{data.big_run_id}/model-metrics"
        f"?{_MLFLOW_WORKFLOW}"
    )
    page.goto(url, wait_until="commit")
    return _wait_clock(page, _MLFLOW_CHART)


def mlflow_side(base_url: str, data: BenchData) -> Side:
    """MLflow's UI at ``base_url`` on ``data``."""
    return Side("mlflow", base_url, data, _mlflow_first_rows, _mlflow_resort, _mlflow_big_chart)


# -- running ------------------------------------------------------------------------------------


def launch(pw: Playwright) -> Browser:
    """Debian's Chromium, headless, with the UI tests' flags."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def measure_once(browser: Browser, side: Side, scenario: str, screenshot: Path | None = None) -> float:
    """One measurement of ``scenario`` on ``side`` in a fresh browser context; milliseconds.

    Args:
        browser: The running browser.
        side: The tool's UI.
        scenario: One of :data:`SCENARIOS`.
        screenshot: Where to save the page once measured (to check what was measured), if anywhere.
    """
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        try:
            return side.scenario(scenario)(page, side)
        finally:
            # Also after a timeout: the picture shows where the page got stuck.
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
    finally:
        context.close()
