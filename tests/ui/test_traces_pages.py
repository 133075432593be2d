"""The traces list (``#/experiments/<id>/traces``) and the trace view (``#/traces/<id>``).

Traces are recorded with mltrail's tracing SDK against the module's real server: an agent whose
two tool children succeed and fail (an exception event), an LLM span with token usage, cost and
image, audio and text attachments, session and user metadata, a failing trace and a few quick ones.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import struct
import time
import wave
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

import mltrail
from mltrail.tracing import setup
from mltrail.tracing.attachments import Attachment
from mltrail.tracking import _fluent_state
from tests.ui.conftest import UiServer

MANY = 55  # more than one page of the list (50)


def _png(width: int = 12, height: int = 9) -> bytes:
    """A real RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes([30, 120, 200]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _wav() -> bytes:
    """Half a second of a 440 Hz tone, 8 kHz mono 16-bit."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(4000)
            )
        )
    return buffer.getvalue()


@dataclass(frozen=True)
class Recorded:
    """Ids of what the module recorded."""

    experiment_id: str
    many_experiment_id: str
    agent_trace_id: str
    failed_trace_id: str
    run_id: str


@pytest.fixture(scope="module")
def recorded(ui_server: UiServer) -> Iterator[Recorded]:
    setup.reset()
    mltrail.set_tracking_uri(ui_server.url)
    try:
        experiment = mltrail.set_experiment("traces-ui")

        @mltrail.trace(span_type="TOOL")
        def lookup(query: str) -> dict[str, list[str]]:
            # The agent must be the slowest trace whatever the machine's load (the latency-order
            # test relies on it); the other traces take a few milliseconds at most.
            time.sleep(0.2)
            return {"hits": [query, query.upper()]}

        @mltrail.trace(span_type="TOOL")
        def flaky_tool(attempt: int) -> int:
            raise ValueError(f"tool exploded on attempt {attempt}")

        @mltrail.trace(span_type="AGENT")
        def agent(question: str) -> str:
            mltrail.update_current_trace(tags={"env": "staging"}, session_id="sess-42", user_id="alice")
            lookup(question)
            with contextlib.suppress(ValueError):
                flaky_tool(1)
            with mltrail.start_span("llm", span_type="CHAT_MODEL") as span:
                span.set_inputs(
                    {
                        "image": Attachment("image/png", _png()),
                        "audio": Attachment("audio/wav", _wav()),
                        "notes": Attachment("text/plain", b"plain text notes"),
                    }
                )
                span.set_token_usage(input_tokens=12, output_tokens=30)
                span.set_cost(input_cost=0.00003, output_cost=0.00018)
                span.set_outputs({"answer": "forty-two"})
            return "forty-two"

        @mltrail.trace(span_type="CHAIN")
        def failing_pipeline(x: int) -> int:
            mltrail.update_current_trace(session_id="sess-9", user_id="bob")
            raise RuntimeError("pipeline broke")

        @mltrail.trace
        def quick(x: int) -> int:
            mltrail.update_current_trace(user_id="carol")
            return x * 2

        for i in range(3):
            quick(i)
        with pytest.raises(RuntimeError):
            failing_pipeline(7)
        with mltrail.start_run() as run:
            agent("what is the answer?")
        many = mltrail.set_experiment("traces-many")
        for i in range(MANY):
            quick(i)
        assert mltrail.flush_traces(120)
        stats = setup.get_export_stats()
        assert stats.failed == 0 and stats.dropped == 0

        by_name = {
            t.info.tags["mlflow.traceName"]: t.info.trace_id
            for t in mltrail.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
        }
        yield Recorded(
            experiment_id=experiment.experiment_id,
            many_experiment_id=many.experiment_id,
            agent_trace_id=by_name["agent"],
            failed_trace_id=by_name["failing_pipeline"],
            run_id=run.info.run_id,
        )
    finally:
        setup.reset()
        _fluent_state._reset()


def _row(page: Page, trace_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-testid=trace-row][data-trace-id="{trace_id}"]')


def _cell(page: Page, trace_id: str, column: str):  # type: ignore[no-untyped-def]
    return _row(page, trace_id).locator(f'td[data-column="{column}"]')


def _open_list(page: Page, ui_server: UiServer, experiment_id: str, query: str = "") -> None:
    page.goto(ui_server.view(f"/experiments/{experiment_id}/traces{query}"))
    expect(page.get_by_test_id("traces-table")).to_have_attribute("data-state", "ready")


def test_list_shows_name_status_latency_tokens_session_user(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    _open_list(page, ui_server, recorded.experiment_id)
    expect(page).to_have_title(re.compile(r"^Traces · traces-ui · mltrail$"))
    expect(page.locator("nav.tabs a[data-tab=traces]")).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("trace-row")).to_have_count(5)
    agent = recorded.agent_trace_id
    expect(_cell(page, agent, "name")).to_have_text("agent")
    expect(_cell(page, agent, "status")).to_have_text("OK")
    expect(_cell(page, agent, "latency")).to_have_text(re.compile(r"^\d+(\.\d+)? (ms|s)$"))
    expect(_cell(page, agent, "tokens")).to_have_text("42 (12 / 30)")
    expect(_cell(page, agent, "cost")).to_have_text("$0.00021")
    expect(_cell(page, agent, "session")).to_have_text("sess-42")
    expect(_cell(page, agent, "user")).to_have_text("alice")
    expect(_cell(page, agent, "tags")).to_have_text("env: staging")
    failed = recorded.failed_trace_id
    expect(_cell(page, failed, "name")).to_have_text("failing_pipeline")
    expect(_cell(page, failed, "status")).to_have_text("ERROR")
    expect(_cell(page, failed, "tokens")).to_have_text("")
    # Newest first by default: the agent ran last.
    expect(page.get_by_test_id("trace-row").first).to_have_attribute("data-trace-id", agent)


def test_filter_narrows_the_list_and_lives_in_the_url(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    _open_list(page, ui_server, recorded.experiment_id)
    box = page.get_by_label("Filter traces")
    box.fill("metadata.`mlflow.trace.user` = 'alice'")
    box.press("Enter")
    expect(page.get_by_test_id("trace-row")).to_have_count(1)
    expect(page.get_by_test_id("trace-row")).to_have_attribute("data-trace-id", recorded.agent_trace_id)
    assert "filter=metadata.%60mlflow.trace.user%60" in page.url

    page.reload()
    expect(page.get_by_test_id("traces-table")).to_have_attribute("data-state", "ready")
    expect(page.get_by_label("Filter traces")).to_have_value("metadata.`mlflow.trace.user` = 'alice'")
    expect(page.get_by_test_id("trace-row")).to_have_count(1)

    page.get_by_label("Filter traces").fill("status = 'ERROR'")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("trace-row")).to_have_count(1)
    expect(page.get_by_test_id("trace-row")).to_have_attribute("data-trace-id", recorded.failed_trace_id)

    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_test_id("trace-row")).to_have_count(5)
    assert "filter=" not in page.url


def test_invalid_filter_shows_the_server_error_inline(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    _open_list(page, ui_server, recorded.experiment_id)
    box = page.get_by_label("Filter traces")
    box.fill("status = 'OK' OR name = 'agent'")
    box.press("Enter")
    error = page.get_by_test_id("traces-error")
    expect(error).to_contain_text("OR")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("traces-table")).to_have_attribute("data-state", "error")
    expect(page.get_by_test_id("trace-row")).to_have_count(0)
    box.fill("nonsense_key = 1")
    box.press("Enter")
    expect(error).to_contain_text("nonsense_key")
    box.fill("name = 'agent'")
    box.press("Enter")
    expect(page.get_by_test_id("trace-row")).to_have_count(1)
    expect(error).to_have_text("")
    expect(box).not_to_have_attribute("aria-invalid", "true")


def test_clicking_headers_orders_by_the_server(page: Page, ui_server: UiServer, recorded: Recorded) -> None:
    _open_list(page, ui_server, recorded.experiment_id)
    table = page.get_by_test_id("traces-table")
    latency = page.locator('[data-testid=column-header][data-column="latency"]')
    expect(latency).to_have_attribute("aria-sort", "none")
    latency.get_by_role("button").click()
    expect(table).to_have_attribute("data-sort", "execution_time_ms DESC")
    expect(table).to_have_attribute("data-state", "ready")
    expect(latency).to_have_attribute("aria-sort", "descending")
    # The agent (with its 3 child spans) is the slowest trace; the URL keeps the order.
    expect(page.get_by_test_id("trace-row").first).to_have_attribute("data-trace-id", recorded.agent_trace_id)
    assert "order=execution_time_ms+DESC" in page.url

    name = page.locator('[data-testid=column-header][data-column="name"]')
    name.get_by_role("button").click()
    expect(table).to_have_attribute("data-sort", "name ASC")
    expect(table).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("trace-row").first.locator('td[data-column="name"]')).to_have_text("agent")
    name.get_by_role("button").click()
    expect(table).to_have_attribute("data-sort", "name DESC")
    expect(table).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("trace-row").first.locator('td[data-column="name"]')).to_have_text("quick")
    expect(name).to_have_attribute("aria-sort", "descending")

    page.reload()
    expect(table).to_have_attribute("data-state", "ready")
    expect(table).to_have_attribute("data-sort", "name DESC")
    # Columns without a server order key are not sortable.
    expect(
        page.locator('[data-testid=column-header][data-column="tokens"]').get_by_role("button")
    ).to_have_count(0)


def test_column_chooser_hides_and_shows_columns(page: Page, ui_server: UiServer, recorded: Recorded) -> None:
    _open_list(page, ui_server, recorded.experiment_id)
    session_header = page.locator('[data-testid=column-header][data-column="session"]')
    expect(session_header).to_be_visible()
    chooser = page.get_by_test_id("columns-button")
    chooser.click()
    expect(chooser).to_have_attribute("aria-expanded", "true")
    page.get_by_role("checkbox", name="Session").uncheck()
    page.get_by_role("checkbox", name="Trace ID").check()
    expect(session_header).to_have_count(0)
    expect(_cell(page, recorded.agent_trace_id, "trace_id")).to_have_text(recorded.agent_trace_id)
    page.keyboard.press("Escape")
    expect(chooser).to_have_attribute("aria-expanded", "false")
    assert "cols=" in page.url

    page.reload()
    expect(page.get_by_test_id("traces-table")).to_have_attribute("data-state", "ready")
    expect(session_header).to_have_count(0)
    expect(page.locator('[data-testid=column-header][data-column="trace_id"]')).to_be_visible()


def test_load_more_fetches_the_next_page(page: Page, ui_server: UiServer, recorded: Recorded) -> None:
    _open_list(page, ui_server, recorded.many_experiment_id)
    rows = page.get_by_test_id("trace-row")
    expect(rows).to_have_count(50)
    page.get_by_test_id("load-more").click()
    expect(rows).to_have_count(MANY)
    expect(page.get_by_test_id("load-more")).to_have_count(0)
    expect(page.get_by_test_id("traces-count")).to_have_text(f"{MANY} traces shown")
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.traceId)")
    assert len(set(ids)) == MANY
    assert "pages=2" in page.url
    page.reload()
    expect(page.get_by_test_id("traces-table")).to_have_attribute("data-state", "ready")
    expect(rows).to_have_count(MANY)


def test_clicking_a_row_opens_the_trace_with_its_header(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    _open_list(page, ui_server, recorded.experiment_id)
    _cell(page, recorded.agent_trace_id, "latency").click()
    expect(page).to_have_url(ui_server.view(f"/traces/{recorded.agent_trace_id}"))
    expect(page.get_by_test_id("trace-title")).to_contain_text("agent")
    expect(page).to_have_title("agent · Trace · mltrail")
    facts = page.get_by_test_id("trace-facts")
    expect(facts.locator("[data-fact=session] dd")).to_have_text("sess-42")
    expect(facts.locator("[data-fact=user] dd")).to_have_text("alice")
    expect(facts.locator("[data-fact=tokens] dd")).to_have_text("42 (12 in · 30 out)")
    expect(facts.locator("[data-fact=latency] dd")).to_have_text(re.compile(r"\d"))
    expect(page.get_by_test_id("trace-run-link")).to_have_attribute("href", f"#/runs/{recorded.run_id}")
    expect(page.get_by_test_id("trace-experiment-link")).to_have_text("traces-ui")
    expect(page.get_by_test_id("trace-request")).to_contain_text('"question": "what is the answer?"')
    expect(page.get_by_test_id("trace-response")).to_contain_text("forty-two")
    meta = page.get_by_test_id("trace-meta")
    meta.locator("summary").click()
    expect(meta).to_contain_text("mlflow.trace.session")
    expect(meta).to_contain_text("env")

    page.get_by_test_id("trace-experiment-link").click()
    expect(page).to_have_url(ui_server.view(f"/experiments/{recorded.experiment_id}/traces"))
    expect(page.get_by_test_id("trace-row")).to_have_count(5)


def test_span_tree_shows_the_nesting_and_timeline(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    page.goto(ui_server.view(f"/traces/{recorded.agent_trace_id}"))
    tree = page.get_by_role("tree", name="Spans")
    items = tree.get_by_role("treeitem")
    expect(items).to_have_count(4)
    names = items.evaluate_all("els => els.map(e => [e.dataset.spanName, e.getAttribute('aria-level')])")
    assert names == [["agent", "1"], ["lookup", "2"], ["flaky_tool", "2"], ["llm", "2"]]
    root = tree.locator("[data-span-name=agent]")
    expect(root).to_have_attribute("aria-expanded", "true")
    expect(root.locator("[role=group] [role=treeitem]")).to_have_count(3)
    expect(tree.locator("[data-span-name=flaky_tool]")).to_have_attribute("data-status", "ERROR")
    # Waterfall: the root's bar spans the whole trace; children sit inside it, on their own rows.
    bars = page.get_by_test_id("span-bar")
    boxes = [bars.nth(i).bounding_box() for i in range(4)]
    rows = [items.nth(i).locator(":scope > .span-row").bounding_box() for i in range(4)]
    assert all(b is not None for b in boxes) and all(r is not None for r in rows)
    for bar, row in zip(boxes, rows, strict=True):
        assert bar is not None and row is not None
        assert row["y"] <= bar["y"] and bar["y"] + bar["height"] <= row["y"] + row["height"]
    root_bar = boxes[0]
    assert root_bar is not None
    for child in boxes[1:]:
        assert child is not None
        assert (
            child["x"] >= root_bar["x"] - 1
            and child["x"] + child["width"] <= root_bar["x"] + root_bar["width"] + 1
        )

    # Folding the root hides its children.
    root.locator(".span-toggle").first.click()
    expect(root).to_have_attribute("aria-expanded", "false")
    expect(tree.locator("[data-span-name=lookup]")).to_be_hidden()
    assert "collapsed=" in page.url


def test_selecting_spans_shows_inputs_outputs_attributes_and_exception(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    page.goto(ui_server.view(f"/traces/{recorded.agent_trace_id}"))
    details = page.get_by_test_id("span-details")
    expect(details.get_by_role("heading", level=2)).to_have_text("agent")

    page.locator("[data-span-name=lookup] > .span-row").click()
    expect(details.get_by_role("heading", level=2)).to_have_text("lookup")
    expect(details.get_by_test_id("span-inputs")).to_contain_text('"query": "what is the answer?"')
    expect(details.get_by_test_id("span-outputs")).to_contain_text('"WHAT IS THE ANSWER?"')
    expect(details.get_by_test_id("span-attributes")).to_contain_text("mlflow.spanFunctionName")
    expect(details.get_by_test_id("span-events")).to_contain_text("No events.")
    lookup_id = page.locator("[data-span-name=lookup]").get_attribute("data-span-id")
    assert lookup_id and f"span={lookup_id}" in page.url

    page.locator("[data-span-name=flaky_tool] > .span-row").click()
    expect(details.get_by_role("heading", level=2)).to_have_text("flaky_tool")
    expect(details).to_contain_text("ERROR")
    event = details.locator("[data-testid=span-event][data-event-name=exception]")
    expect(event).to_contain_text("ValueError: tool exploded on attempt 1")
    expect(event.locator("pre")).to_contain_text("Traceback (most recent call last)")
    expect(details.get_by_test_id("span-outputs")).to_contain_text("No outputs recorded.")

    page.locator("[data-span-name=llm] > .span-row").click()
    expect(details).to_contain_text("12 in · 30 out · 42 total")
    expect(details.get_by_test_id("span-outputs")).to_contain_text('"answer": "forty-two"')
    attributes = details.get_by_test_id("span-attributes")
    expect(attributes).to_contain_text("mlflow.chat.tokenUsage")
    expect(attributes).to_contain_text('"input_tokens": 12')
    # JSON nodes fold and unfold.
    outputs_node = details.get_by_test_id("span-outputs").locator("details.json-node").first
    outputs_node.locator("summary").click()
    expect(outputs_node).not_to_have_attribute("open", "")
    expect(details.get_by_test_id("span-outputs")).to_contain_text("1 key")

    # The selected span is restored from the URL.
    page.reload()
    expect(page.get_by_test_id("span-details").get_by_role("heading", level=2)).to_have_text("llm")
    expect(page.locator("[data-span-name=llm]")).to_have_attribute("aria-selected", "true")


def test_tree_is_keyboard_navigable(page: Page, ui_server: UiServer, recorded: Recorded) -> None:
    page.goto(ui_server.view(f"/traces/{recorded.agent_trace_id}"))
    tree = page.get_by_role("tree", name="Spans")
    root = tree.locator("[data-span-name=agent]")
    expect(root).to_have_attribute("aria-selected", "true")
    root.focus()
    heading = page.get_by_test_id("span-details").get_by_role("heading", level=2)
    page.keyboard.press("ArrowDown")
    expect(heading).to_have_text("lookup")
    expect(tree.locator("[data-span-name=lookup]")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(heading).to_have_text("flaky_tool")
    page.keyboard.press("End")
    expect(heading).to_have_text("llm")
    page.keyboard.press("ArrowLeft")  # a leaf: to its parent
    expect(heading).to_have_text("agent")
    expect(root).to_be_focused()
    page.keyboard.press("ArrowLeft")  # an open parent: fold it
    expect(root).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")  # nothing visible below the folded root
    expect(heading).to_have_text("agent")
    page.keyboard.press("ArrowRight")  # unfold
    expect(root).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowRight")  # into the first child
    expect(heading).to_have_text("lookup")
    page.keyboard.press("ArrowUp")
    expect(heading).to_have_text("agent")
    expect(tree.locator("[aria-selected=true]")).to_have_count(1)


def test_attachments_render_inline_from_the_server(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    page.goto(ui_server.view(f"/traces/{recorded.agent_trace_id}"))
    page.locator("[data-span-name=llm] > .span-row").click()
    attachments = page.get_by_test_id("span-attachments")
    expect(attachments.locator("figure")).to_have_count(3)
    image = attachments.get_by_test_id("attachment-image")
    expect(image).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=15_000
    )
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [12, 9]
    audio = attachments.get_by_test_id("attachment-audio")
    expect(audio).to_have_count(1)
    assert audio.evaluate("a => a.controls") is True
    src = audio.evaluate("a => a.src")
    assert urlsplit(src).netloc == urlsplit(ui_server.url).netloc
    assert "get-trace-artifact" in src
    page.wait_for_function(
        "a => a.readyState >= 1 && a.duration > 0.4", arg=audio.element_handle(), timeout=15_000
    )
    text = attachments.locator('figure[data-content-type="text/plain"]')
    expect(text.locator("img, audio")).to_have_count(0)
    download = text.get_by_test_id("attachment-download")
    expect(download).to_have_attribute("download", re.compile(r"\.plain$"))
    href = download.get_attribute("href")
    assert href is not None and urlsplit(href).netloc == urlsplit(ui_server.url).netloc
    body = page.request.get(href).body()
    assert body == b"plain text notes"


def test_missing_trace_shows_an_error(page: Page, ui_server: UiServer, recorded: Recorded) -> None:
    page.goto(ui_server.view("/traces/tr-00000000000000000000000000000000"))
    expect(page.get_by_role("alert")).to_contain_text("Could not load this trace")


def test_several_experiments_list_their_traces_together(
    page: Page, ui_server: UiServer, recorded: Recorded
) -> None:
    ids = f"{recorded.experiment_id},{recorded.many_experiment_id}"
    _open_list(page, ui_server, ids, "?cols=name,status,experiment&order=experiment_id+ASC&pages=2")
    rows = page.get_by_test_id("trace-row")
    expect(rows).to_have_count(5 + MANY)
    expect(page.get_by_test_id("column-header")).to_have_count(3)
    experiments = rows.locator('td[data-column="experiment"]').all_inner_texts()
    assert experiments == [recorded.experiment_id] * 5 + [recorded.many_experiment_id] * MANY
    expect(page.locator('[data-testid=column-header][data-column="experiment"]')).to_have_attribute(
        "aria-sort", "ascending"
    )
