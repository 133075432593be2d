"""The UI shell: served at ``/`` from the package, routed by the URL fragment, themed, self-contained."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from tests.ui.conftest import PageWatch, UiServer


def test_index_and_assets_are_served_from_the_package(ui_server: UiServer) -> None:
    index = requests.get(f"{ui_server.url}/", timeout=10)
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert 'src="static-files/js/main.js"' in index.text
    script = requests.get(f"{ui_server.url}/static-files/js/main.js", timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    plotly = requests.get(f"{ui_server.url}/static-files/vendor/plotly.min.js", timeout=30)
    assert plotly.status_code == 200
    assert len(plotly.content) > 1_000_000
    assert "max-age" in plotly.headers["cache-control"]
    assert script.headers["cache-control"] == "no-cache"  # the UI's own files are revalidated


def test_vendored_uplot_is_served_with_a_long_cache(ui_server: UiServer) -> None:
    for name, media_type in (("uPlot.iife.min.js", "text/javascript"), ("uPlot.min.css", "text/css")):
        response = requests.get(f"{ui_server.url}/static-files/vendor/uplot/{name}", timeout=10)
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media_type)
        assert response.headers["cache-control"] == "public, max-age=86400"
    script = requests.get(f"{ui_server.url}/static-files/vendor/uplot/uPlot.iife.min.js", timeout=10)
    assert "uPlot (v1.6.32)" in script.text[:200]
    license_text = requests.get(f"{ui_server.url}/static-files/vendor/uplot/LICENSE", timeout=10)
    assert license_text.status_code == 200 and "MIT" in license_text.text
    missing = requests.get(f"{ui_server.url}/static-files/vendor/uplot/missing.js", timeout=10)
    assert missing.status_code == 404


def test_static_files_cannot_escape_the_ui_directory(ui_server: UiServer) -> None:
    for path in (
        "../__init__.py",
        "..%2F__init__.py",
        "js/../../__init__.py",
        "missing.js",
        "vendor/uplot/../../../__init__.py",
        "vendor/../../__init__.py",
    ):
        response = requests.get(f"{ui_server.url}/static-files/{path}", timeout=10)
        assert response.status_code == 404, path
        assert "from __future__" not in response.text  # the module source never leaks


def test_ui_path_redirects_to_root(ui_server: UiServer) -> None:
    response = requests.get(f"{ui_server.url}/ui", timeout=10, allow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].rstrip("/") == ui_server.url


def test_unknown_view_says_so_and_links_home(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/no/such/view"))
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page).to_have_title("Not found · mltrail")
    page.get_by_role("link", name="Go to experiments").click()
    expect(page).to_have_url(ui_server.view("/experiments"))


def test_theme_toggle_switches_and_is_remembered(page: Page, ui_server: UiServer, watch: PageWatch) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(ui_server.view("/no/such/view"))
    toggle = page.locator("#theme-toggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != background
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    assert not watch.external_requests
