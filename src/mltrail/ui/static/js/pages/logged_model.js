// #/logged-models/:modelId: a logged model: overview, params, metrics, tags, the registered
// versions made from it, and its artifacts with a preview (MLmodel shown readably).
// The previewed file is kept in the URL (file=<path>).
import { mlflow, serverUrl } from "../api.js";
import { formatBytes, formatNumber, formatTime, h, link, replace } from "../dom.js";
import { breadcrumbs, emptyState, errorBox, kvTable, spinner, statusBadge } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import { aliasBadge, fetchText, runLink, stageBadge, tagEditor, versionLink } from "../registry/common.js";
import { mlmodelView } from "../registry/mlmodel.js";

const PREVIEW_LIMIT = 512 * 1024;
const TEXT_FILE = /(^|\/)(MLmodel|[^/]*\.(txt|json|ya?ml|md|py|cfg|ini|toml|csv|log|html?|xml|sh|r|sql))$/i;

/** "LOGGED_MODEL_READY" → "READY" (the badge colours follow the short name). */
export function shortStatus(status) {
  return String(status || "").replace(/^LOGGED_MODEL_/, "");
}

export async function render(ctx) {
  const { root, params, query, signal, setQuery } = ctx;
  const modelId = params.modelId;
  const base = `logged-models/${encodeURIComponent(modelId)}`;
  document.title = `${modelId} · Logged model · mltrail`;
  await ensureStyles("registry");

  let model;
  let deleted = false;
  try {
    try {
      model = (await mlflow.get(base, {}, { signal })).model;
    } catch (err) {
      if (err.status !== 404) throw err;
      // A deleted model is still shown (marked), as runs link to the models they logged.
      model = (await mlflow.get(base, { allow_deleted: true }, { signal })).model;
      deleted = true;
    }
  } catch (err) {
    if (err.name === "AbortError") throw err;
    replace(root, breadcrumbs([["Experiments", "/experiments"], [modelId, null]]),
      err.status === 404 ? emptyState(`No logged model with ID ${modelId}.`) : errorBox(err, "Could not load the logged model"));
    return;
  }
  const info = model.info;
  const data = model.data || {};
  document.title = `${info.name || modelId} · Logged model · mltrail`;

  let experimentName = `Experiment ${info.experiment_id}`;
  try {
    experimentName = (await mlflow.get("experiments/get", { experiment_id: info.experiment_id }, { signal })).experiment.name;
  } catch (err) {
    if (err.name === "AbortError") throw err;
    // The breadcrumb falls back to the experiment's ID.
  }

  const versionsHost = h("section", { class: "card", "aria-label": "Registered versions", "data-testid": "logged-model-versions" });
  const filesHost = h("div", { class: "artifact-tree", "data-testid": "artifact-list" }, spinner());
  const previewHost = h("div", { class: "artifact-preview", "data-testid": "artifact-preview", "aria-live": "polite" });

  replace(root,
    breadcrumbs([["Experiments", "/experiments"], [experimentName, `/experiments/${encodeURIComponent(info.experiment_id)}`],
      [info.name || modelId, null]]),
    h("div", { class: "page-header" },
      h("div", null,
        h("h1", { "data-testid": "logged-model-name" }, info.name || modelId),
        h("div", { class: "header-badges" }, statusBadge(shortStatus(info.status)),
          info.model_type ? h("span", { class: "chip" }, info.model_type) : null,
          deleted ? h("span", { class: "badge status-failed", "data-testid": "deleted-badge" }, "deleted") : null))),
    h("div", { class: "grid grid-2" },
      h("section", { class: "card", "aria-label": "Overview" }, h("div", { class: "card-head" }, h("h2", null, "Overview")),
        kvTable([
          ["Model ID", h("span", { class: "mono" }, info.model_id)],
          ["Experiment", link(`/experiments/${encodeURIComponent(info.experiment_id)}`, experimentName)],
          ["Source run", info.source_run_id ? runLink(info.source_run_id, info.source_run_id) : h("span", { class: "muted" }, "—")],
          ["Created", formatTime(info.creation_timestamp_ms)],
          ["Last updated", formatTime(info.last_updated_timestamp_ms)],
          ["Creator", info.creator_id ?? h("span", { class: "muted" }, "—")],
          ["Artifact location", h("code", { class: "break" }, info.artifact_uri)],
          info.status_message ? ["Status message", info.status_message] : null,
        ].filter(Boolean))),
      h("div", { class: "stack" }, versionsHost,
        tagEditor({
          tags: info.tags,
          onSet: (key, value) => mlflow.patch(`${base}/tags`, { tags: [{ key, value }] }),
          onDelete: (key) => mlflow.delete(`${base}/tags/${encodeURIComponent(key)}`),
        }))),
    h("div", { class: "grid grid-2" }, paramsCard(data.params || []), metricsCard(data.metrics || [])),
    h("section", { class: "card", "aria-label": "Artifacts" }, h("div", { class: "card-head" }, h("h2", null, "Artifacts")),
      h("div", { class: "split artifacts-split" }, filesHost, previewHost)));

  // -- registered versions made from this model ----------------------------------------------
  async function showVersions() {
    const regs = info.registrations || [];
    const head = h("div", { class: "card-head" }, h("h2", null, "Registered versions"));
    if (!regs.length) {
      replace(versionsHost, head, h("p", { class: "muted" }, "Not registered in the model registry."));
      return;
    }
    replace(versionsHost, head, spinner());
    const details = await Promise.all(regs.map((r) => mlflow.get("model-versions/get", { name: r.name, version: r.version }, { signal })
      .then((res) => res.model_version).catch((err) => (err.name === "AbortError" ? Promise.reject(err) : null))));
    replace(versionsHost, head, h("ul", { class: "plain-list" }, regs.map((r, i) => {
      const v = details[i];
      return h("li", { "data-testid": "registration", dataset: { model: r.name, version: r.version } },
        versionLink(r.name, r.version, `${r.name} v${r.version}`), " ",
        v ? [stageBadge(v.current_stage), " ", (v.aliases || []).map((a) => aliasBadge(a))] : h("span", { class: "muted" }, "(no longer registered)"));
    })));
  }

  // -- artifacts ---------------------------------------------------------------------------
  const fileUrl = (path) => serverUrl(`ajax-api/2.0/mlflow/${base}/artifacts/files`, { artifact_file_path: path });
  let selected = query.get("file");
  const buttons = new Map();

  async function listDir(path) {
    const res = await mlflow.get(`${base}/artifacts/directories`, path ? { artifact_directory_path: path } : {}, { signal });
    return (res.files || []).slice().sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
  }

  function fileList(files) {
    return h("ul", { class: "tree", role: "list" }, files.map((f) => {
      const label = f.path.split("/").pop();
      if (f.is_dir) {
        const children = h("div", { class: "tree-children" });
        let loaded = false;
        const toggle = h("button", { type: "button", class: "tree-item dir", "aria-expanded": "false", dataset: { path: f.path },
          onclick: async () => {
            const open = toggle.getAttribute("aria-expanded") === "true";
            toggle.setAttribute("aria-expanded", String(!open));
            children.hidden = open;
            if (!open && !loaded) {
              loaded = true;
              replace(children, spinner());
              try {
                replace(children, fileList(await listDir(f.path)));
              } catch (err) {
                if (err.name !== "AbortError") replace(children, errorBox(err, "Could not list the folder"));
              }
            }
          } }, `▸ ${label}/`);
        return h("li", null, toggle, children);
      }
      const button = h("button", { type: "button", class: "tree-item file", "aria-pressed": "false", dataset: { path: f.path },
        onclick: () => select(f) }, h("span", null, label), h("span", { class: "muted size" }, formatBytes(f.file_size)));
      buttons.set(f.path, { button, file: f });
      return h("li", null, button);
    }));
  }

  async function select(file) {
    selected = file.path;
    setQuery({ file: file.path === "MLmodel" ? null : file.path });
    for (const [path, { button }] of buttons) button.setAttribute("aria-pressed", String(path === file.path));
    const header = h("div", { class: "preview-head" }, h("strong", { class: "mono" }, file.path),
      h("a", { href: fileUrl(file.path), download: file.path.split("/").pop(), class: "button" }, "Download"));
    const textual = TEXT_FILE.test(file.path) && (file.file_size === undefined || file.file_size <= PREVIEW_LIMIT);
    if (!textual) {
      replace(previewHost, header, h("p", { class: "muted" }, "No preview for this file type or size; download it instead."));
      return;
    }
    replace(previewHost, header, spinner());
    try {
      const text = await fetchText(`ajax-api/2.0/mlflow/${base}/artifacts/files`, { artifact_file_path: file.path }, { signal });
      if (selected !== file.path) return;
      const isMlmodel = /(^|\/)MLmodel$/.test(file.path);
      replace(previewHost, header, isMlmodel ? mlmodelView(text) : h("pre", { class: "file-text" }, text));
    } catch (err) {
      if (err.name !== "AbortError") replace(previewHost, header, errorBox(err, "Could not load the file"));
    }
  }

  async function showFiles() {
    try {
      const files = await listDir(null);
      if (!files.length) {
        replace(filesHost, h("p", { class: "muted" }, "No artifacts."));
        return;
      }
      replace(filesHost, fileList(files));
      const wanted = selected || "MLmodel";
      const initial = buttons.get(wanted) || buttons.get("MLmodel");
      if (initial) await select(initial.file);
      else replace(previewHost, h("p", { class: "muted" }, "Select a file to preview it."));
    } catch (err) {
      if (err.name !== "AbortError") replace(filesHost, errorBox(err, "Could not list the artifacts"));
    }
  }

  await Promise.all([showVersions().catch((err) => {
    if (err.name !== "AbortError") replace(versionsHost, errorBox(err, "Could not load the registered versions"));
  }), showFiles()]);
}

function paramsCard(params) {
  const sorted = params.slice().sort((a, b) => a.key.localeCompare(b.key));
  return h("section", { class: "card", "aria-label": "Parameters", "data-testid": "logged-model-params" },
    h("div", { class: "card-head" }, h("h2", null, `Parameters (${sorted.length})`)),
    sorted.length ? h("div", { class: "table-wrap" }, h("table", { class: "data compact" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"))),
      h("tbody", null, sorted.map((p) => h("tr", { dataset: { key: p.key } }, h("td", { class: "mono" }, p.key), h("td", { class: "mono break" }, p.value))))))
      : h("p", { class: "muted" }, "No parameters."));
}

function metricsCard(metrics) {
  const sorted = metrics.slice().sort((a, b) => a.key.localeCompare(b.key) || (a.step ?? 0) - (b.step ?? 0));
  return h("section", { class: "card", "aria-label": "Metrics", "data-testid": "logged-model-metrics" },
    h("div", { class: "card-head" }, h("h2", null, `Metrics (${sorted.length})`)),
    sorted.length ? h("div", { class: "table-wrap" }, h("table", { class: "data compact" },
      h("thead", null, h("tr", null, ["Name", "Value", "Step", "Dataset", "Run"].map((t) => h("th", { scope: "col", class: t === "Value" || t === "Step" ? "num" : null }, t)))),
      h("tbody", null, sorted.map((m) => h("tr", { dataset: { key: m.key } },
        h("td", { class: "mono" }, m.key),
        h("td", { class: "num", title: String(m.value) }, formatNumber(m.value)),
        h("td", { class: "num" }, m.step ?? 0),
        h("td", null, m.dataset_name ? `${m.dataset_name}${m.dataset_digest ? ` (${m.dataset_digest.slice(0, 8)})` : ""}` : h("span", { class: "muted" }, "—")),
        h("td", null, m.run_id ? runLink(m.run_id) : h("span", { class: "muted" }, "—")))))))
      : h("p", { class: "muted" }, "No metrics."));
}
