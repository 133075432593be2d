"""The runs table of one or several experiments: filter, sort, columns, grouping, selection, paging."""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from mltrail.tracking.entities import Metric, Param
from tests.ui.conftest import PageWatch, UiServer

T0 = 1_700_000_000_000
LRS = ["0.1", "0.01", "0.001"]


@dataclass
class LoggedRun:
    """What a test run holds, to compare with what the page shows."""

    run_id: str
    name: str
    lr: str
    loss: float
    team: str


@dataclass
class Data:
    """The experiments logged for this module."""

    alpha: str
    beta: str
    gamma: str
    big: str
    alpha_runs: list[LoggedRun] = field(default_factory=list)
    gamma_runs: list[LoggedRun] = field(default_factory=list)
    big_names: list[str] = field(default_factory=list)


def _log_runs(ui_server: UiServer, experiment_id: str, prefix: str, count: int) -> list[LoggedRun]:
    client = ui_server.client
    runs = []
    for i in range(count):
        lr = LRS[i % 3]
        team = "red" if i % 2 else "blue"
        # Distinct losses; one NaN to see it spelled out.
        loss = float("nan") if i == 7 else round(1.0 / (i + 1) + (i % 3) * 0.01, 6)
        run = client.create_run(
            experiment_id, start_time=T0 + i * 60_000, run_name=f"{prefix}-{i:02d}", tags={"team": team}
        )
        run_id = run.info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("loss", loss, T0, 0), Metric("acc", i / count, T0, 0)],
            params=[Param("lr", lr), Param("opt", "adam" if i % 4 else "sgd")],
        )
        client.set_terminated(
            run_id, "FAILED" if i % 5 == 0 else "FINISHED", end_time=T0 + i * 60_000 + 1000 * (i + 1)
        )
        runs.append(LoggedRun(run_id, f"{prefix}-{i:02d}", lr, loss, team))
    return runs


@pytest.fixture(scope="module")
def data(ui_server: UiServer) -> Data:
    client = ui_server.client
    d = Data(
        alpha=client.create_experiment("alpha"),
        beta=client.create_experiment("beta"),
        gamma=client.create_experiment("gamma"),
        big=client.create_experiment("big"),
    )
    d.alpha_runs = _log_runs(ui_server, d.alpha, "alpha", 40)
    _log_runs(ui_server, d.beta, "beta", 20)
    d.gamma_runs = _log_runs(ui_server, d.gamma, "gamma", 6)
    for i in range(2000):
        name = f"big-{i:04d}"
        client.create_run(d.big, start_time=T0 + i * 1000, run_name=name)
        d.big_names.append(name)
    return d


def _table(page: Page) -> Locator:
    return page.get_by_test_id("runs-table")


def _ready(page: Page) -> Locator:
    table = _table(page)
    expect(table).to_have_attribute("data-state", "ready")
    return table


def _rows(page: Page) -> Locator:
    return _table(page).get_by_test_id("run-row")


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unquote(page.url.split("#", 1)[1])).query)


def test_runs_table_shows_runs_with_links_badges_and_nan(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha}"))
    _ready(page)
    expect(page.get_by_test_id("experiment-title")).to_have_text("alpha")
    expect(page).to_have_title("alpha · mltrail")
    expect(page.get_by_test_id("runs-count")).to_have_text("40 runs")
    # Default order: newest first.
    first = _rows(page).first
    expect(first.get_by_role("link", name="alpha-39")).to_have_attribute(
        "href", f"#/runs/{data.alpha_runs[39].run_id}"
    )
    expect(_table(page)).to_have_attribute("data-sort", "")
    failed = _table(page).locator(f'[data-run-id="{data.alpha_runs[35].run_id}"]')
    expect(failed.locator(".badge")).to_have_text("FAILED")
    # alpha-07 (NaN loss) is near the end: only rows in view are in the DOM.
    _table(page).evaluate("el => { el.scrollTop = el.scrollHeight; }")
    nan_row = _table(page).locator(f'[data-run-id="{data.alpha_runs[7].run_id}"]')
    expect(nan_row.locator('[data-column="metrics.loss"]')).to_have_text("NaN")
    expect(_table(page).locator('[data-testid=column-header][data-column="params.lr"]')).to_be_visible()


def test_filter_narrows_rows_and_bad_filter_keeps_them(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha}"))
    _ready(page)
    box = page.get_by_label("Filter runs")
    box.fill("params.lr = '0.1' and metrics.loss < 0.1")
    box.press("Enter")
    expected = {
        r.run_id for r in data.alpha_runs if r.lr == "0.1" and not math.isnan(r.loss) and r.loss < 0.1
    }
    expect(_rows(page)).to_have_count(len(expected))
    _ready(page)
    assert set(_rows(page).evaluate_all("rows => rows.map(r => r.dataset.runId)")) == expected
    assert _query(page)["filter"] == ["params.lr = '0.1' and metrics.loss < 0.1"]

    box.fill("metrics.loss <<< 3")
    page.get_by_role("button", name="Search").click()
    alert = page.get_by_test_id("filter-error")
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("Expected numeric value")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(_rows(page)).to_have_count(len(expected))
    _ready(page)
    assert _query(page)["filter"] == ["params.lr = '0.1' and metrics.loss < 0.1"]

    # An example filter runs straight away.
    page.get_by_role("button", name="attributes.status = 'FAILED'").click()
    expect(_rows(page)).to_have_count(8)
    expect(alert).to_be_empty()


def test_sort_by_metric_header_orders_rows(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha}"))
    _ready(page)
    finite = [r for r in data.alpha_runs if not math.isnan(r.loss)]
    highest = max(finite, key=lambda r: r.loss)
    lowest = min(finite, key=lambda r: r.loss)
    header = _table(page).locator('[data-testid=column-header][data-column="metrics.loss"]')
    header.click()
    expect(_table(page)).to_have_attribute("data-sort", "metrics.loss DESC")
    _ready(page)
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(_rows(page).first).to_have_attribute("data-run-id", highest.run_id)
    header.click()
    expect(_table(page)).to_have_attribute("data-sort", "metrics.loss ASC")
    _ready(page)
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(_rows(page).first).to_have_attribute("data-run-id", lowest.run_id)
    assert _query(page)["sort"] == ["metrics.loss"]
    assert _query(page)["dir"] == ["asc"]
    # A param header sorts as text, ascending first; the keyboard reaches it as a button.
    lr_header = _table(page).locator('[data-testid=column-header][data-column="params.lr"]')
    lr_header.get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(_table(page)).to_have_attribute("data-sort", "params.lr ASC")
    _ready(page)
    expect(_rows(page).first.locator('[data-column="params.lr"]')).to_have_text("0.001")
    expect(lr_header.get_by_role("button")).to_be_focused()
    page.reload()
    expect(_table(page)).to_have_attribute("data-sort", "params.lr ASC")
    _ready(page)


def test_column_chooser_adds_a_param_column_kept_in_url(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha}"))
    _ready(page)
    opt_header = _table(page).locator('[data-testid=column-header][data-column="params.opt"]')
    # The first three params are shown by default: lr and opt; drop status, add the team tag.
    page.get_by_test_id("columns-button").click()
    chooser = page.get_by_test_id("column-chooser")
    expect(chooser).to_be_visible()
    chooser.get_by_label("Filter columns").fill("team")
    expect(chooser.get_by_label("team")).to_be_visible()
    expect(chooser.get_by_label("Run ID")).to_be_hidden()
    chooser.get_by_label("team").check()
    chooser.get_by_label("Filter columns").fill("")
    chooser.get_by_label("opt").uncheck()
    chooser.get_by_label("Status").uncheck()
    page.keyboard.press("Escape")
    expect(chooser).to_be_hidden()
    team_header = _table(page).locator('[data-testid=column-header][data-column="tags.team"]')
    expect(team_header).to_be_visible()
    expect(opt_header).to_have_count(0)
    cols = _query(page)["cols"][0].split(",")
    assert "tags.team" in cols and "params.opt" not in cols and "attributes.status" not in cols
    page.reload()
    _ready(page)
    expect(team_header).to_be_visible()
    expect(opt_header).to_have_count(0)
    expect(
        _table(page).locator('[data-testid=column-header][data-column="attributes.status"]')
    ).to_have_count(0)
    row = _table(page).locator(f'[data-run-id="{data.alpha_runs[39].run_id}"]')
    expect(row.locator('[data-column="tags.team"]')).to_have_text(data.alpha_runs[39].team)


def test_grouping_by_param_shows_counts_and_aggregates(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha}?cols=attributes.run_name,metrics.loss"))
    _ready(page)
    page.get_by_label("Group by").select_option("params.lr")
    groups = page.get_by_test_id("group-row")
    expect(groups).to_have_count(3)
    for lr in LRS:
        members = [r for r in data.alpha_runs if r.lr == lr]
        row = page.locator(f'[data-testid=group-row][data-value="{lr}"]')
        expect(row.get_by_test_id("group-count")).to_have_text(str(len(members)))
        finite = [r.loss for r in members if not math.isnan(r.loss)]
        if len(finite) == len(members):
            expect(row.locator('[data-metric="loss"][data-stat="min"]')).to_have_text(_fmt(min(finite)))
            expect(row.locator('[data-metric="loss"][data-stat="max"]')).to_have_text(_fmt(max(finite)))
            expect(row.locator('[data-metric="loss"][data-stat="mean"]')).to_have_text(
                _fmt(statistics.fmean(finite))
            )
    assert _query(page)["group"] == ["params.lr"]
    # Expanding a group lists exactly its runs.
    page.get_by_role("button", name="0.01").click()
    detail = page.locator(".group-detail:not([hidden])")
    expect(detail.get_by_test_id("run-row")).to_have_count(sum(1 for r in data.alpha_runs if r.lr == "0.01"))
    page.reload()
    expect(page.get_by_role("button", name="0.01")).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Group by")).to_have_value("params.lr")


def _fmt(value: float) -> str:
    """The page's number format (6 significant digits)."""
    if value == int(value):
        return str(int(value))
    return f"{float(f'{value:.6g}')}"


def test_select_runs_then_compare(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha}"))
    _ready(page)
    rows = _rows(page)
    # The keyboard selects too, and the focus stays on the box.
    rows.nth(0).get_by_role("checkbox").focus()
    page.keyboard.press("Space")
    expect(rows.nth(0).get_by_role("checkbox")).to_be_checked()
    expect(rows.nth(0).get_by_role("checkbox")).to_be_focused()
    # Shift-click selects the range from the last clicked row.
    rows.nth(3).get_by_role("checkbox").click(modifiers=["Shift"])
    expect(page.get_by_test_id("selected-count")).to_have_text("4 selected")
    ids = [data.alpha_runs[i].run_id for i in (39, 38, 37, 36)]
    assert _query(page)["sel"][0].split(",") == ids
    page.reload()
    _ready(page)
    expect(page.get_by_test_id("selected-count")).to_have_text("4 selected")
    expect(rows.nth(2).get_by_role("checkbox")).to_be_checked()
    page.get_by_test_id("compare-button").click()
    expect(page).to_have_url(re.compile(r"#/compare\?runs="))
    assert _query(page)["runs"][0].split(",") == ids


def test_select_all_and_delete_then_restore(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.gamma}"))
    _ready(page)
    expect(_rows(page)).to_have_count(6)
    _rows(page).nth(0).get_by_role("checkbox").check()
    _rows(page).nth(1).get_by_role("checkbox").check()
    page.get_by_test_id("delete-runs").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(_rows(page)).to_have_count(4)
    _ready(page)
    deleted_ids = {data.gamma_runs[5].run_id, data.gamma_runs[4].run_id}
    assert {
        r.run_id
        for r in data.gamma_runs
        if ui_server.client.get_run(r.run_id).info.lifecycle_stage == "deleted"
    } == deleted_ids

    page.get_by_role("radio", name="Deleted").check()
    expect(_rows(page)).to_have_count(2)
    assert set(_rows(page).evaluate_all("rows => rows.map(r => r.dataset.runId)")) == deleted_ids
    assert _query(page)["view"] == ["deleted"]
    page.get_by_test_id("select-all").check()
    expect(page.get_by_test_id("selected-count")).to_have_text("2 selected")
    page.get_by_test_id("restore-runs").click()
    page.get_by_role("dialog").get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("runs-empty")).to_be_visible()
    page.get_by_role("radio", name="All").check()
    expect(_rows(page)).to_have_count(6)
    page.get_by_role("radio", name="Active").check()
    expect(_rows(page)).to_have_count(6)
    assert all(ui_server.client.get_run(r.run_id).info.lifecycle_stage == "active" for r in data.gamma_runs)


def test_several_experiments_together(page: Page, ui_server: UiServer, data: Data) -> None:
    page.goto(ui_server.view(f"/experiments/{data.alpha},{data.beta}"))
    _ready(page)
    expect(page.get_by_test_id("experiment-title")).to_have_text("2 experiments")
    expect(page.get_by_test_id("runs-count")).to_have_text("60 runs")
    expect(
        _table(page).locator('[data-testid=column-header][data-column="attributes.experiment_id"]')
    ).to_be_visible()
    # The newest run is alpha-39; its experiment shows by name, linked.
    experiment_cell = _rows(page).first.locator('[data-column="attributes.experiment_id"]')
    expect(experiment_cell.get_by_role("link", name="alpha")).to_have_attribute(
        "href", f"#/experiments/{data.alpha}"
    )
    page.get_by_label("Filter runs").fill("attributes.run_name LIKE 'beta-1%'")
    page.get_by_label("Filter runs").press("Enter")
    expect(_rows(page)).to_have_count(10)


def test_virtual_scrolling_keeps_few_rows_and_reaches_the_last(
    page: Page, ui_server: UiServer, data: Data
) -> None:
    page.goto(ui_server.view(f"/experiments/{data.big}"))
    table = _ready(page)
    expect(page.get_by_test_id("runs-count")).to_have_text("2,000 runs")
    expect(_rows(page).first).to_contain_text("big-1999")
    assert _rows(page).count() < 100
    # The scroll height covers every run, so the scrollbar is right before the rows are loaded.
    assert table.evaluate("el => el.scrollHeight") >= 2000 * 32
    table.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    last = table.locator("[data-testid=run-row]", has_text="big-0000")
    expect(last).to_be_visible()
    _ready(page)
    assert _rows(page).count() < 100
    # The middle loads too when jumped to directly.
    table.evaluate("el => { el.scrollTop = 1000 * 32; }")
    expect(table.locator("[data-testid=run-row]", has_text="big-0999")).to_be_visible()
    _ready(page)
    assert _rows(page).count() < 100


def test_first_search_goes_out_before_the_other_requests(
    page: Page, ui_server: UiServer, data: Data, watch: PageWatch
) -> None:
    page.goto(ui_server.view(f"/experiments/{data.big}"))
    _ready(page)
    expect(page.get_by_test_id("runs-count")).to_have_text("2,000 runs")
    api = [u for u in watch.requests if "/ajax-api/" in u]
    first_search = next(i for i, u in enumerate(api) if u.endswith("/mlflow/runs/search"))
    columns = next(i for i, u in enumerate(api) if "/ui/experiments/columns" in u)
    header = next(i for i, u in enumerate(api) if "/mlflow/experiments/get" in u)
    count = next(i for i, u in enumerate(api) if u.endswith("/ui/runs/count"))
    assert first_search < min(columns, header)
    assert first_search < count < columns


def test_bad_filter_in_the_url_is_reported_and_runs_still_shown(
    page: Page, ui_server: UiServer, data: Data
) -> None:
    page.goto(ui_server.view(f"/experiments/{data.gamma}?filter=params.lr%20%3D%200.1"))
    expect(page.get_by_test_id("filter-error")).to_contain_text("quoted string value")
    _ready(page)
    expect(_rows(page)).to_have_count(6)
    expect(page.get_by_label("Filter runs")).to_have_value("params.lr = 0.1")
