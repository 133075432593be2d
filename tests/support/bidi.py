"""A small WebDriver BiDi client that drives Debian's stock Firefox ESR for the browser tests.

Playwright cannot drive stock Firefox, but Firefox speaks the W3C WebDriver BiDi protocol
natively: :func:`launch_firefox` starts ``firefox-esr`` headless on a fresh temporary profile
(whose ``user.js`` turns off every start-up network connection: updates, telemetry, captive-portal
and connectivity checks, safe browsing, remote settings, ...), reads the websocket address Firefox
prints on stderr, opens a BiDi session and subscribes to console entries and network requests.

Each :class:`Tab` is its own browsing context with what the tests need: :meth:`Tab.navigate`,
:meth:`Tab.evaluate`, :meth:`Tab.wait_for`, trusted keyboard and mouse input, :meth:`Tab.screenshot`,
and the record of console errors, uncaught exceptions and request URLs of that tab.

The client is synchronous: events are read from the websocket while a command waits for its
answer (every :meth:`Tab.wait_for` poll is a command), and :meth:`Firefox.drain` reads whatever
arrived since.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

FIREFOX = "firefox-esr"
_LISTENING = "WebDriver BiDi listening on "

# Preferences of the throw-away profile: no update checks, telemetry, captive-portal or
# connectivity probes, safe-browsing lists, remote settings, studies, add-on or plugin updates,
# default-browser check, new-tab content, speculative connections or proxies. With these the
# browser makes no request of its own, so any request a test sees comes from the page.
USER_PREFS: dict[str, bool | int | str] = {
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "app.update.disabledForTesting": True,
    "app.update.enabled": False,
    "app.update.staging.enabled": False,
    "app.normandy.api_url": "",
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "browser.discovery.enabled": False,
    "browser.newtabpage.activity-stream.default.sites": "",
    "browser.newtabpage.activity-stream.feeds.section.topstories": False,
    "browser.newtabpage.activity-stream.feeds.snippets": False,
    "browser.newtabpage.activity-stream.feeds.system.topsites": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.newtabpage.activity-stream.feeds.topsites": False,
    "browser.newtabpage.activity-stream.showSponsored": False,
    "browser.newtabpage.activity-stream.showSponsoredTopSites": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    "browser.newtabpage.enabled": False,
    "browser.ping-centre.telemetry": False,
    "browser.places.speculativeConnect.enabled": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.provider.google.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.safebrowsing.update.enabled": False,
    "browser.search.geoip.url": "",
    "browser.search.update": False,
    "browser.sessionstore.resume_from_crash": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage": "about:blank",
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.tabs.warnOnClose": False,
    "browser.topsites.contile.enabled": False,
    "browser.translations.enable": False,
    "browser.uitour.enabled": False,
    "browser.urlbar.quicksuggest.enabled": False,
    "browser.urlbar.speculativeConnect.enabled": False,
    "browser.vpn_promo.enabled": False,
    "captivedetect.canonicalURL": "",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "datareporting.usage.uploadEnabled": False,
    "dom.push.connection.enabled": False,
    "dom.push.serverURL": "",
    "extensions.blocklist.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.getAddons.discovery.api_url": "",
    "extensions.htmlaboutaddons.recommendations.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "extensions.systemAddon.update.url": "",
    "extensions.update.autoUpdateDefault": False,
    "extensions.update.enabled": False,
    "extensions.webservice.discoverURL": "",
    "geo.provider.network.url": "",
    "identity.fxaccounts.enabled": False,
    "media.gmp-gmpopenh264.enabled": False,
    "media.gmp-manager.url": "data:,",
    "media.gmp-provider.enabled": False,
    "media.gmp-widevinecdm.enabled": False,
    "messaging-system.rsexperimentloader.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "network.predictor.enabled": False,
    "network.prefetch-next": False,
    "network.proxy.type": 0,
    "network.trr.mode": 5,
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
    "services.settings.server": "data:,#remote-settings-disabled",
    "services.sync.prefs.sync.browser.startup.homepage": False,
    "signon.rememberSignons": False,
    "startup.homepage_welcome_url": "about:blank",
    "startup.homepage_welcome_url.additional": "",
    "toolkit.startup.max_resumed_crashes": -1,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.bhrPing.enabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.firstShutdownPing.enabled": False,
    "toolkit.telemetry.newProfilePing.enabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "toolkit.telemetry.server": "data:,",
    "toolkit.telemetry.shutdownPingSender.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.updatePing.enabled": False,
    "trailhead.firstrun.didSeeAboutWelcome": True,
}

# WebDriver's code points for the keys the tests press (W3C WebDriver, "Keyboard actions").
KEYS: dict[str, str] = {
    "Tab": "\ue004",
    "Enter": "\ue007",
    "Escape": "\ue00c",
    "Space": " ",
    "Shift": "\ue008",
    "ArrowDown": "\ue015",
    "ArrowUp": "\ue013",
}

_EVENTS = ["log.entryAdded", "network.beforeRequestSent"]


class BidiError(RuntimeError):
    """A BiDi command failed, the browser did not start, or a wait timed out."""


class FirefoxMissingError(BidiError):
    """``firefox-esr`` is not installed."""


@dataclass
class LogEntry:
    """One ``log.entryAdded`` event: ``kind`` is ``console`` or ``javascript`` (an uncaught error)."""

    kind: str
    level: str
    text: str


@dataclass
class TabRecord:
    """What one browsing context did: its log entries and the URLs it requested, in order."""

    log: list[LogEntry] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def firefox_path() -> str | None:
    """The ``firefox-esr`` executable on ``PATH``, or None."""
    return shutil.which(FIREFOX)


def write_profile(directory: Path, prefs: Mapping[str, bool | int | str] = USER_PREFS) -> None:
    """Write ``prefs`` as the ``user.js`` of the profile in ``directory``."""
    lines = [f"user_pref({json.dumps(name)}, {json.dumps(value)});" for name, value in prefs.items()]
    (directory / "user.js").write_text("\n".join(lines) + "\n", encoding="utf-8")


def deserialize(value: Mapping[str, Any]) -> Any:
    """A BiDi ``RemoteValue`` as a Python value (nodes and other handles as their raw mapping)."""
    kind = value.get("type")
    raw = value.get("value")
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean"):
        return raw
    if kind == "number":
        special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}
        return special[raw] if isinstance(raw, str) else raw
    if kind == "bigint":
        return int(cast(str, raw))
    if kind in ("array", "set"):
        return [deserialize(item) for item in raw or []]
    if kind in ("object", "map"):
        out: dict[Any, Any] = {}
        for key, item in raw or []:
            out[key if isinstance(key, str) else deserialize(key)] = deserialize(item)
        return out
    if kind == "date":
        return raw
    return dict(value)


class Firefox:
    """A running headless Firefox ESR and its BiDi session; use :func:`launch_firefox`."""

    def __init__(self, process: subprocess.Popen[bytes], profile: Path, websocket: ClientConnection) -> None:
        self.process = process
        self.profile = profile
        self._ws = websocket
        self._next_id = 0
        self._records: dict[str, TabRecord] = {}
        self.background_requests: list[str] = []
        """Requests made outside any tab (by the browser itself)."""
        self.stderr_tail: deque[str] = deque(maxlen=200)

    # -- protocol -------------------------------------------------------------------------------

    def command(self, method: str, params: Mapping[str, Any] | None = None, timeout: float = 60.0) -> Any:
        """Send one command and return its ``result``, recording the events read meanwhile."""
        self._next_id += 1
        command_id = self._next_id
        self._ws.send(json.dumps({"id": command_id, "method": method, "params": dict(params or {})}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BidiError(f"{method}: no answer within {timeout:.0f} s")
            try:
                message = json.loads(self._ws.recv(timeout=remaining))
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                raise BidiError(f"{method}: the browser closed the connection ({exc})") from exc
            if message.get("type") == "event":
                self._on_event(message)
            elif message.get("id") == command_id:
                if message.get("type") == "error":
                    raise BidiError(f"{method}: {message.get('error')}: {message.get('message')}")
                return message.get("result")

    def drain(self, wait: float = 0.05) -> None:
        """Record the events that arrived since the last command."""
        while True:
            try:
                message = json.loads(self._ws.recv(timeout=wait))
            except (TimeoutError, ConnectionClosed):
                return
            if message.get("type") == "event":
                self._on_event(message)

    def _on_event(self, message: Mapping[str, Any]) -> None:
        params = message.get("params", {})
        if message.get("method") == "log.entryAdded":
            context = params.get("source", {}).get("context")
            record = self._records.get(context) if context else None
            if record is not None:
                entry = LogEntry(params.get("type", ""), params.get("level", ""), params.get("text") or "")
                record.log.append(entry)
        elif message.get("method") == "network.beforeRequestSent":
            url = params.get("request", {}).get("url", "")
            record = self._records.get(params.get("context") or "")
            if record is None:
                self.background_requests.append(url)
            else:
                record.requests.append(url)

    # -- tabs -----------------------------------------------------------------------------------

    def new_tab(self, width: int = 1440, height: int = 900) -> Tab:
        """A fresh browsing context (a new tab) with a ``width`` x ``height`` viewport."""
        context = self.command("browsingContext.create", {"type": "tab"})["context"]
        self._records[context] = TabRecord()
        self.command(
            "browsingContext.setViewport",
            {"context": context, "viewport": {"width": width, "height": height}},
        )
        return Tab(self, context, self._records[context])

    def close(self) -> None:
        """End the session, stop the browser (and its child processes) and remove the profile."""
        with contextlib.suppress(Exception):
            self.command("session.end", timeout=5)
        with contextlib.suppress(Exception):
            self._ws.close()
        _stop(self.process)
        shutil.rmtree(self.profile, ignore_errors=True)


class Tab:
    """One browsing context of a :class:`Firefox`."""

    def __init__(self, browser: Firefox, context: str, record: TabRecord) -> None:
        self.browser = browser
        self.context = context
        self.record = record

    @property
    def requests(self) -> list[str]:
        """The URLs this tab requested so far."""
        self.browser.drain(0.01)
        return list(self.record.requests)

    @property
    def errors(self) -> list[LogEntry]:
        """Console errors and uncaught exceptions (log entries of level ``error``) so far."""
        self.browser.drain(0.01)
        return [entry for entry in self.record.log if entry.level == "error"]

    def navigate(self, url: str) -> None:
        """Load ``url`` and wait for its ``load`` event."""
        self.browser.command(
            "browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"}
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.browser.command(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": self.context},
                "awaitPromise": True,
                "resultOwnership": "none",
            },
        )
        return self._value(result, expression)

    def call(self, function: str, *args: Any) -> Any:
        """Call a JavaScript function declaration with JSON-able ``args``; returns its value."""
        result = self.browser.command(
            "script.callFunction",
            {
                "functionDeclaration": function,
                "arguments": [{"type": "string", "value": json.dumps(arg)} for arg in args],
                "target": {"context": self.context},
                "awaitPromise": True,
                "resultOwnership": "none",
            },
        )
        return self._value(result, function)

    def _value(self, result: Mapping[str, Any], source: str) -> Any:
        if result.get("type") == "exception":
            details = result.get("exceptionDetails", {})
            raise BidiError(f"script failed: {details.get('text')} in {source[:200]!r}")
        return deserialize(result["result"])

    def wait_for(self, predicate: str, timeout: float = 15.0, interval: float = 0.05) -> Any:
        """Poll the JavaScript expression ``predicate`` until it is truthy; returns its value.

        An exception thrown by the predicate counts as false (the page may still be loading).
        """
        probe = f"(() => {{ try {{ return ({predicate}); }} catch (e) {{ return null; }} }})()"
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            last = self.evaluate(probe)
            if last:
                return last
            if time.monotonic() > deadline:
                raise BidiError(f"timed out after {timeout:.0f} s waiting for {predicate!r} (last: {last!r})")
            time.sleep(interval)

    def element(self, selector: str) -> dict[str, Any]:
        """A shared reference to the first element matching ``selector``, scrolled into view."""
        result = self.browser.command(
            "script.evaluate",
            {
                "expression": (
                    f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
                    " if (el) el.scrollIntoView({block: 'center', inline: 'center'}); return el; })()"
                ),
                "target": {"context": self.context},
                "awaitPromise": False,
            },
        )
        value = result.get("result", {})
        if result.get("type") != "success" or value.get("type") != "node":
            raise BidiError(f"no element matches {selector!r}")
        return {"sharedId": value["sharedId"]}

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the first element matching ``selector``."""
        element = self.element(selector)
        self.browser.command(
            "input.performActions",
            {
                "context": self.context,
                "actions": [
                    {
                        "type": "pointer",
                        "id": "mouse",
                        "parameters": {"pointerType": "mouse"},
                        "actions": [
                            {
                                "type": "pointerMove",
                                "x": 0,
                                "y": 0,
                                "origin": {"type": "element", "element": element},
                            },
                            {"type": "pointerDown", "button": 0},
                            {"type": "pointerUp", "button": 0},
                        ],
                    }
                ],
            },
        )

    def press(self, *keys: str) -> None:
        """Press and release each key in turn (names of :data:`KEYS` or single characters)."""
        actions: list[dict[str, str]] = []
        for key in keys:
            value = KEYS.get(key, key)
            actions += [{"type": "keyDown", "value": value}, {"type": "keyUp", "value": value}]
        self._keys(actions)

    def type_text(self, text: str) -> None:
        """Type ``text`` into the focused element, one key at a time."""
        self._keys([{"type": kind, "value": char} for char in text for kind in ("keyDown", "keyUp")])

    def _keys(self, actions: list[dict[str, str]]) -> None:
        self.browser.command(
            "input.performActions",
            {"context": self.context, "actions": [{"type": "key", "id": "keyboard", "actions": actions}]},
        )
        self.browser.command("input.releaseActions", {"context": self.context})

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the whole document at ``path``."""
        result = self.browser.command(
            "browsingContext.captureScreenshot", {"context": self.context, "origin": "document"}
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(result["data"]))

    def close(self) -> None:
        """Close the tab."""
        self.browser.command("browsingContext.close", {"context": self.context})


def _read_stderr(
    process: subprocess.Popen[bytes], tail: deque[str], found: list[str], ready: threading.Event
) -> None:
    """Keep reading the browser's stderr (so its pipe never fills); note the BiDi address."""
    assert process.stderr is not None
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace").rstrip()
        tail.append(line)
        if not found and _LISTENING in line:
            found.append(line.split(_LISTENING, 1)[1].strip())
            ready.set()
    ready.set()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the browser, then kill its process group (content processes) if anything is left."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def launch_firefox(startup_timeout: float = 60.0) -> Iterator[Firefox]:
    """Start headless Firefox ESR on a fresh profile with a BiDi session; stop it all on exit.

    Raises :class:`FirefoxMissingError` when ``firefox-esr`` is not installed (``make browsers``
    installs it) and :class:`BidiError` when it does not start in ``startup_timeout`` seconds.
    """
    executable = firefox_path()
    if executable is None:
        raise FirefoxMissingError(
            f"{FIREFOX} is not installed: run `make browsers` (apt-get install firefox-esr)"
        )
    profile = Path(tempfile.mkdtemp(prefix="mltrail-firefox-"))
    write_profile(profile)
    env = {**os.environ, "MOZ_CRASHREPORTER_DISABLE": "1", "MOZ_HEADLESS": "1"}
    process = subprocess.Popen(
        [executable, "-profile", str(profile), "--no-remote", "--headless", "--remote-debugging-port=0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    tail: deque[str] = deque(maxlen=200)
    found: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_read_stderr, args=(process, tail, found, ready), daemon=True).start()
    browser: Firefox | None = None
    try:
        ready.wait(startup_timeout)
        if not found:
            output = "\n".join(tail)
            raise BidiError(f"{FIREFOX} printed no BiDi address within {startup_timeout:.0f} s:\n{output}")
        # No proxy: the browser listens on the loopback interface.
        with connect(f"{found[0]}/session", max_size=None, open_timeout=startup_timeout, proxy=None) as ws:
            browser = Firefox(process, profile, ws)
            browser.stderr_tail = tail
            browser.command("session.new", {"capabilities": {}})
            browser.command("session.subscribe", {"events": _EVENTS})
            yield browser
    finally:
        if browser is not None:
            browser.close()
        else:
            _stop(process)
            shutil.rmtree(profile, ignore_errors=True)
