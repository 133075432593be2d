// #/models/:name/versions/:version: one model version: overview with the stage transition
// control, description, tags, its aliases, the MLmodel file, and delete.
import { ApiError, mlflow } from "../api.js";
import { formatAgo, formatTime, h, link, replace } from "../dom.js";
import { breadcrumbs, confirmDialog, emptyState, errorBox, kvTable, spinner, statusBadge, toast } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import {
  STAGES, aliasBadge, descriptionEditor, fetchText, modelPath, reportError, runLink, stageBadge, tagEditor,
} from "../registry/common.js";
import { deleteAlias, setAlias } from "../registry/aliases.js";
import { mlmodelView } from "../registry/mlmodel.js";

/**
 * The MLmodel text of a version: through the registry's artifact route; when that answers 404
 * (a server without the route), from the logged model it was registered from, else from a
 * runs:/ source.
 */
async function loadMlmodel(version, signal) {
  const attempts = [() => fetchText("model-versions/get-artifact",
    { name: version.name, version: version.version, path: "MLmodel" }, { signal })];
  if (version.model_id) {
    attempts.push(() => fetchText(`ajax-api/2.0/mlflow/logged-models/${encodeURIComponent(version.model_id)}/artifacts/files`,
      { artifact_file_path: "MLmodel" }, { signal }));
  }
  const runSource = /^runs:\/([^/]+)\/?(.*)$/.exec(version.source || "");
  if (runSource) {
    const dir = runSource[2].replace(/\/+$/, "");
    attempts.push(() => fetchText("get-artifact", { run_id: runSource[1], path: dir ? `${dir}/MLmodel` : "MLmodel" }, { signal }));
  }
  let lastError = null;
  for (const attempt of attempts) {
    try {
      return await attempt();
    } catch (err) {
      // Only a missing route or file is worth another way; a refusal is the answer.
      if (err.name === "AbortError" || err.status !== 404) throw err;
      lastError = err;
    }
  }
  throw lastError || new ApiError(404, "RESOURCE_DOES_NOT_EXIST", "No MLmodel file found for this version.");
}

export async function render(ctx) {
  const { root, params, signal } = ctx;
  const { name } = params;
  const number = params.version;
  document.title = `${name} v${number} · Models · mltrail`;
  await ensureStyles("registry");
  const crumbs = () => breadcrumbs([["Models", "/models"], [name, modelPath(name)], [`Version ${number}`, null]]);

  let version;
  let model;
  try {
    [version, model] = await Promise.all([
      mlflow.get("model-versions/get", { name, version: number }, { signal }).then((r) => r.model_version),
      mlflow.get("registered-models/get", { name }, { signal }).then((r) => r.registered_model),
    ]);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    replace(root, crumbs(), err.status === 404
      ? emptyState(`Model "${name}" has no version ${number}.`, h("a", { href: "#" + modelPath(name) }, `Back to ${name}`))
      : errorBox(err, "Could not load the model version"));
    return;
  }

  const badges = h("div", { class: "header-badges" });
  const overviewHost = h("section", { class: "card", "aria-label": "Overview", "data-testid": "version-overview" });
  const aliasesHost = h("section", { class: "card", "aria-label": "Aliases of this version", "data-testid": "version-aliases" });
  const mlmodelHost = h("section", { class: "card", "aria-label": "MLmodel", "data-testid": "mlmodel-card" },
    h("div", { class: "card-head" }, h("h2", null, "MLmodel")), spinner("Loading the MLmodel file…"));

  replace(root, crumbs(),
    h("div", { class: "page-header" },
      h("div", null, h("h1", null, h("a", { href: "#" + modelPath(name), class: "title-link" }, name), ` · Version ${number}`), badges),
      h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: deleteVersion }, "Delete version"))),
    h("div", { class: "grid grid-2" },
      overviewHost,
      h("div", { class: "stack" },
        descriptionEditor({
          text: version.description,
          onSave: async (text) => {
            version = (await mlflow.patch("model-versions/update", { name, version: number, description: text })).model_version;
            showOverview();
            return version.description || "";
          },
        }),
        aliasesHost,
        tagEditor({
          tags: version.tags,
          onSet: (key, value) => mlflow.post("model-versions/set-tag", { name, version: number, key, value }),
          onDelete: (key) => mlflow.delete("model-versions/delete-tag", { name, version: number, key }),
        }))),
    mlmodelHost);

  function showBadges() {
    replace(badges, statusBadge(version.status), " ", h("span", { "data-testid": "version-stage" }, stageBadge(version.current_stage)),
      " ", (version.aliases || []).map((a) => aliasBadge(a)));
  }

  function stageControl() {
    const select = h("select", { name: "stage", "aria-label": "New stage" },
      STAGES.map((s) => h("option", { value: s, selected: s === version.current_stage }, s)));
    const archive = h("input", { type: "checkbox", name: "archive_existing_versions" });
    const archiveLabel = h("label", { class: "checkbox" }, archive, "Archive other versions in that stage");
    const sync = () => {
      // Only Staging and Production move other versions aside.
      const applies = select.value === "Staging" || select.value === "Production";
      archive.disabled = !applies;
      if (!applies) archive.checked = false;
    };
    select.addEventListener("change", sync);
    sync();
    return h("form", { class: "inline-form stage-form", "aria-label": "Transition stage", onsubmit: async (ev) => {
      ev.preventDefault();
      const stage = select.value;
      if (stage === version.current_stage && !archive.checked) return;
      if (archive.checked) {
        const ok = await confirmDialog("Transition stage",
          `Move version ${number} to ${stage} and archive every other version of "${name}" now in ${stage}?`, { confirmLabel: "Transition" });
        if (!ok) return;
      }
      try {
        version = (await mlflow.post("model-versions/transition-stage",
          { name, version: number, stage, archive_existing_versions: archive.checked })).model_version;
        toast(`Version ${number} is now in ${version.current_stage}`, "success");
        showBadges();
        showOverview();
      } catch (err) {
        reportError(err, "Could not change the stage");
      }
    } }, select, archiveLabel, h("button", { type: "submit" }, "Transition"));
  }

  function showOverview() {
    const rows = [
      ["Status", h("span", null, statusBadge(version.status), version.status_message ? h("span", { class: "muted" }, ` ${version.status_message}`) : null)],
      ["Stage", h("div", { class: "stage-cell" }, stageBadge(version.current_stage), stageControl())],
      ["Created", h("span", { title: formatTime(version.creation_timestamp) }, `${formatTime(version.creation_timestamp)} (${formatAgo(version.creation_timestamp)})`)],
      ["Last updated", h("span", { title: formatTime(version.last_updated_timestamp) }, `${formatTime(version.last_updated_timestamp)} (${formatAgo(version.last_updated_timestamp)})`)],
      ["Creator", version.user_id || h("span", { class: "muted" }, "—")],
      ["Source", h("code", { class: "break" }, version.source)],
      ["Source run", version.run_id ? runLink(version.run_id, version.run_id) : h("span", { class: "muted" }, "—")],
    ];
    if (version.model_id) {
      rows.push(["Logged model", link(`/logged-models/${encodeURIComponent(version.model_id)}`, version.model_id, { class: "mono", "data-testid": "logged-model-link" })]);
    }
    if (version.run_link) rows.push(["Run link", h("span", { class: "mono break" }, version.run_link)]);
    replace(overviewHost, h("div", { class: "card-head" }, h("h2", null, "Overview")), kvTable(rows));
  }

  function showAliases() {
    const mine = [...(version.aliases || [])].sort();
    const input = h("input", { type: "text", name: "alias", placeholder: "alias, e.g. champion", "aria-label": "Add alias to this version", autocomplete: "off", required: true });
    replace(aliasesHost,
      h("div", { class: "card-head" }, h("h2", null, "Aliases")),
      mine.length ? h("div", { class: "badge-list" }, mine.map((a) => h("span", { class: "chip alias-chip", dataset: { alias: a } },
        h("span", { class: "mono" }, `@${a}`),
        h("button", { type: "button", "aria-label": `Remove alias ${a}`, title: "Remove", onclick: () => removeAlias(a) }, "×"))))
        : h("p", { class: "muted" }, "No alias points at this version."),
      h("form", { class: "inline-form", "aria-label": "Add alias", onsubmit: async (ev) => {
        ev.preventDefault();
        const alias = input.value.trim();
        if (alias) await addAlias(alias);
      } }, input, h("button", { type: "submit" }, "Add alias")));
  }

  async function reloadVersion() {
    [version, model] = await Promise.all([
      mlflow.get("model-versions/get", { name, version: number }, { signal }).then((r) => r.model_version),
      mlflow.get("registered-models/get", { name }, { signal }).then((r) => r.registered_model),
    ]);
    showBadges();
    showOverview();
    showAliases();
  }

  async function addAlias(alias) {
    const elsewhere = (model.aliases || []).find((a) => a.alias === alias && a.version !== String(number));
    if (elsewhere) {
      const ok = await confirmDialog("Move alias", `@${alias} points at version ${elsewhere.version}. Move it to version ${number}?`, { confirmLabel: "Move alias" });
      if (!ok) return;
    }
    try {
      await setAlias(name, alias, number);
      toast(`@${alias} now points at version ${number}`, "success");
      await reloadVersion();
    } catch (err) {
      reportError(err, `Could not set @${alias}`);
    }
  }

  async function removeAlias(alias) {
    if (!(await confirmDialog("Remove alias", `Remove @${alias} from "${name}"?`, { confirmLabel: "Remove", danger: true }))) return;
    try {
      await deleteAlias(name, alias);
      toast(`@${alias} removed`, "success");
      await reloadVersion();
    } catch (err) {
      reportError(err, `Could not remove @${alias}`);
    }
  }

  async function deleteVersion() {
    const ok = await confirmDialog("Delete version",
      `Delete version ${number} of "${name}"? Aliases pointing at it are removed. This cannot be undone.`, { confirmLabel: "Delete", danger: true });
    if (!ok) return;
    try {
      await mlflow.delete("model-versions/delete", { name, version: number });
      toast(`Version ${number} deleted`, "success");
      ctx.navigate(modelPath(name));
    } catch (err) {
      reportError(err, "Could not delete the version");
    }
  }

  showBadges();
  showOverview();
  showAliases();
  try {
    const text = await loadMlmodel(version, signal);
    replace(mlmodelHost, h("div", { class: "card-head" }, h("h2", null, "MLmodel")), mlmodelView(text));
  } catch (err) {
    if (err.name === "AbortError") throw err;
    replace(mlmodelHost, h("div", { class: "card-head" }, h("h2", null, "MLmodel")),
      err.status === 404 ? h("p", { class: "muted" }, "This version has no MLmodel file.") : errorBox(err, "Could not load the MLmodel file"));
  }
}
