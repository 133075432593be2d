"""The compare page: three real runs side by side (charts, differences, parallel coordinates, scatter)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from mltrail.tracking.entities import Metric, Param
from tests.ui.conftest import UiServer

# The parallel-coordinates and scatter plots wait for plotly.js (several MB) to load and compile:
# slow on a busy machine.
DRAW = 60_000


@dataclass
class Runs:
    """The compared runs, in URL order."""

    ids: list[str]

    @property
    def query(self) -> str:
        return ",".join(self.ids)


@pytest.fixture(scope="module")
def runs(ui_server: UiServer) -> Runs:
    client = ui_server.client
    exp = client.create_experiment("compare-page")
    ids = []
    for i, (lr, optimizer) in enumerate([("0.1", "adam"), ("0.01", "adam"), ("0.001", "adam")]):
        run = client.create_run(exp, run_name=f"run-{i}")
        rid = run.info.run_id
        start = int(run.info.start_time or 0)
        client.log_batch(
            rid,
            params=[Param("lr", lr), Param("optimizer", optimizer), Param("model", ["cnn", "mlp", "cnn"][i])],
            metrics=[Metric("loss", (i + 1) / (s + 1), start + s * 100, s) for s in range(20)]
            + [Metric("accuracy", 0.9, start, 0)],
        )
        client.set_terminated(rid)
        ids.append(rid)
    return Runs(ids)


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).fragment.split("?", 1)[1])


def test_compare_shows_runs_charts_and_differences(page: Page, ui_server: UiServer, runs: Runs) -> None:
    page.goto(ui_server.view(f"/compare?runs={runs.query}"))
    expect(page).to_have_title("Compare 3 runs · mltrail")
    listed = page.get_by_test_id("compare-run")
    expect(listed).to_have_count(3)
    for i, rid in enumerate(runs.ids):
        expect(listed.nth(i).get_by_role("link", name=f"run-{i}")).to_have_attribute("href", f"#/runs/{rid}")

    chart = page.locator('[data-testid=metric-chart][data-metric="loss"]')
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(chart).to_have_attribute("data-lines", "3")
    legend = chart.get_by_test_id("chart-legend-item")
    expect(legend).to_have_text(["run-0", "run-1", "run-2"])
    assert [legend.nth(i).get_attribute("data-points") for i in range(3)] == ["20", "20", "20"]
    expect(chart).to_have_attribute("data-points", "60")
    # The hover lists every run's value at that step.
    chart.get_by_test_id("chart-plot-area").hover()
    expect(chart.get_by_test_id("chart-tooltip").locator(".chart-tooltip-name")).to_have_text(
        ["run-0", "run-1", "run-2"]
    )
    # On the wall-time axis the runs' points fall at different x values: each line keeps its own.
    page.get_by_test_id("chart-x-axis").select_option("wall")
    expect(chart).to_have_attribute("data-x-type", "date", timeout=DRAW)
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(chart).to_have_attribute("data-lines", "3")
    expect(chart).to_have_attribute("data-points", "60")
    page.get_by_test_id("chart-x-axis").select_option("step")
    expect(chart).to_have_attribute("data-x-type", "linear", timeout=DRAW)
    # One request for the three runs, through the downsampling route.
    series_requests = [
        u
        for u in page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        if "metric-series" in u and "metric_key=loss" in u
    ]
    assert series_requests and all(parse_qs(urlsplit(u).query)["run_id"] == runs.ids for u in series_requests)

    table = page.get_by_test_id("diff-table")
    lr = table.locator('tr[data-key="params.lr"]')
    expect(lr).to_have_attribute("data-differs", "true")
    expect(lr.locator("td.diff")).to_have_count(3)
    expect(lr.locator("td")).to_have_text(["0.1", "0.01", "0.001"])
    optimizer = table.locator('tr[data-key="params.optimizer"]')
    expect(optimizer).to_have_attribute("data-differs", "false")
    expect(optimizer.locator("td.diff")).to_have_count(0)
    expect(table.locator('tr[data-key="metrics.accuracy"]')).to_have_attribute("data-differs", "false")
    expect(table.locator('tr[data-key="metrics.loss"]')).to_have_attribute("data-differs", "true")

    page.get_by_test_id("only-differences").check()
    expect(optimizer).to_have_count(0)
    expect(table.locator('tr[data-key="metrics.accuracy"]')).to_have_count(0)
    expect(lr).to_be_visible()
    assert _query(page)["diff"] == ["only"]

    parcoords = page.get_by_test_id("parcoords-chart")
    parcoords.scroll_into_view_if_needed()
    expect(parcoords).to_have_attribute("data-state", "drawn", timeout=DRAW)
    dims = page.evaluate(
        "() => { const p = document.querySelector('[data-testid=parcoords-chart] .compare-plot');"
        " return p.data[0].dimensions.map((d) => [d.label, d.ticktext || null]); }"
    )
    labels = [d[0] for d in dims]
    assert "param: lr" in labels and "metric: loss" in labels
    # A categorical param becomes ticks.
    assert ["param: model", ["cnn", "mlp"]] in dims
    expect(parcoords.locator(".parcoords")).to_have_count(1)

    scatter = page.get_by_test_id("scatter-chart")
    scatter.scroll_into_view_if_needed()
    expect(scatter).to_have_attribute("data-state", "drawn", timeout=DRAW)
    page.get_by_test_id("scatter-x").select_option("params.lr")
    page.get_by_test_id("scatter-y").select_option("metrics.loss")
    page.wait_for_function(
        "() => { const p = document.querySelector('[data-testid=scatter-chart] .compare-plot');"
        " return p.data.length === 3 && p.data[2].x[0] === 0.001"
        " && p._fullLayout.xaxis.title.text === 'param: lr'; }"
    )
    page.get_by_test_id("scatter-log-x").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=scatter-chart] .compare-plot')"
        "._fullLayout.xaxis.type === 'log'"
    )
    query = _query(page)
    assert query["sx"] == ["params.lr"] and query["sy"] == ["metrics.loss"] and query["slogx"] == ["1"]


def test_compare_choices_are_restored_from_the_url(page: Page, ui_server: UiServer, runs: Runs) -> None:
    page.goto(
        ui_server.view(
            f"/compare?runs={runs.query}&metrics=accuracy&x=relative&log=1&diff=only"
            "&pc=params.lr,metrics.loss&sx=params.model&sy=metrics.accuracy"
        )
    )
    charts = page.get_by_test_id("metric-chart")
    expect(charts).to_have_count(1)
    chart = page.locator('[data-testid=metric-chart][data-metric="accuracy"]')
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(chart).to_have_attribute("data-y-type", "log")
    expect(page.get_by_test_id("chart-x-axis")).to_have_value("relative")
    expect(page.get_by_test_id("only-differences")).to_be_checked()
    page.get_by_test_id("parcoords-chart").scroll_into_view_if_needed()
    expect(page.get_by_test_id("parcoords-chart")).to_have_attribute("data-state", "drawn", timeout=DRAW)
    labels = page.evaluate(
        "() => document.querySelector('[data-testid=parcoords-chart] .compare-plot')"
        ".data[0].dimensions.map((d) => d.label)"
    )
    assert labels == ["param: lr", "metric: loss"]
    expect(page.get_by_test_id("scatter-x")).to_have_value("params.model")
    expect(page.get_by_test_id("scatter-y")).to_have_value("metrics.accuracy")

    # Choosing the charted metrics goes into the URL.
    page.get_by_test_id("choose-compare-metrics").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("loss").check()
    dialog.get_by_role("button", name="Apply").click()
    expect(charts).to_have_count(2)
    expect(page.locator('[data-testid=metric-chart][data-metric="loss"]')).to_have_attribute(
        "data-state", "drawn", timeout=DRAW
    )
    assert _query(page)["metrics"] == ["accuracy,loss"]


def test_compare_reports_a_missing_run(page: Page, ui_server: UiServer, runs: Runs) -> None:
    missing = "ffffffffffffffffffffffffffffffff"
    page.goto(ui_server.view(f"/compare?runs={runs.ids[0]},{missing}"))
    expect(page.get_by_role("alert")).to_contain_text(f"Run {missing} could not be loaded")
    expect(page.get_by_test_id("compare-run")).to_have_count(1)
    expect(page.locator('[data-testid=metric-chart][data-metric="loss"]')).to_have_attribute(
        "data-state", "drawn", timeout=DRAW
    )


def test_compare_without_runs_explains_how(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/compare"))
    expect(page.get_by_text("No runs chosen.")).to_be_visible()
