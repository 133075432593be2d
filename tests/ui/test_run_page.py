"""The run page: overview, tag editing, artifact previews and the metric charts, on real logged data."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, Response, expect

from mltrail.data.pandas_dataset import from_pandas
from mltrail.tracking.entities import DatasetInput, InputTag, Metric, ModelOutput, Param, RunTag
from tests.ui.conftest import UiServer

MLMODEL = """artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.7
  sklearn:
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.0
mlflow_version: 2.17.0
model_uuid: 0f1e2d3c4b5a
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "double",
    "name": "petal_width", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
utc_time_created: '2026-01-01 10:00:00.000000'
"""

BIG_POINTS = 200_000
BIG_LOG_LINES = 60_000  # 23 bytes a line: about 1.3 MiB, more than a preview reads
# Generous: a busy machine running several browser tests at once can be slow to draw.
DRAW = 60_000


@dataclass
class Logged:
    """Ids of the runs the tests look at."""

    experiment_id: str
    run_id: str
    parent_id: str
    model_id: str
    big_run_id: str


def _png() -> bytes:
    image = Image.new("RGB", (40, 24), (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def logged(ui_server: UiServer) -> Logged:
    client = ui_server.client
    exp = client.create_experiment("run-page")
    parent = client.create_run(exp, run_name="parent-run")
    run = client.create_run(exp, run_name="rich-run", tags={"mlflow.user": "ada"})
    rid = run.info.run_id
    client.log_batch(
        rid,
        params=[Param("lr", "0.01"), Param("optimizer", "adam"), Param("layers", "3")],
        tags=[
            RunTag("team", "vision"),
            RunTag("mlflow.note.content", "Baseline model for the vision team"),
            RunTag("mlflow.source.git.commit", "abc123def4567890abc123def4567890abc12345"),
            RunTag("mlflow.source.name", "train.py"),
            RunTag("mlflow.source.type", "LOCAL"),
            RunTag("mlflow.parentRunId", parent.info.run_id),
        ],
    )
    start = int(run.info.start_time or 0)
    client.log_batch(
        rid,
        metrics=[Metric("loss", 1.0 / (i + 1), start + i * 1000, i) for i in range(50)]
        + [Metric("accuracy", 0.5 + i / 100, start + i * 1000, i) for i in range(50)],
    )
    client.log_text(rid, "line one\nline two\n", "notes/readme.txt")
    client.log_dict(rid, {"batch_size": 32, "layers": [64, 32]}, "config.json")
    client.log_dict(rid, {"epochs": 10, "schedule": "cosine"}, "config.yaml")
    client.log_text(rid, "name,score\nalpha,0.91\nbeta,0.87\n", "data/table.csv")
    client.log_text(rid, MLMODEL, "model/MLmodel")
    client.log_text(rid, "name\tscore\ngamma\t0.5\n", "data/table.tsv")
    client.log_text(rid, "".join(f"{i:09d} training step\n" for i in range(BIG_LOG_LINES)), "logs/train.log")
    client.log_image(rid, Image.open(io.BytesIO(_png())), artifact_file="images/sample.png")
    df = pd.DataFrame({"sepal_length": [5.1, 4.9], "species": ["setosa", "setosa"]})
    dataset = from_pandas(df, source="s3://bucket/iris.csv", name="iris-train").to_entity()
    client.log_inputs(rid, [DatasetInput(dataset, (InputTag("mlflow.data.context", "training"),))])
    model = client.create_logged_model(exp, name="classifier", source_run_id=rid)
    client.log_outputs(rid, [ModelOutput(model.model_id, 0)])
    client.set_terminated(rid)
    client.set_terminated(parent.info.run_id)

    big = client.create_run(exp, run_name="big-run")
    big_start = int(big.info.start_time or 0)
    client.log_batch(
        big.info.run_id,
        metrics=[Metric("big", float((i * 7919) % 1000), big_start + i, i) for i in range(BIG_POINTS)],
    )
    client.set_terminated(big.info.run_id)
    return Logged(exp, rid, parent.info.run_id, model.model_id, big.info.run_id)


def _chart(page: Page, metric: str) -> Locator:
    return page.locator(f'[data-testid=metric-chart][data-metric="{metric}"]')


def _drawn(chart: Locator) -> dict[str, str | None]:
    """What a drawn chart reports on its element: lines, point count, axis types and x range."""
    names = ("lines", "raw-lines", "points", "x-type", "y-type", "x-range")
    return {name: chart.get_attribute(f"data-{name}") for name in names}


def _x_range(chart: Locator) -> tuple[float, float]:
    lo, hi = (chart.get_attribute("data-x-range") or "nan,nan").split(",")
    return float(lo), float(hi)


def _drag(page: Page, chart: Locator, start: float, end: float) -> tuple[float, float]:
    """Drag the mouse across the plot area from `start` to `end` (fractions of its width), as a
    user zooms; returns the x values under those two points before the zoom."""
    lo, hi = _x_range(chart)
    area = chart.get_by_test_id("chart-plot-area")
    box = area.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(0, 0)  # enter the plot afresh, as a hand does
    page.mouse.move(box["x"] + start * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + end * box["width"], y, steps=8)
    page.mouse.up()
    return lo + start * (hi - lo), lo + end * (hi - lo)


def _double_click(chart: Locator) -> None:
    chart.get_by_test_id("chart-plot-area").dblclick()


def test_overview_shows_the_run(page: Page, ui_server: UiServer, logged: Logged) -> None:
    page.goto(ui_server.view(f"/runs/{logged.run_id}"))
    expect(page.get_by_test_id("run-name")).to_have_text("rich-run")
    expect(page).to_have_title("rich-run · mltrail")
    expect(page.get_by_test_id("run-status")).to_have_text("FINISHED")
    expect(page.get_by_test_id("run-id")).to_have_text(logged.run_id)
    expect(page.get_by_test_id("run-user")).to_have_text("ada")
    expect(page.get_by_test_id("run-commit")).to_have_text("abc123def456")
    expect(page.get_by_test_id("run-source")).to_contain_text("train.py")
    expect(page.get_by_test_id("run-source")).to_contain_text("LOCAL")
    expect(page.get_by_test_id("run-experiment-link")).to_have_text("run-page")
    expect(page.get_by_test_id("run-parent-link")).to_have_attribute("href", f"#/runs/{logged.parent_id}")
    expect(page.get_by_test_id("run-description")).to_have_text("Baseline model for the vision team")
    assert page.get_by_test_id("run-duration").inner_text().strip() != "—"

    params = page.get_by_test_id("params-table")
    expect(params.locator("tr[data-key=lr] td").nth(1)).to_have_text("0.01")
    expect(params.locator("tbody tr")).to_have_count(3)
    page.get_by_test_id("params-search").fill("optim")
    expect(params.locator("tbody tr")).to_have_count(1)
    expect(params.locator("tbody tr")).to_contain_text("adam")
    expect(page).to_have_url(ui_server.view(f"/runs/{logged.run_id}?pfilter=optim"))

    metrics = page.get_by_test_id("latest-metrics")
    expect(metrics.locator("tr[data-key=loss] [data-testid=metric-value]")).to_have_text("0.02")
    expect(metrics.get_by_role("link", name="loss")).to_have_attribute(
        "href", f"#/runs/{logged.run_id}?tab=metrics&metrics=loss"
    )

    datasets = page.get_by_test_id("datasets")
    expect(datasets).to_contain_text("iris-train")
    expect(datasets).to_contain_text("training")
    expect(datasets).to_contain_text("s3://bucket/iris.csv")
    datasets.get_by_text("Schema and profile").click()
    expect(datasets).to_contain_text("sepal_length")

    models = page.get_by_test_id("logged-models")
    expect(models.get_by_role("link", name="classifier")).to_have_attribute(
        "href", f"#/logged-models/{logged.model_id}"
    )
    expect(page.get_by_test_id("tags-table").locator("tr[data-key=team]")).to_contain_text("vision")
    system = page.get_by_test_id("system-tags")
    expect(system).to_contain_text("System tags")
    expect(page.get_by_test_id("tags-table")).not_to_contain_text("mlflow.source.name")


def test_tags_can_be_added_edited_and_deleted(page: Page, ui_server: UiServer, logged: Logged) -> None:
    client = ui_server.client
    page.goto(ui_server.view(f"/runs/{logged.run_id}"))
    page.get_by_test_id("add-tag").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Key").fill("stage")
    dialog.get_by_label("Value").fill("review")
    dialog.get_by_role("button", name="Add").click()
    row = page.get_by_test_id("tags-table").locator("tr[data-key=stage]")
    expect(row).to_contain_text("review")
    assert client.get_run(logged.run_id).data.tags["stage"] == "review"

    row.get_by_role("button", name="Edit tag stage").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Value").fill("approved")
    dialog.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("approved")
    assert client.get_run(logged.run_id).data.tags["stage"] == "approved"

    # A reserved key is refused in the dialog.
    page.get_by_test_id("add-tag").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Key").fill("mlflow.user")
    dialog.get_by_role("button", name="Add").click()
    expect(dialog.get_by_role("alert")).to_contain_text("reserved")
    dialog.get_by_role("button", name="Cancel").click()

    row.get_by_role("button", name="Delete tag stage").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert "stage" not in client.get_run(logged.run_id).data.tags


def test_description_and_name_can_be_edited(page: Page, ui_server: UiServer, logged: Logged) -> None:
    client = ui_server.client
    other = client.create_run(logged.experiment_id, run_name="to-rename")
    page.goto(ui_server.view(f"/runs/{other.info.run_id}"))
    expect(page.get_by_test_id("run-description")).to_have_text("No description.")
    page.get_by_test_id("edit-description").click()
    page.get_by_role("dialog").get_by_label("Description").fill("Tried a wider network")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("run-description")).to_have_text("Tried a wider network")
    assert client.get_run(other.info.run_id).data.tags["mlflow.note.content"] == "Tried a wider network"

    page.get_by_role("button", name="Rename").click()
    page.get_by_role("dialog").get_by_label("Run name").fill("renamed-run")
    page.get_by_role("dialog").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("run-name")).to_have_text("renamed-run")
    assert client.get_run(other.info.run_id).info.run_name == "renamed-run"
    client.set_terminated(other.info.run_id)


def test_artifacts_preview_each_kind(page: Page, ui_server: UiServer, logged: Logged) -> None:
    page.goto(ui_server.view(f"/runs/{logged.run_id}?tab=artifacts"))
    tree = page.get_by_test_id("artifact-tree")
    preview = page.get_by_test_id("artifact-preview")

    tree.get_by_role("button", name="notes").click()
    tree.get_by_role("button", name="readme.txt").click()
    expect(preview.get_by_test_id("preview-text")).to_have_text("line one\nline two\n")
    expect(page).to_have_url(ui_server.view(f"/runs/{logged.run_id}?tab=artifacts&path=notes%2Freadme.txt"))

    tree.get_by_role("button", name="config.json").click()
    pretty = preview.get_by_test_id("preview-json")
    expect(pretty).to_contain_text('"batch_size": 32')
    assert json.loads(pretty.inner_text()) == {"batch_size": 32, "layers": [64, 32]}

    tree.get_by_role("button", name="config.yaml").click()
    expect(preview.get_by_test_id("preview-text")).to_contain_text("schedule: cosine")

    tree.get_by_role("button", name="data", exact=True).click()
    tree.get_by_role("button", name="table.csv").click()
    table = preview.get_by_test_id("preview-table")
    expect(table.locator("thead th")).to_have_text(["name", "score"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("alpha")

    tree.get_by_role("button", name="table.tsv").click()
    expect(preview.get_by_test_id("preview-table").locator("tbody tr")).to_have_text(["gamma0.5"])

    tree.get_by_role("button", name="logs").click()
    tree.get_by_role("button", name="train.log").click()
    # A megabyte of text takes a moment to lay out on a busy machine.
    expect(preview).to_contain_text("Showing the first 1.0 MB", timeout=20_000)
    expect(preview.get_by_test_id("preview-text")).to_contain_text("000000000 training step")
    shown = preview.get_by_test_id("preview-text").evaluate("(el) => el.textContent.length")
    assert shown == 1024 * 1024 < BIG_LOG_LINES * 23

    tree.get_by_role("button", name="images").click()
    tree.get_by_role("button", name="sample.png").click()
    image = preview.get_by_test_id("preview-image")
    expect(image).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=preview-image]');"
        " return i && i.complete && i.naturalWidth === 40; }"
    )

    tree.get_by_role("button", name="model", exact=True).click()
    tree.get_by_role("button", name="MLmodel").click()
    summary = preview.get_by_test_id("mlmodel-summary")
    expect(summary).to_contain_text("sklearn")
    expect(summary).to_contain_text("sklearn_version: 1.5.0")
    expect(summary).to_contain_text("python_function")
    expect(summary).to_contain_text("sepal_length")
    expect(summary).to_contain_text("petal_width")
    expect(preview.get_by_test_id("preview-text")).to_contain_text("mlflow_version: 2.17.0")
    download = preview.get_by_test_id("artifact-download")
    href = download.get_attribute("href") or ""
    assert parse_qs(urlsplit(href).query)["path"] == ["model/MLmodel"]
    assert parse_qs(urlsplit(href).query)["download"] == ["true"]


def test_artifact_path_in_the_url_opens_its_folders(page: Page, ui_server: UiServer, logged: Logged) -> None:
    page.goto(ui_server.view(f"/runs/{logged.run_id}?tab=artifacts&path=data/table.csv"))
    expect(page.get_by_test_id("preview-path")).to_have_text("data/table.csv")
    expect(page.get_by_test_id("preview-table").locator("tbody tr")).to_have_count(2)
    expect(
        page.get_by_test_id("artifact-tree").locator('button[data-path="data/table.csv"]')
    ).to_have_attribute("aria-current", "true")


def test_metric_chart_draws_and_switches_axes(page: Page, ui_server: UiServer, logged: Logged) -> None:
    page.goto(ui_server.view(f"/runs/{logged.run_id}?tab=metrics&metrics=loss"))
    chart = _chart(page, "loss")
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(chart).to_have_attribute("data-points", "50")
    expect(page.locator("[data-testid=metric-chart]")).to_have_count(1)
    drawn = _drawn(chart)
    assert drawn["lines"] == "1" and drawn["raw-lines"] == "0"
    assert drawn["x-type"] == "linear" and drawn["y-type"] == "linear" and drawn["x-range"] == "0,49"
    # One line: no legend. Fewer than 30 points: the hover shows the line's value at that step.
    expect(chart.get_by_test_id("chart-legend")).to_be_hidden()
    area = chart.get_by_test_id("chart-plot-area")
    area.hover()
    tooltip = chart.get_by_test_id("chart-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip.locator(".chart-tooltip-name")).to_have_text(["loss"])
    expect(tooltip.locator(".chart-tooltip-value")).to_have_text(re.compile(r"^0\.0\d{6}$"))  # "%{y:.6g}"
    page.mouse.move(0, 0)
    expect(tooltip).to_be_hidden()

    page.get_by_test_id("chart-x-axis").select_option("wall")
    expect(chart).to_have_attribute("data-x-type", "date", timeout=DRAW)
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    start = int(ui_server.client.get_run(logged.run_id).info.start_time or 0)
    assert _x_range(chart) == (start, start + 49_000)
    # A drag across the middle half of the time axis asks the server for that time range (ms).
    with page.expect_response(lambda r: "metric-series" in r.url and "x_min" in r.url) as zoomed:
        lo, hi = _drag(page, chart, 0.25, 0.75)
    bounds = parse_qs(urlsplit(zoomed.value.url).query)
    x_min, x_max = int(bounds["x_min"][0]), int(bounds["x_max"][0])
    slack = 49_000 * 0.01  # a pixel or two of the plot's width
    assert abs(x_min - lo) < slack and abs(x_max - hi) < slack
    inside = sum(1 for i in range(50) if x_min <= start + i * 1000 <= x_max)
    expect(chart).to_have_attribute("data-points", str(inside))
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    shown = _x_range(chart)
    assert abs(shown[0] - lo) < slack and abs(shown[1] - hi) < slack
    # A double-click goes back to the whole run.
    with page.expect_response(lambda r: "metric-series" in r.url and "x_min" not in r.url):
        _double_click(chart)
    expect(chart).to_have_attribute("data-points", "50")
    expect(chart).to_have_attribute("data-x-range", f"{start},{start + 49_000}")

    page.get_by_test_id("chart-x-axis").select_option("relative")
    expect(chart).to_have_attribute("data-x-range", "0,49", timeout=DRAW)
    expect(chart).to_have_attribute("data-x-type", "linear")
    page.get_by_test_id("chart-log-y").check()
    expect(chart).to_have_attribute("data-y-type", "log", timeout=DRAW)
    page.get_by_test_id("chart-smoothing").fill("0.8")
    # Smoothing: the faint raw line under the smoothed one.
    expect(chart).to_have_attribute("data-lines", "2", timeout=DRAW)
    expect(chart).to_have_attribute("data-raw-lines", "1")
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    query = parse_qs(urlsplit(page.url).fragment.split("?", 1)[1])
    assert query["x"] == ["relative"] and query["log"] == ["1"] and query["smooth"] == ["0.8"]

    # The URL restores the view.
    page.reload()
    restored = _chart(page, "loss")
    expect(restored).to_have_attribute("data-state", "drawn", timeout=DRAW)
    drawn = _drawn(restored)
    assert drawn["y-type"] == "log" and drawn["lines"] == "2" and drawn["raw-lines"] == "1"
    assert drawn["x-range"] == "0,49"


def test_charts_follow_the_theme(page: Page, ui_server: UiServer, logged: Logged) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(ui_server.view(f"/runs/{logged.run_id}?tab=metrics&metrics=loss"))
    chart = _chart(page, "loss")
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    muted = "getComputedStyle(document.documentElement).getPropertyValue('--fg-muted').trim()"
    light = page.evaluate(muted)
    expect(chart).to_have_attribute("data-axis-color", light)
    page.locator("#theme-toggle").click()
    dark = page.evaluate(muted)
    assert dark != light
    # The chart is drawn again in the dark theme's colours.
    expect(chart).to_have_attribute("data-axis-color", dark)
    expect(chart).to_have_attribute("data-state", "drawn")


def test_several_metrics_in_one_chart(page: Page, ui_server: UiServer, logged: Logged) -> None:
    page.goto(ui_server.view(f"/runs/{logged.run_id}?tab=metrics"))
    expect(page.locator("[data-testid=metric-chart]")).to_have_count(2)
    loss = _chart(page, "loss")
    expect(loss).to_have_attribute("data-state", "drawn", timeout=DRAW)
    loss.get_by_test_id("chart-choose-metrics").click()
    page.get_by_role("dialog").get_by_label("accuracy").check()
    page.get_by_role("dialog").get_by_role("button", name="Apply").click()
    both = _chart(page, "accuracy|loss")
    expect(both).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(both).to_have_attribute("data-points", "100")
    assert "metrics=accuracy%2Caccuracy%7Closs" in page.url


def test_large_metric_is_downsampled_and_zoom_fetches_detail(
    page: Page, ui_server: UiServer, logged: Logged
) -> None:
    responses: list[Response] = []
    page.on("response", lambda r: responses.append(r) if "metric-series" in r.url else None)
    page.goto(ui_server.view(f"/runs/{logged.big_run_id}?tab=metrics&metrics=big"))
    chart = _chart(page, "big")
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    points = int(chart.get_attribute("data-points") or "0")
    assert 100 < points <= 2000
    body = responses[0].json()
    (series,) = body["series"]
    assert series["total_points"] == BIG_POINTS
    assert series["downsampled"] is True
    assert len(series["values"]) <= 2000
    assert int(parse_qs(urlsplit(responses[0].url).query)["max_points"][0]) <= 2000
    expect(chart).to_contain_text("200,000")

    assert _x_range(chart) == (0, BIG_POINTS - 1)

    # A first drag zooms into a twentieth of the steps: still more points than pixels, so the
    # server sends that range downsampled.
    with page.expect_response(lambda r: "metric-series" in r.url and "x_min" in r.url) as first:
        lo, hi = _drag(page, chart, 0.40, 0.45)
    bounds = parse_qs(urlsplit(first.value.url).query)
    slack = BIG_POINTS * 0.01
    assert abs(int(bounds["x_min"][0]) - lo) < slack and abs(int(bounds["x_max"][0]) - hi) < slack
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(chart.locator(".chart-note")).to_contain_text("downsampled")
    # A second drag inside that view asks for a few hundred steps and shows every point in them.
    with page.expect_response(lambda r: "metric-series" in r.url and "x_min" in r.url) as second:
        lo, hi = _drag(page, chart, 0.30, 0.35)
    bounds = parse_qs(urlsplit(second.value.url).query)
    x_min, x_max = int(bounds["x_min"][0]), int(bounds["x_max"][0])
    assert abs(x_min - lo) < (hi - lo) * 0.2 and abs(x_max - hi) < (hi - lo) * 0.2
    assert 0 < x_max - x_min < 1000
    expect(chart).to_have_attribute("data-points", str(x_max - x_min + 1))
    expect(chart).to_have_attribute("data-state", "drawn", timeout=DRAW)
    expect(chart.locator(".chart-note")).not_to_contain_text("downsampled")
    assert x_min <= _x_range(chart)[0] < _x_range(chart)[1] <= x_max

    # A double-click goes back to the overview.
    with page.expect_response(lambda r: "metric-series" in r.url and "x_min" not in r.url):
        _double_click(chart)
    expect(chart).to_have_attribute("data-points", str(points))
    expect(chart).to_have_attribute("data-x-range", f"0,{BIG_POINTS - 1}")
    assert "x_min" not in parse_qs(urlsplit(responses[-1].url).query)


@pytest.fixture
def live_run(ui_server: UiServer, logged: Logged) -> Iterator[str]:
    client = ui_server.client
    run = client.create_run(logged.experiment_id, run_name="live-run")
    for step in range(3):
        client.log_metric(run.info.run_id, "live", float(step), step=step, synchronous=True)
    yield run.info.run_id
    if client.get_run(run.info.run_id).info.status == "RUNNING":
        client.set_terminated(run.info.run_id)


def test_running_run_updates_without_reload(page: Page, ui_server: UiServer, live_run: str) -> None:
    client = ui_server.client
    page.goto(ui_server.view(f"/runs/{live_run}?tab=metrics&metrics=live"))
    chart = _chart(page, "live")
    expect(chart).to_have_attribute("data-points", "3", timeout=DRAW)
    expect(page.get_by_test_id("run-status")).to_have_text("RUNNING")
    client.log_metric(live_run, "live", 42.0, step=3, synchronous=True)
    expect(chart).to_have_attribute("data-points", "4", timeout=15_000)
    expect(chart).to_contain_text("latest 42")

    page.get_by_role("tab", name="Overview").click()
    value = page.get_by_test_id("latest-metrics").locator("tr[data-key=live] [data-testid=metric-value]")
    expect(value).to_have_text("42")
    client.log_metric(live_run, "live", 43.5, step=4, synchronous=True)
    expect(value).to_have_text("43.5", timeout=15_000)

    client.set_terminated(live_run)
    expect(page.get_by_test_id("run-status")).to_have_text("FINISHED", timeout=15_000)
    expect(page.get_by_test_id("run-end")).not_to_have_text("—")


def test_metrics_that_appear_while_running_get_charts(page: Page, ui_server: UiServer, live_run: str) -> None:
    page.goto(ui_server.view(f"/runs/{live_run}?tab=metrics"))
    expect(_chart(page, "live")).to_have_attribute("data-state", "drawn", timeout=DRAW)
    ui_server.client.log_metric(live_run, "val_loss", 0.7, step=0, synchronous=True)
    expect(_chart(page, "val_loss")).to_have_attribute("data-points", "1", timeout=DRAW)
    expect(page.get_by_test_id("metric-chart")).to_have_count(2)


def test_missing_run_says_so(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/runs/0123456789abcdef0123456789abcdef"))
    expect(page.get_by_role("alert")).to_contain_text("No run 0123456789abcdef0123456789abcdef")
