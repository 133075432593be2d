"""The model registry pages (#/models, #/models/<name>, versions) and the logged-model page.

Models and versions are made through the real clients: scikit-learn models logged with
``mltrail.sklearn.log_model`` (so versions carry a real MLmodel file) and plain versions made with
``RegistryClient``. Every change made in the browser is checked through the client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from sklearn.linear_model import LogisticRegression

import mltrail
import mltrail.sklearn
from mltrail._plugins import resolve_artifact_repository
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.registry import fluent as registry_fluent
from mltrail.registry.client import RegistryClient
from mltrail.tracking import _fluent_state
from tests.ui.conftest import PageWatch, UiServer

LOGGED = "churn-classifier"


@dataclass
class Seeded:
    """What the module's data holds: a model made by log_model, and the client to check with."""

    registry: RegistryClient
    model_ids: list[str]
    run_ids: list[str]


def _reset_fluent() -> None:
    registry_fluent._reset()
    _fluent_state._reset()


@pytest.fixture(scope="module")
def seeded(ui_server: UiServer) -> Iterator[Seeded]:
    """Three scikit-learn versions of ``churn-classifier`` plus two plain registered models."""
    _reset_fluent()
    mltrail.set_tracking_uri(ui_server.url)
    registry = RegistryClient(ui_server.url)
    features = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.4], [0.2, 0.9]])
    labels = np.array([0, 1, 1, 0])
    experiment_id = ui_server.client.create_experiment("registry-ui")
    model_ids: list[str] = []
    run_ids: list[str] = []
    try:
        for i in range(3):
            with mltrail.start_run(experiment_id=experiment_id) as run:
                mltrail.log_param("C", str(i + 1))
                # Written at once: log_model below reads the run through another client.
                mltrail.log_metric("accuracy", 0.75 + i * 0.05, synchronous=True)
                estimator = LogisticRegression(C=i + 1).fit(features, labels)
                info = mltrail.sklearn.log_model(
                    estimator,
                    name="model",
                    input_example=features[:2],
                    registered_model_name=LOGGED,
                    client=ui_server.client,
                )
                model_ids.append(info.model_id)
                run_ids.append(run.info.run_id)
    finally:
        _reset_fluent()
    registry.create_registered_model(
        "fraud-detector", {"team": "risk"}, "Flags card fraud.\nRetrained weekly."
    )
    registry.create_registered_model("empty-model", {}, None)
    try:
        yield Seeded(registry=registry, model_ids=model_ids, run_ids=run_ids)
    finally:
        registry.close()


def _plain_model(seeded: Seeded, name: str, versions: int) -> None:
    """A registered model with ``versions`` versions that point at no files."""
    seeded.registry.create_registered_model(name)
    for i in range(versions):
        seeded.registry.create_model_version(name, f"s3://registry-ui-tests/{name}/{i + 1}")


def _dialog_button(page: Page, name: str) -> None:
    page.get_by_role("dialog").get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)


# -- #/models ------------------------------------------------------------------------------------


def test_models_list_shows_versions_aliases_tags_and_descriptions(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    seeded.registry.set_registered_model_alias(LOGGED, "baseline", "1")
    page.goto(ui_server.view("/models"))
    expect(page).to_have_title("Models · mltrail")
    table = page.get_by_test_id("models-table")
    expect(table).to_have_attribute("data-state", "ready")
    fraud = page.locator('[data-testid=model-row][data-model-name="fraud-detector"]')
    expect(fraud).to_contain_text("team")
    expect(fraud).to_contain_text("risk")
    expect(fraud).to_contain_text("Flags card fraud.")
    expect(fraud).not_to_contain_text("Retrained weekly")  # the snippet is the first line
    churn = page.locator(f'[data-testid=model-row][data-model-name="{LOGGED}"]')
    expect(churn).to_contain_text("v3")
    expect(churn.locator(".badge.alias")).to_have_text("@baseline")
    churn.get_by_role("link", name=LOGGED).click()
    expect(page).to_have_url(ui_server.view(f"/models/{LOGGED}"))
    expect(page.get_by_test_id("model-name")).to_have_text(LOGGED)


def test_models_search_is_debounced_kept_in_the_url_and_restored(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    page.goto(ui_server.view("/models"))
    rows = page.get_by_test_id("model-row")
    expect(rows.first).to_be_visible()
    page.get_by_label("Filter models by name").fill("FRAUD")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-model-name", "fraud-detector")
    expect(page).to_have_url(re.compile(r"[?&]q=FRAUD"))
    page.reload()
    expect(page.get_by_label("Filter models by name")).to_have_value("FRAUD")
    expect(page.get_by_test_id("models-table")).to_have_attribute("data-state", "ready")
    expect(rows).to_have_count(1)
    page.get_by_label("Filter models by name").fill("no-model-has-this-name")
    expect(page.get_by_text('No models match "no-model-has-this-name".')).to_be_visible()


def test_models_sort_by_name_toggles_and_is_in_the_url(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    page.goto(ui_server.view("/models"))
    rows = page.get_by_test_id("model-row")
    header = page.locator('th[data-column="name"]')
    expect(header).to_have_attribute("aria-sort", "ascending")
    names = rows.evaluate_all("rows => rows.map(r => r.dataset.modelName)")
    assert names == sorted(names)
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"sort=name\+DESC"))
    expect(rows.first).to_have_attribute("data-model-name", max(names))
    page.reload()
    expect(page.locator('th[data-column="name"]')).to_have_attribute("aria-sort", "descending")
    expect(rows.first).to_have_attribute("data-model-name", max(names))
    # The headers are buttons: sorting works from the keyboard too.
    modified = page.locator('th[data-column="last_updated_timestamp"]')
    modified.get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(modified).to_have_attribute("aria-sort", "descending")
    expect(page.locator('th[data-column="name"]')).to_have_attribute("aria-sort", "none")
    expect(page).to_have_url(re.compile(r"sort=last_updated_timestamp\+DESC"))


def test_models_are_paged_by_the_server(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    for i in range(12):
        seeded.registry.create_registered_model(f"paged-{i:02d}")
    page.goto(ui_server.view("/models?q=paged-&size=10"))
    rows = page.get_by_test_id("model-row")
    expect(rows).to_have_count(10)
    expect(page.get_by_test_id("models-page")).to_have_text("Page 1")
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_test_id("models-page")).to_have_text("Page 2")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-model-name", "paged-10")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(page).to_have_url(re.compile(r"page=2"))
    page.reload()  # page 2 is rebuilt from the URL by walking the server's page tokens
    expect(page.get_by_test_id("models-page")).to_have_text("Page 2")
    expect(rows).to_have_count(2)


def test_create_a_model_in_a_dialog_then_delete_it(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    page.goto(ui_server.view("/models"))
    page.get_by_role("button", name="Create model").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("fraud-detector")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.get_by_role("alert")).to_contain_text("already exists")  # the dialog stays open
    dialog.get_by_label("Name").fill("made-in-the-ui")
    dialog.get_by_label("Description (optional)").fill("Created from the browser.")
    dialog.get_by_role("button", name="Create").click()
    expect(page).to_have_url(ui_server.view("/models/made-in-the-ui"))
    expect(page.get_by_test_id("description")).to_contain_text("Created from the browser.")
    assert seeded.registry.get_registered_model("made-in-the-ui").description == "Created from the browser."

    page.goto(ui_server.view("/models?q=made-in"))
    page.get_by_role("button", name="Delete model made-in-the-ui").click()
    _dialog_button(page, "Delete")
    expect(page.get_by_test_id("model-row")).to_have_count(0)
    with pytest.raises(NotFoundError):
        seeded.registry.get_registered_model("made-in-the-ui")


# -- #/models/<name> --------------------------------------------------------------------------


def test_model_page_lists_versions_with_stage_aliases_and_run_links(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    page.goto(ui_server.view(f"/models/{LOGGED}"))
    expect(page).to_have_title(f"{LOGGED} · Models · mltrail")
    versions = page.get_by_test_id("version-row")
    expect(versions).to_have_count(3)
    expect(versions.first).to_have_attribute("data-version", "3")  # newest first
    first = page.locator('[data-testid=version-row][data-version="1"]')
    expect(first.locator("[data-stage]")).to_have_text("None")
    expect(first).to_contain_text("READY")
    expect(first.get_by_role("link", name=seeded.run_ids[0][:8])).to_have_attribute(
        "href", f"#/runs/{seeded.run_ids[0]}"
    )
    page.get_by_label("Order of versions").select_option("version_number ASC")
    expect(versions.first).to_have_attribute("data-version", "1")
    expect(page).to_have_url(re.compile(r"vsort=version_number\+ASC"))


def test_set_an_alias_in_the_ui_and_delete_it(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    _plain_model(seeded, "alias-target", 2)
    page.goto(ui_server.view("/models/alias-target"))
    aliases = page.get_by_test_id("aliases")
    aliases.get_by_label("Alias name").fill("champion")
    aliases.get_by_label("Version for the alias").fill("2")
    aliases.get_by_label("Reason for the alias change").fill("best recall")
    aliases.get_by_role("button", name="Set alias").click()
    expect(aliases.locator('[data-testid=alias-row][data-alias="champion"]')).to_have_attribute(
        "data-version", "2"
    )
    assert seeded.registry.get_model_version_by_alias("alias-target", "champion").version == "2"
    history = page.locator('[data-testid=alias-history-group][data-alias="champion"]')
    expect(history.get_by_test_id("alias-event")).to_have_count(1)
    expect(history).to_contain_text("best recall")
    expect(page.locator('[data-testid=version-row][data-version="2"]')).to_contain_text("@champion")

    aliases.get_by_role("button", name="Delete alias champion").click()
    _dialog_button(page, "Delete")
    expect(aliases.get_by_test_id("alias-row")).to_have_count(0)
    with pytest.raises(InvalidArgumentError):
        seeded.registry.get_model_version_by_alias("alias-target", "champion")
    expect(history.get_by_test_id("alias-event").first).to_have_attribute("data-action", "DELETE")


def test_move_an_alias_twice_and_roll_back_through_the_history(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    _plain_model(seeded, "rollback-model", 3)
    page.goto(ui_server.view("/models/rollback-model"))
    aliases = page.get_by_test_id("aliases")
    row = aliases.locator('[data-testid=alias-row][data-alias="prod"]')
    for version in ("1", "2", "3"):
        aliases.get_by_label("Alias name").fill("prod")
        aliases.get_by_label("Version for the alias").fill(version)
        aliases.get_by_role("button", name="Set alias").click()
        if version != "1":  # moving an existing alias asks first
            expect(page.get_by_role("dialog")).to_contain_text("Move @prod from version")
            _dialog_button(page, "Move alias")
        expect(row).to_have_attribute("data-version", version)
    assert seeded.registry.get_model_version_by_alias("rollback-model", "prod").version == "3"
    group = page.locator('[data-testid=alias-history-group][data-alias="prod"]')
    events = group.get_by_test_id("alias-event")
    expect(events).to_have_count(3)
    expect(events.first).to_contain_text("v2 → v3")

    # "Roll back" goes to the target before the latest move.
    group.get_by_role("button", name="Roll back @prod", exact=True).click()
    expect(page.get_by_role("dialog")).to_contain_text("Point @prod back")
    _dialog_button(page, "Roll back")
    expect(row).to_have_attribute("data-version", "2")
    assert seeded.registry.get_model_version_by_alias("rollback-model", "prod").version == "2"
    expect(events).to_have_count(4)
    expect(events.first).to_have_attribute("data-action", "ROLLBACK")

    # An explicit earlier target from the history.
    group.get_by_role("button", name="Roll back @prod to version 1").click()
    _dialog_button(page, "Roll back")
    expect(row).to_have_attribute("data-version", "1")
    history = seeded.registry.get_alias_history("rollback-model", "prod")
    assert [(e.action.value, e.to_version) for e in history][-2:] == [("ROLLBACK", "2"), ("ROLLBACK", "1")]

    # Cancelling changes nothing.
    group.get_by_role("button", name="Roll back @prod to version 3").click()
    _dialog_button(page, "Cancel")
    assert seeded.registry.get_model_version_by_alias("rollback-model", "prod").version == "1"


def test_edit_the_description_and_tags_of_a_model(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    _plain_model(seeded, "editable-model", 1)
    page.goto(ui_server.view("/models/editable-model"))
    description = page.get_by_test_id("description")
    expect(description).to_contain_text("No description.")
    description.get_by_role("button", name="Edit description").click()
    description.get_by_role("textbox", name="Description").fill(
        "Scores leads.\n\n- trained on **2025** data\n- uses `lightgbm`"
    )
    description.get_by_role("button", name="Save").click()
    expect(description.locator("li")).to_have_count(2)
    expect(description.locator("strong")).to_have_text("2025")
    expect(description.locator("code")).to_have_text("lightgbm")
    assert seeded.registry.get_registered_model("editable-model").description == (
        "Scores leads.\n\n- trained on **2025** data\n- uses `lightgbm`"
    )

    tags = page.get_by_test_id("tags")
    tags.get_by_label("New tag key").fill("owner")
    tags.get_by_label("New tag value").fill("ana")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.locator('tr[data-tag-key="owner"]')).to_contain_text("ana")
    assert seeded.registry.get_registered_model("editable-model").tags == {"owner": "ana"}

    tags.get_by_role("button", name="Edit tag owner").click()
    tags.get_by_label("Value of tag owner").fill("bruno")
    tags.get_by_role("button", name="Save").click()
    expect(tags.locator('tr[data-tag-key="owner"]')).to_contain_text("bruno")
    assert seeded.registry.get_registered_model("editable-model").tags == {"owner": "bruno"}

    tags.get_by_role("button", name="Delete tag owner").click()
    _dialog_button(page, "Delete")
    expect(tags.locator('tr[data-tag-key="owner"]')).to_have_count(0)
    assert seeded.registry.get_registered_model("editable-model").tags == {}

    page.reload()
    expect(page.get_by_test_id("description").locator("li")).to_have_count(2)


def test_rename_and_delete_a_model_from_its_page(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    _plain_model(seeded, "old name", 1)
    page.goto(ui_server.view(f"/models/{quote('old name')}"))
    expect(page.get_by_test_id("model-name")).to_have_text("old name")
    page.get_by_role("button", name="Rename").click()
    page.get_by_role("dialog").get_by_label("New name").fill("new name")
    _dialog_button(page, "Rename")
    expect(page.get_by_test_id("model-name")).to_have_text("new name")
    assert seeded.registry.get_registered_model("new name").name == "new name"
    with pytest.raises(NotFoundError):
        seeded.registry.get_registered_model("old name")

    page.get_by_role("button", name="Delete model").click()
    _dialog_button(page, "Delete")
    expect(page).to_have_url(ui_server.view("/models"))
    with pytest.raises(NotFoundError):
        seeded.registry.get_registered_model("new name")


def test_a_missing_model_says_so(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/models/no-such-model"))
    expect(page.get_by_text('No registered model named "no-such-model".')).to_be_visible()
    page.get_by_role("link", name="Back to models").click()
    expect(page).to_have_url(ui_server.view("/models"))


# -- #/models/<name>/versions/<version> ---------------------------------------------------------


def test_version_page_shows_the_mlmodel_flavors_signature_and_links(
    page: Page, ui_server: UiServer, seeded: Seeded, watch: PageWatch
) -> None:
    page.goto(ui_server.view(f"/models/{LOGGED}/versions/2"))
    expect(page).to_have_title(f"{LOGGED} v2 · Models · mltrail")
    overview = page.get_by_test_id("version-overview")
    expect(overview).to_contain_text(f"models:/{seeded.model_ids[1]}")
    expect(overview.get_by_role("link", name=seeded.run_ids[1])).to_have_attribute(
        "href", f"#/runs/{seeded.run_ids[1]}"
    )
    mlmodel = page.get_by_test_id("mlmodel")
    flavors = mlmodel.get_by_test_id("mlmodel-flavor")
    expect(flavors).to_have_count(2)
    expect(mlmodel.locator('[data-flavor="sklearn"]')).to_contain_text("skops")
    expect(mlmodel.locator('[data-flavor="python_function"]')).to_contain_text("model.skops")
    signature = mlmodel.get_by_test_id("mlmodel-signature")
    expect(signature).to_contain_text("tensor (float64)")
    expect(signature).to_contain_text("shape [-1, 2]")
    expect(mlmodel.get_by_test_id("mlmodel-raw")).to_contain_text("flavors:")
    # Read through the registry's own artifact route, with no fallback needed.
    assert any("/model-versions/get-artifact?" in url for url in watch.requests)
    assert not any("/artifacts/files?" in url for url in watch.requests)

    page.get_by_test_id("logged-model-link").click()
    expect(page).to_have_url(ui_server.view(f"/logged-models/{seeded.model_ids[1]}"))
    expect(page.get_by_test_id("logged-model-name")).to_have_text("model")


def test_transition_the_stage_archiving_the_other_versions(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    _plain_model(seeded, "staged-model", 2)
    seeded.registry.transition_model_version_stage("staged-model", "1", "Production")
    page.goto(ui_server.view("/models/staged-model/versions/2"))
    stage = page.get_by_test_id("version-stage")
    expect(stage).to_have_text("None")
    overview = page.get_by_test_id("version-overview")
    overview.get_by_label("New stage").select_option("Staging")
    overview.get_by_role("button", name="Transition").click()
    expect(stage).to_have_text("Staging")
    assert seeded.registry.get_model_version("staged-model", "2").current_stage == "Staging"

    overview.get_by_label("New stage").select_option("Archived")
    expect(overview.get_by_label("Archive other versions in that stage")).to_be_disabled()
    overview.get_by_label("New stage").select_option("Production")
    overview.get_by_label("Archive other versions in that stage").check()
    overview.get_by_role("button", name="Transition").click()
    _dialog_button(page, "Transition")
    expect(stage).to_have_text("Production")
    assert seeded.registry.get_model_version("staged-model", "2").current_stage == "Production"
    assert seeded.registry.get_model_version("staged-model", "1").current_stage == "Archived"


def test_version_description_tags_and_aliases_are_editable(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    _plain_model(seeded, "version-edits", 2)
    seeded.registry.set_registered_model_alias("version-edits", "shadow", "1")
    page.goto(ui_server.view("/models/version-edits/versions/2"))
    # The versions point outside the server's artifact roots: the server refuses, the page says so.
    expect(page.get_by_test_id("mlmodel-card").get_by_role("alert")).to_contain_text(
        "Could not load the MLmodel file"
    )

    description = page.get_by_test_id("description")
    description.get_by_role("button", name="Edit description").click()
    description.get_by_role("textbox", name="Description").fill("Candidate for the next release.")
    description.get_by_role("button", name="Save").click()
    expect(description).to_contain_text("Candidate for the next release.")
    assert (
        seeded.registry.get_model_version("version-edits", "2").description
        == "Candidate for the next release."
    )

    tags = page.get_by_test_id("tags")
    tags.get_by_label("New tag key").fill("validated")
    tags.get_by_label("New tag value").fill("yes")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.locator('tr[data-tag-key="validated"]')).to_contain_text("yes")
    assert seeded.registry.get_model_version("version-edits", "2").tags == {"validated": "yes"}

    aliases = page.get_by_test_id("version-aliases")
    aliases.get_by_label("Add alias to this version").fill("shadow")
    aliases.get_by_role("button", name="Add alias").click()
    expect(page.get_by_role("dialog")).to_contain_text("@shadow points at version 1")
    _dialog_button(page, "Move alias")
    expect(aliases.locator('[data-alias="shadow"]')).to_be_visible()
    assert seeded.registry.get_model_version_by_alias("version-edits", "shadow").version == "2"

    aliases.get_by_role("button", name="Remove alias shadow").click()
    _dialog_button(page, "Remove")
    expect(aliases.locator('[data-alias="shadow"]')).to_have_count(0)
    with pytest.raises(InvalidArgumentError):
        seeded.registry.get_model_version_by_alias("version-edits", "shadow")


def test_delete_a_version(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    _plain_model(seeded, "shrinking-model", 2)
    page.goto(ui_server.view("/models/shrinking-model/versions/2"))
    page.get_by_role("button", name="Delete version").click()
    _dialog_button(page, "Delete")
    expect(page).to_have_url(ui_server.view("/models/shrinking-model"))
    expect(page.get_by_test_id("version-row")).to_have_count(1)
    with pytest.raises(NotFoundError):
        seeded.registry.get_model_version("shrinking-model", "2")


def test_a_missing_version_says_so(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    page.goto(ui_server.view(f"/models/{LOGGED}/versions/99"))
    expect(page.get_by_text(f'Model "{LOGGED}" has no version 99.')).to_be_visible()


# -- #/logged-models/<id> ----------------------------------------------------------------------


def test_logged_model_page_shows_params_metrics_versions_and_artifacts(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    model_id = seeded.model_ids[2]
    page.goto(ui_server.view(f"/logged-models/{model_id}"))
    expect(page.get_by_test_id("logged-model-name")).to_have_text("model")
    expect(page).to_have_title("model · Logged model · mltrail")
    expect(page.get_by_text("READY", exact=True).first).to_be_visible()
    params = page.get_by_test_id("logged-model-params")
    expect(params.locator('tr[data-key="C"]')).to_contain_text("3")
    metrics = page.get_by_test_id("logged-model-metrics")
    expect(metrics.locator('tr[data-key="accuracy"]')).to_contain_text("0.85")
    registration = page.get_by_test_id("registration")
    expect(registration).to_have_attribute("data-version", "3")
    expect(registration).to_contain_text(f"{LOGGED} v3")

    files = page.get_by_test_id("artifact-list")
    expect(files.locator('[data-path="MLmodel"]')).to_have_attribute("aria-pressed", "true")
    preview = page.get_by_test_id("artifact-preview")
    expect(preview.locator('[data-flavor="sklearn"]')).to_be_visible()
    files.locator('[data-path="requirements.txt"]').click()
    expect(preview.locator("pre")).to_contain_text("scikit-learn")
    expect(page).to_have_url(re.compile(r"file=requirements\.txt"))
    page.reload()
    expect(page.get_by_test_id("artifact-preview").locator("pre")).to_contain_text("scikit-learn")

    page.get_by_role("link", name=f"{LOGGED} v3").click()
    expect(page).to_have_url(ui_server.view(f"/models/{LOGGED}/versions/3"))


def test_logged_model_tags_are_editable(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    model_id = seeded.model_ids[0]
    page.goto(ui_server.view(f"/logged-models/{model_id}"))
    tags = page.get_by_test_id("tags")
    tags.get_by_label("New tag key").fill("reviewed")
    tags.get_by_label("New tag value").fill("true")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.locator('tr[data-tag-key="reviewed"]')).to_contain_text("true")
    client = ui_server.client
    assert client.get_logged_model(model_id).tags["reviewed"] == "true"
    tags.get_by_role("button", name="Delete tag reviewed").click()
    _dialog_button(page, "Delete")
    expect(tags.locator('tr[data-tag-key="reviewed"]')).to_have_count(0)
    assert "reviewed" not in client.get_logged_model(model_id).tags


def test_the_mlmodel_reader_handles_the_yaml_that_model_files_use(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/models"))
    expect(page.get_by_test_id("models-table")).to_have_attribute("data-state", "ready")
    text = (
        "flavors:\n"
        "  python_function:\n"
        "    env: {conda: conda.yaml, virtualenv: python_env.yaml}\n"
        "    code: null\n"
        "metadata:\n"
        "  notes: |\n"
        "    first line\n"
        "    second line\n"
        "  owners:\n"
        "  - name: ana\n"
        "    share: 0.5\n"
        "  - bruno\n"
        "  quoted: 'it''s a\n"
        "    long one'\n"
        '  escaped: "tab\\there"\n'
        "  shape: [-1, 2]\n"
        "  flag: true # trailing comment\n"
        "  url: https://example.invalid/a:b\n"
    )
    parsed = page.evaluate(
        "async (text) => (await import('./static-files/js/registry/mlmodel.js')).parseYaml(text)", text
    )
    assert parsed == {
        "flavors": {
            "python_function": {"env": {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}, "code": None}
        },
        "metadata": {
            "notes": "first line\nsecond line\n",
            "owners": [{"name": "ana", "share": 0.5}, "bruno"],
            "quoted": "it's a long one",
            "escaped": "tab\there",
            "shape": [-1, 2],
            "flag": True,
            "url": "https://example.invalid/a:b",
        },
    }


def test_a_pending_then_deleted_logged_model_is_marked(
    page: Page, ui_server: UiServer, seeded: Seeded
) -> None:
    client = ui_server.client
    experiment_id = client.get_experiment_by_name("registry-ui").experiment_id
    pending = client.create_logged_model(
        experiment_id, name="draft-agent", params={"temperature": "0.2"}, model_type="agent"
    )
    page.goto(ui_server.view(f"/logged-models/{pending.model_id}"))
    expect(page.get_by_test_id("logged-model-name")).to_have_text("draft-agent")
    expect(page.locator(".header-badges")).to_contain_text("PENDING")
    expect(page.locator(".header-badges")).to_contain_text("agent")
    expect(page.get_by_test_id("logged-model-params").locator('tr[data-key="temperature"]')).to_contain_text(
        "0.2"
    )
    expect(page.get_by_test_id("logged-model-versions")).to_contain_text("Not registered")
    expect(page.get_by_test_id("artifact-list")).to_contain_text("No artifacts.")
    expect(page.get_by_test_id("deleted-badge")).to_have_count(0)
    expect(page.get_by_role("link", name="registry-ui").first).to_have_attribute(
        "href", f"#/experiments/{experiment_id}"
    )

    client.delete_logged_model(pending.model_id)
    page.reload()
    expect(page.get_by_test_id("deleted-badge")).to_be_visible()
    expect(page.get_by_test_id("logged-model-name")).to_have_text("draft-agent")


def test_a_missing_logged_model_says_so(page: Page, ui_server: UiServer) -> None:
    page.goto(ui_server.view("/logged-models/m-0123456789abcdef"))
    expect(page.get_by_text("No logged model with ID m-0123456789abcdef.")).to_be_visible()


def test_logged_model_folders_expand_and_binary_files_are_offered_for_download(
    page: Page, ui_server: UiServer, seeded: Seeded, tmp_path: Path
) -> None:
    client = ui_server.client
    experiment_id = client.get_experiment_by_name("registry-ui").experiment_id
    model = client.create_logged_model(experiment_id, name="nested-files")
    (tmp_path / "code" / "utils").mkdir(parents=True)
    (tmp_path / "code" / "utils" / "helpers.py").write_text("def helper():\n    return 42\n")
    (tmp_path / "weights.bin").write_bytes(bytes(range(256)))
    repository = resolve_artifact_repository(model.artifact_uri, tracking_uri=ui_server.url)
    repository.log_artifacts(str(tmp_path))
    page.goto(ui_server.view(f"/logged-models/{model.model_id}"))
    files = page.get_by_test_id("artifact-list")
    preview = page.get_by_test_id("artifact-preview")
    expect(preview).to_contain_text("Select a file to preview it.")
    folder = files.locator('[data-path="code"]')
    expect(folder).to_have_attribute("aria-expanded", "false")
    folder.click()
    expect(folder).to_have_attribute("aria-expanded", "true")
    files.locator('[data-path="code/utils"]').click()
    files.locator('[data-path="code/utils/helpers.py"]').click()
    expect(preview.locator("pre")).to_contain_text("return 42")
    files.locator('[data-path="weights.bin"]').click()
    expect(preview).to_contain_text("No preview for this file type")
    download = preview.get_by_role("link", name="Download")
    with page.expect_download() as info:
        download.click()
    assert Path(info.value.path()).read_bytes() == bytes(range(256))


def test_many_versions_load_a_page_at_a_time(page: Page, ui_server: UiServer, seeded: Seeded) -> None:
    _plain_model(seeded, "many-versions", 102)
    page.goto(ui_server.view("/models/many-versions"))
    rows = page.get_by_test_id("version-row")
    expect(rows).to_have_count(100)
    expect(rows.first).to_have_attribute("data-version", "102")
    page.get_by_role("button", name="Load more versions").click()
    expect(rows).to_have_count(102)
    expect(rows.last).to_have_attribute("data-version", "1")
    expect(page.get_by_role("button", name="Load more versions")).to_have_count(0)
