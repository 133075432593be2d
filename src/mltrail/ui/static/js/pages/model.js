// #/models/:name: one registered model: description, tags, aliases with their history and
// rollback, the versions table, rename and delete. The versions order is kept in the URL (vsort).
import { mlflow } from "../api.js";
import { formatAgo, formatTime, h, replace } from "../dom.js";
import { breadcrumbs, confirmDialog, emptyState, errorBox, promptDialog, spinner, statusBadge, toast } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import {
  aliasBadge, descriptionEditor, metaItem, modelPath, reportError, runLink, stageBadge, tagEditor, versionLink,
} from "../registry/common.js";
import { aliasesCard, aliasHistoryCard, loadAliasHistory } from "../registry/aliases.js";

const VERSION_PAGE = 100;
const VERSION_SORTS = {
  "version_number DESC": "Newest first",
  "version_number ASC": "Oldest first",
  "last_updated_timestamp DESC": "Recently updated",
};

/** The model-versions filter for every version of model `name`. */
export function versionsFilter(name) {
  return `name = '${name.replaceAll("'", "''")}'`;
}

export async function render(ctx) {
  const { root, params, query, signal, setQuery } = ctx;
  const name = params.name;
  document.title = `${name} · Models · mltrail`;
  await ensureStyles("registry");

  let vsort = VERSION_SORTS[query.get("vsort")] ? query.get("vsort") : "version_number DESC";
  let model;
  try {
    model = (await mlflow.get("registered-models/get", { name }, { signal })).registered_model;
  } catch (err) {
    if (err.name === "AbortError") throw err;
    replace(root, breadcrumbs([["Models", "/models"], [name, null]]),
      err.status === 404 ? emptyState(`No registered model named "${name}".`, h("a", { href: "#/models" }, "Back to models"))
        : errorBox(err, "Could not load the model"));
    return;
  }

  const meta = h("div", { class: "page-meta" });
  const aliasesHost = h("div", { class: "aliases-host" }, spinner());
  const historyHost = h("div", { class: "history-host" }, spinner());
  const versionsHost = h("div", { "data-testid": "versions-table", dataset: { state: "loading" } }, spinner());
  const moreHost = h("div", { class: "load-more" });
  const sortSelect = h("select", { "aria-label": "Order of versions" },
    Object.entries(VERSION_SORTS).map(([value, label]) => h("option", { value, selected: value === vsort }, label)));
  sortSelect.addEventListener("change", () => {
    vsort = sortSelect.value;
    setQuery({ vsort: vsort === "version_number DESC" ? null : vsort });
    loadVersions().catch(() => {}); // the versions box already shows the error
  });

  let versions = [];
  let nextToken = null;
  let events = [];

  replace(root,
    breadcrumbs([["Models", "/models"], [name, null]]),
    h("div", { class: "page-header" },
      h("div", null, h("h1", { "data-testid": "model-name" }, name), meta),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: renameModel }, "Rename"),
        h("button", { type: "button", class: "danger", onclick: deleteModel }, "Delete model"))),
    h("div", { class: "grid grid-2 registry-top" },
      descriptionEditor({
        text: model.description || "",
        onSave: async (text) => {
          model = (await mlflow.patch("registered-models/update", { name, description: text })).registered_model;
          showMeta();
          return model.description || "";
        },
      }),
      tagEditor({
        tags: model.tags,
        onSet: (key, value) => mlflow.post("registered-models/set-tag", { name, key, value }),
        onDelete: (key) => mlflow.delete("registered-models/delete-tag", { name, key }),
      })),
    h("div", { class: "grid grid-2 registry-aliases" }, aliasesHost, historyHost),
    h("section", { class: "card versions-card", "aria-label": "Versions" },
      h("div", { class: "card-head" }, h("h2", null, "Versions"), sortSelect),
      versionsHost, moreHost));

  function showMeta() {
    replace(meta,
      metaItem("Created", h("span", { title: formatTime(model.creation_timestamp) }, formatAgo(model.creation_timestamp))),
      metaItem("Last modified", h("span", { title: formatTime(model.last_updated_timestamp) }, formatAgo(model.last_updated_timestamp))),
      model.user_id ? metaItem("Creator", model.user_id) : null);
  }

  function searchVersions(token) {
    return mlflow.get("model-versions/search", {
      filter: versionsFilter(name), max_results: VERSION_PAGE, order_by: [vsort], page_token: token || undefined,
    }, { signal });
  }

  async function loadVersions() {
    versionsHost.dataset.state = "loading";
    const page = await searchVersions(null).catch((err) => {
      if (err.name !== "AbortError") replace(versionsHost, errorBox(err, "Could not load versions"));
      throw err;
    });
    versions = page.model_versions || [];
    nextToken = page.next_page_token || null;
    showVersions();
  }

  async function loadMore() {
    try {
      const page = await searchVersions(nextToken);
      versions = versions.concat(page.model_versions || []);
      nextToken = page.next_page_token || null;
      showVersions();
    } catch (err) {
      reportError(err, "Could not load more versions");
    }
  }

  function showVersions() {
    if (!versions.length) {
      replace(versionsHost, emptyState("No versions yet. Register a logged model (e.g. log_model(..., registered_model_name=...)) to create one."));
    } else {
      replace(versionsHost, h("div", { class: "table-wrap" }, h("table", { class: "data versions" },
        h("thead", null, h("tr", null, ["Version", "Stage", "Aliases", "Created", "Source run", "Status", "Description"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, versions.map((v) => h("tr", { "data-testid": "version-row", dataset: { version: v.version } },
          h("td", null, versionLink(name, v.version)),
          h("td", null, stageBadge(v.current_stage)),
          h("td", null, (v.aliases || []).map((a) => aliasBadge(a))),
          h("td", { class: "nowrap", title: formatTime(v.creation_timestamp) }, formatAgo(v.creation_timestamp)),
          h("td", null, runLink(v.run_id)),
          h("td", null, statusBadge(v.status)),
          h("td", { class: "description-snippet" }, (v.description || "").split("\n")[0])))))));
    }
    replace(moreHost, nextToken ? h("button", { type: "button", onclick: loadMore }, "Load more versions") : null);
    versionsHost.dataset.state = "ready";
  }

  function showAliases() {
    const live = new Set(versions.map((v) => v.version));
    // Versions beyond the loaded page count as existing rollback targets, unless the history
    // recorded their deletion (version numbers are never reused).
    if (nextToken) {
      for (const e of events) if (e.to_version) live.add(e.to_version);
      for (const e of events) if (e.action === "VERSION_DELETED" && e.from_version) live.delete(e.from_version);
    }
    replace(aliasesHost, aliasesCard({ name, aliases: model.aliases, versions: versions.map((v) => v.version), onChange: refresh }));
    replace(historyHost, aliasHistoryCard({ name, events, aliases: model.aliases, liveVersions: live, onChange: refresh }));
  }

  /** Reload what alias and stage actions change: the model, its versions and the alias history. */
  async function refresh() {
    try {
      const [m, ev] = await Promise.all([
        mlflow.get("registered-models/get", { name }, { signal }),
        loadAliasHistory(name, { signal }),
        loadVersions(),
      ]);
      model = m.registered_model;
      events = ev;
      showMeta();
      showAliases();
    } catch (err) {
      if (err.name === "AbortError") return;
      reportError(err, "Could not refresh the model");
    }
  }

  async function renameModel() {
    let renamed = null;
    const values = await promptDialog("Rename model", [{ name: "name", label: "New name", value: name, required: true }], {
      submitLabel: "Rename",
      validate: async (v) => {
        const newName = v.name.trim();
        if (!newName) return "A name is required.";
        if (newName === name) return "That is the current name.";
        try {
          renamed = (await mlflow.post("registered-models/rename", { name, new_name: newName })).registered_model;
          return null;
        } catch (err) {
          return err.message;
        }
      },
    });
    if (values && renamed) {
      toast(`Renamed to "${renamed.name}"`, "success");
      ctx.navigate(modelPath(renamed.name), { replace: true });
    }
  }

  async function deleteModel() {
    const ok = await confirmDialog("Delete model",
      `Delete "${name}" with all its versions and aliases? This cannot be undone.`, { confirmLabel: "Delete", danger: true });
    if (!ok) return;
    try {
      await mlflow.delete("registered-models/delete", { name });
      toast(`Model "${name}" deleted`, "success");
      ctx.navigate("/models");
    } catch (err) {
      reportError(err, `Could not delete "${name}"`);
    }
  }

  showMeta();
  const [history, loaded] = await Promise.allSettled([loadAliasHistory(name, { signal }), loadVersions()]);
  for (const result of [history, loaded]) {
    if (result.status === "rejected" && result.reason?.name === "AbortError") throw result.reason;
  }
  events = history.status === "fulfilled" ? history.value : [];
  showAliases();
  if (history.status === "rejected") replace(historyHost, errorBox(history.reason, "Could not load the alias history"));
}
