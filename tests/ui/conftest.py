"""Browser tests of the web UI: a real server per module, headless Debian Chromium through Playwright.

Every ``page`` fixture records what the page does: requests to any origin other than the
server's, uncaught script errors and console errors each fail the test, and a screenshot of the
final state is kept under ``test-output/ui/`` (or ``$MLTRAIL_TEST_OUTPUT/ui``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, sync_playwright

from mltrail.server.app import create_app
from mltrail.server.settings import ServerSettings
from mltrail.tracking.client import TrackingClient
from tests.support.live_server import threaded_server

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium reaches for the network on start-up.
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
_DEFAULT_OUTPUT = Path(__file__).resolve().parents[2] / "test-output"
OUTPUT_DIR = Path(os.environ.get("MLTRAIL_TEST_OUTPUT", _DEFAULT_OUTPUT)) / "ui"
# Expected failures the pages report on purpose (e.g. a 404 when a test opens a missing run).
_ALLOWED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


@dataclass
class UiServer:
    """A running mltrail server for the browser tests and a client logging into it."""

    url: str
    workdir: Path
    client: TrackingClient

    def view(self, path: str) -> str:
        """The URL of a UI view, e.g. ``view("/experiments/1")``."""
        return f"{self.url}/#{path}"


@dataclass
class PageWatch:
    """What a page did that a test may assert on."""

    external_requests: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install -y chromium (make test installs it)"
    if os.environ.get("MLTRAIL_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(reason + " (MLTRAIL_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """The Playwright driver for the session."""
    _require_chromium()
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, never touching the network on its own."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """One server per test module on a fresh SQLite store and artifact destination."""
    workdir = tmp_path_factory.mktemp("ui-server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{workdir / 'mltrail.db'}",
        artifacts_destination=str(workdir / "artifacts"),
    )
    with threaded_server(create_app(settings)) as url:
        client = TrackingClient(url)
        yield UiServer(url=url, workdir=workdir, client=client)


def _screenshot_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_")[:150] + ".png"


@pytest.fixture
def watch() -> PageWatch:
    """The record of the current test's page."""
    return PageWatch()


@pytest.fixture
def page(
    browser: Browser, ui_server: UiServer, watch: PageWatch, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh browser page; fails the test on external requests, script or console errors."""
    origin = urlsplit(ui_server.url).netloc
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    def on_request(req: Request) -> None:
        watch.requests.append(req.url)
        parts = urlsplit(req.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != origin:
            watch.external_requests.append(req.url)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not _ALLOWED_CONSOLE.search(msg.text):
            watch.console_errors.append(msg.text)

    page.on("request", on_request)
    page.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
    page.on("console", on_console)
    yield page
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(OUTPUT_DIR / _screenshot_name(request.node.nodeid)), full_page=True)
    finally:
        context.close()
    assert not watch.external_requests, f"requests outside the server's origin: {watch.external_requests}"
    assert not watch.page_errors, f"uncaught script errors: {watch.page_errors}"
    assert not watch.console_errors, f"console errors: {watch.console_errors}"
