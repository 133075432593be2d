// The run page's artifacts tab: a lazily expanded file tree and a preview of the selected file.
// The selected path is kept in the URL (?tab=artifacts&path=...), and its folders open on load.
import { artifactUrl, mlflow, serverUrl } from "../api.js";
import { h, replace, formatBytes } from "../dom.js";
import { emptyState, errorBox, spinner } from "../components/ui.js";
import { renderPreview } from "./preview.js";

async function listDir(runId, path, signal) {
  const res = await mlflow.get("artifacts/list", { run_id: runId, path: path || undefined }, { signal });
  return (res.files || []).slice().sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
}

/** Fill `panel` with the browser; returns a dispose function. */
export function renderArtifactsTab(panel, { ctx, runId }) {
  const controller = new AbortController();
  const onPageAbort = () => controller.abort();
  ctx.signal.addEventListener("abort", onPageAbort, { once: true });
  const signal = controller.signal;
  let previewController = null;
  let selectedButton = null;
  const files = new Map(); // path -> file info
  const dirs = new Map(); // path -> {button, list, loaded, open}

  const tree = h("ul", { class: "artifact-tree", "data-testid": "artifact-tree", "aria-label": "Artifacts" });
  const preview = h("div", { class: "artifact-preview card", "data-testid": "artifact-preview", "aria-live": "polite" },
    h("p", { class: "muted" }, "Select a file to preview it."));

  function fileItem(info) {
    const name = info.path.split("/").pop();
    files.set(info.path, info);
    if (info.is_dir) {
      const list = h("ul", { role: "group", hidden: true });
      const button = h("button", { type: "button", class: "tree-node tree-dir", "aria-expanded": "false",
        dataset: { path: info.path }, onclick: () => toggle(info.path) },
      h("span", { class: "tree-caret", "aria-hidden": "true" }), h("span", { class: "tree-name" }, name));
      dirs.set(info.path, { button, list, loaded: false, open: false });
      return h("li", null, button, list);
    }
    const button = h("button", { type: "button", class: "tree-node tree-file", dataset: { path: info.path },
      "aria-current": "false", onclick: () => select(info.path) },
    h("span", { class: "tree-name" }, name),
    info.file_size !== undefined ? h("span", { class: "tree-size muted" }, formatBytes(info.file_size)) : null);
    return h("li", null, button);
  }

  async function fill(list, path) {
    replace(list, h("li", null, spinner()));
    try {
      const entries = await listDir(runId, path, signal);
      replace(list, entries.length ? entries.map(fileItem) : h("li", { class: "muted tree-empty" }, "Empty folder"));
      return true;
    } catch (err) {
      if (err.name === "AbortError") return false;
      replace(list, h("li", null, errorBox(err, "Could not list this folder")));
      return false;
    }
  }

  async function toggle(path, open) {
    const dir = dirs.get(path);
    if (!dir) return;
    const next = open === undefined ? !dir.open : open;
    dir.open = next;
    dir.button.setAttribute("aria-expanded", String(next));
    dir.list.hidden = !next;
    if (next && !dir.loaded) {
      dir.loaded = true;
      if (!(await fill(dir.list, path))) dir.loaded = false;
    }
  }

  function select(path, { store = true } = {}) {
    const info = files.get(path);
    if (!info || info.is_dir) return;
    if (selectedButton) selectedButton.setAttribute("aria-current", "false");
    selectedButton = tree.querySelector(`button.tree-file[data-path="${CSS.escape(path)}"]`);
    if (selectedButton) selectedButton.setAttribute("aria-current", "true");
    if (store) ctx.setQuery({ path });
    if (previewController) previewController.abort();
    previewController = new AbortController();
    renderPreview(preview, { path, url: artifactUrl(runId, path), size: info.file_size, signal: previewController.signal,
      downloadUrl: serverUrl("get-artifact", { run_id: runId, path, download: "true" }) });
  }

  // Open the folders leading to the path in the URL, one level at a time, then preview it.
  async function restore(path) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!dirs.has(dir)) return;
      await toggle(dir, true);
      if (signal.aborted) return;
    }
    if (files.has(path)) select(path, { store: false });
    else preview.replaceChildren(errorBox(new Error(`No artifact ${path}`), "Not found"));
  }

  replace(panel, h("div", { class: "split artifacts-split" },
    h("div", { class: "card artifact-tree-card" }, tree), preview));

  (async () => {
    const ok = await fill(tree, "");
    if (!ok || signal.aborted) return;
    if (!files.size) {
      replace(panel, emptyState("This run has no artifacts."));
      return;
    }
    const wanted = ctx.query.get("path");
    if (wanted) restore(wanted);
  })();

  return () => {
    controller.abort();
    if (previewController) previewController.abort();
    ctx.signal.removeEventListener("abort", onPageAbort);
  };
}
