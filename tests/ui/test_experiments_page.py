"""The experiments list: search, sort, paging, create / rename / delete / restore, opening several."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.ui.conftest import UiServer


@pytest.fixture(scope="module")
def experiments(ui_server: UiServer) -> dict[str, str]:
    client = ui_server.client
    ids = {name: client.create_experiment(name) for name in ("vision-resnet", "vision-vit", "nlp-bert")}
    # Enough to need a second page (the page asks for 50 at a time).
    for i in range(52):
        ids[f"sweep-{i:02d}"] = client.create_experiment(f"sweep-{i:02d}")
    return ids


def _rows(page: Page) -> Locator:
    return page.get_by_test_id("experiment-row")


def _row(page: Page, name: str) -> Locator:
    return _rows(page).filter(has=page.get_by_role("link", name=name, exact=True))


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(unquote(page.url.split("#", 1)[1])).query)


def test_search_narrows_the_list_and_is_kept_in_the_url(
    page: Page, ui_server: UiServer, experiments: dict[str, str]
) -> None:
    page.goto(ui_server.view("/experiments"))
    expect(page).to_have_title("Experiments · mltrail")
    expect(_rows(page)).to_have_count(50)
    page.get_by_label("Search experiments by name").fill("VISION")
    expect(_rows(page)).to_have_count(2)
    expect(_row(page, "vision-resnet").get_by_role("link")).to_have_attribute(
        "href", f"#/experiments/{experiments['vision-resnet']}"
    )
    assert _query(page)["q"] == ["VISION"]
    page.reload()
    expect(page.get_by_label("Search experiments by name")).to_have_value("VISION")
    expect(_rows(page)).to_have_count(2)
    page.get_by_label("Search experiments by name").fill("no-such-thing")
    expect(page.get_by_text("No experiment name contains")).to_be_visible()


def test_sort_by_name_and_load_more_pages(
    page: Page, ui_server: UiServer, experiments: dict[str, str]
) -> None:
    page.goto(ui_server.view("/experiments"))
    header = page.locator('th[data-column="name"]')
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(_rows(page).first).to_contain_text("Default")
    expect(_rows(page).nth(1)).to_contain_text("nlp-bert")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(_rows(page).first).to_contain_text("vision-vit")
    assert _query(page)["sort"] == ["name"] and _query(page)["dir"] == ["desc"]
    expect(_rows(page)).to_have_count(50)
    page.get_by_test_id("load-more").click()
    total = len(ui_server.client.search_experiments(max_results=1000))
    expect(_rows(page)).to_have_count(total)
    expect(page.get_by_test_id("load-more")).to_have_count(0)
    expect(_rows(page).last).to_contain_text("Default")


def test_create_rename_delete_and_restore(
    page: Page, ui_server: UiServer, experiments: dict[str, str]
) -> None:
    page.goto(ui_server.view("/experiments?q=lifecycle"))
    expect(page.get_by_text("No experiment name contains")).to_be_visible()
    page.get_by_test_id("create-experiment").click()
    dialog = page.get_by_role("dialog", name="New experiment")
    dialog.get_by_label("Name").fill("lifecycle-a")
    dialog.get_by_label("Artifact location (optional)").fill(str(ui_server.workdir / "custom-root"))
    dialog.get_by_role("button", name="Create").click()
    expect(dialog).to_be_hidden()
    expect(_row(page, "lifecycle-a")).to_have_count(1)
    created = ui_server.client.get_experiment_by_name("lifecycle-a")
    assert created.artifact_location.endswith("custom-root")

    # A name that exists: the server's message, inside the dialog, which stays open.
    page.get_by_test_id("create-experiment").click()
    dialog.get_by_label("Name").fill("lifecycle-a")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    _row(page, "lifecycle-a").get_by_role("button", name="Rename lifecycle-a").click()
    rename = page.get_by_role("dialog", name="Rename “lifecycle-a”")
    rename.get_by_label("New name").fill("vision-vit")
    rename.get_by_role("button", name="Rename").click()
    expect(rename.get_by_role("alert")).to_contain_text("already exists")
    rename.get_by_label("New name").fill("lifecycle-b")
    rename.get_by_role("button", name="Rename").click()
    expect(_row(page, "lifecycle-b")).to_have_count(1)
    assert ui_server.client.get_experiment(created.experiment_id).name == "lifecycle-b"

    _row(page, "lifecycle-b").get_by_role("button", name="Delete lifecycle-b").click()
    confirm = page.get_by_role("dialog", name="Delete “lifecycle-b”?")
    confirm.get_by_role("button", name="Cancel").click()
    expect(_row(page, "lifecycle-b")).to_have_count(1)
    _row(page, "lifecycle-b").get_by_role("button", name="Delete lifecycle-b").click()
    confirm.get_by_role("button", name="Delete").click()
    expect(_row(page, "lifecycle-b")).to_have_count(0)
    assert ui_server.client.get_experiment(created.experiment_id).lifecycle_stage == "deleted"

    page.get_by_label("Show deleted").check()
    deleted = _row(page, "lifecycle-b")
    expect(deleted.locator(".badge")).to_have_text("deleted")
    assert _query(page)["deleted"] == ["1"]
    deleted.get_by_role("button", name="Restore").click()
    expect(deleted.locator(".badge")).to_have_count(0)
    assert ui_server.client.get_experiment(created.experiment_id).lifecycle_stage == "active"


def test_create_is_keyboard_accessible(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/experiments?q=keyboard"))
    page.get_by_test_id("create-experiment").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New experiment")
    expect(dialog.get_by_label("Name")).to_be_focused()
    page.keyboard.type("keyboard-made")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(_row(page, "keyboard-made")).to_have_count(1)


def test_open_several_experiments_together(
    page: Page, ui_server: UiServer, experiments: dict[str, str]
) -> None:
    page.goto(ui_server.view("/experiments?q=vision"))
    expect(_rows(page)).to_have_count(2)
    expect(page.get_by_test_id("open-selected")).to_be_disabled()
    page.get_by_label("Select vision-resnet").check()
    page.get_by_label("Select vision-vit").check()
    page.get_by_test_id("open-selected").click()
    ids = sorted([experiments["vision-resnet"], experiments["vision-vit"]], key=int)
    expect(page).to_have_url(re.compile(r"#/experiments/\d+,\d+$"))
    opened = page.url.split("#/experiments/", 1)[1].split(",")
    assert sorted(opened, key=int) == ids
    expect(page.get_by_test_id("experiment-title")).to_have_text("2 experiments")
    expect(page.get_by_test_id("runs-table")).to_have_attribute("data-state", "ready")
