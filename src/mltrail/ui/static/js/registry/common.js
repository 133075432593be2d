// Pieces shared by the model registry and logged-model pages: paths, badges, the description
// and tag editors, plain-text rendering and raw file fetching.
import { ApiError, serverUrl } from "../api.js";
import { h, link, replace } from "../dom.js";
import { confirmDialog, toast } from "../components/ui.js";

/** The legacy stages, in the order the transition control offers them. */
export const STAGES = ["None", "Staging", "Production", "Archived"];

/** View path of a registered model. */
export function modelPath(name) {
  return `/models/${encodeURIComponent(name)}`;
}

/** View path of a model version. */
export function versionPath(name, version) {
  return `${modelPath(name)}/versions/${encodeURIComponent(version)}`;
}

/** A link to a model version ("Version 3" by default). */
export function versionLink(name, version, text = `Version ${version}`) {
  return link(versionPath(name, version), text);
}

/** A link to a run's page (short id as text). */
export function runLink(runId, text) {
  if (!runId) return h("span", { class: "muted" }, "—");
  return link(`/runs/${encodeURIComponent(runId)}`, text || runId.slice(0, 8), { class: "mono", title: runId });
}

/** A badge for a legacy stage ("None" is shown muted). */
export function stageBadge(stage) {
  const s = stage || "None";
  return h("span", { class: `badge stage-${s.toLowerCase()}`, dataset: { stage: s } }, s);
}

/** A badge for an alias ("@champion"). */
export function aliasBadge(alias, extra = null) {
  return h("span", { class: "badge alias", dataset: { alias } }, `@${alias}`, extra);
}

/** Report a failed action to the user. */
export function reportError(err, what) {
  if (err && err.name === "AbortError") return;
  toast(`${what}: ${err?.message || err}`, "error", 7000);
}

/**
 * Render short "markdown-ish" text safely as DOM nodes: blank-line separated paragraphs,
 * "# " headings, "- " / "* " bullet lists, `code` and **bold** spans. Nothing is parsed as HTML.
 */
export function renderText(text) {
  const root = h("div", { class: "rendered-text" });
  const blocks = String(text || "").replace(/\r\n?/g, "\n").split(/\n\s*\n/);
  for (const block of blocks) {
    const lines = block.split("\n").filter((line) => line.trim() !== "");
    if (!lines.length) continue;
    if (lines.every((line) => /^\s*[-*]\s+/.test(line))) {
      root.append(h("ul", null, lines.map((line) => h("li", null, inline(line.replace(/^\s*[-*]\s+/, ""))))));
      continue;
    }
    const heading = /^(#{1,3})\s+(.*)$/.exec(lines[0]);
    if (heading && lines.length === 1) {
      root.append(h(`h${heading[1].length + 2}`, null, inline(heading[2])));
      continue;
    }
    const p = h("p");
    lines.forEach((line, i) => {
      if (i) p.append(h("br"));
      p.append(...inline(line));
    });
    root.append(p);
  }
  return root;
}

/** Inline spans of one line: `code` and **bold**. */
function inline(line) {
  const out = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*/g;
  let last = 0;
  for (const m of line.matchAll(re)) {
    if (m.index > last) out.push(line.slice(last, m.index));
    out.push(m[1] !== undefined ? h("code", null, m[1]) : h("strong", null, m[2]));
    last = m.index + m[0].length;
  }
  if (last < line.length) out.push(line.slice(last));
  return out;
}

/**
 * A description card body: the rendered text with an Edit button, switching to a textarea.
 * `onSave(text)` persists the text and resolves to the saved text (it may throw).
 */
export function descriptionEditor({ text, onSave, label = "Description" }) {
  const root = h("section", { class: "card registry-description", "aria-label": label, "data-testid": "description" });
  let current = text || "";

  function view() {
    replace(root,
      h("div", { class: "card-head" }, h("h2", null, label),
        h("button", { type: "button", onclick: edit, "aria-label": `Edit ${label.toLowerCase()}` }, "Edit")),
      current.trim() ? renderText(current) : h("p", { class: "muted" }, "No description."));
  }

  function edit() {
    const area = h("textarea", { rows: 6, "aria-label": label, placeholder: "Plain text: blank lines start paragraphs, - for lists, `code`, **bold**" });
    area.value = current;
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const form = h("form", { class: "description-form", onsubmit: async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      try {
        current = (await onSave(area.value)) ?? area.value;
        toast("Description saved", "success");
        view();
      } catch (err) {
        reportError(err, "Could not save the description");
        save.disabled = false;
      }
    } }, area, h("div", { class: "form-actions" }, save, h("button", { type: "button", onclick: view }, "Cancel")));
    area.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); view(); } });
    replace(root, h("div", { class: "card-head" }, h("h2", null, label)), form);
    area.focus();
  }

  view();
  return root;
}

/**
 * A tag table with add, edit and delete. `tags` is a wire list [{key, value}].
 * `onSet(key, value)` and `onDelete(key)` persist a change (they may throw). Keys starting with
 * one of `systemPrefixes` are listed apart, read-only, since tools maintain them.
 */
export function tagEditor({ tags, onSet, onDelete, title = "Tags", systemPrefixes = ["mlflow."] }) {
  const state = new Map((tags || []).map((t) => [t.key, t.value ?? ""]));
  const root = h("section", { class: "card registry-tags", "aria-label": title, "data-testid": "tags" });
  const isSystem = (key) => systemPrefixes.some((p) => key.startsWith(p));

  function render() {
    const user = [...state].filter(([k]) => !isSystem(k)).sort(([a], [b]) => a.localeCompare(b));
    const system = [...state].filter(([k]) => isSystem(k)).sort(([a], [b]) => a.localeCompare(b));
    const rows = user.map(([key, value]) => h("tr", { dataset: { tagKey: key } },
      h("th", { scope: "row", class: "mono" }, key),
      h("td", { class: "tag-value" }, value),
      h("td", { class: "row-actions" },
        h("button", { type: "button", class: "link", "aria-label": `Edit tag ${key}`, onclick: (ev) => editRow(ev.target.closest("tr"), key) }, "Edit"),
        h("button", { type: "button", class: "link danger-link", "aria-label": `Delete tag ${key}`, onclick: () => remove(key) }, "Delete"))));
    replace(root,
      h("div", { class: "card-head" }, h("h2", null, title)),
      user.length
        ? h("table", { class: "kv tag-table" }, h("tbody", null, rows))
        : h("p", { class: "muted" }, "No tags."),
      addForm(),
      system.length ? h("details", { class: "system-tags" }, h("summary", null, `System tags (${system.length})`),
        h("table", { class: "kv" }, h("tbody", null, system.map(([k, v]) =>
          h("tr", null, h("th", { scope: "row", class: "mono" }, k), h("td", { class: "mono" }, v)))))) : null);
  }

  function addForm() {
    const key = h("input", { type: "text", name: "tag-key", placeholder: "key", "aria-label": "New tag key", required: true, autocomplete: "off" });
    const value = h("input", { type: "text", name: "tag-value", placeholder: "value", "aria-label": "New tag value", autocomplete: "off" });
    return h("form", { class: "inline-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const k = key.value.trim();
      if (!k) return;
      if (await save(k, value.value)) {
        key.value = "";
        value.value = "";
      }
    } }, key, value, h("button", { type: "submit" }, "Add tag"));
  }

  function editRow(tr, key) {
    const cell = tr.querySelector(".tag-value");
    const input = h("input", { type: "text", "aria-label": `Value of tag ${key}`, autocomplete: "off" });
    input.value = state.get(key) ?? "";
    const form = h("form", { class: "inline-form", onsubmit: async (ev) => {
      ev.preventDefault();
      await save(key, input.value);
    } }, input, h("button", { type: "submit", class: "primary" }, "Save"), h("button", { type: "button", onclick: render }, "Cancel"));
    input.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { ev.preventDefault(); render(); } });
    replace(cell, form);
    input.focus();
  }

  async function save(key, value) {
    try {
      await onSet(key, value);
      state.set(key, value);
      toast(`Tag "${key}" saved`, "success");
      render();
      return true;
    } catch (err) {
      reportError(err, `Could not save tag "${key}"`);
      return false;
    }
  }

  async function remove(key) {
    if (!(await confirmDialog("Delete tag", `Delete the tag "${key}"?`, { confirmLabel: "Delete", danger: true }))) return;
    try {
      await onDelete(key);
      state.delete(key);
      toast(`Tag "${key}" deleted`, "success");
      render();
    } catch (err) {
      reportError(err, `Could not delete tag "${key}"`);
    }
  }

  render();
  return root;
}

/**
 * GET a file's bytes from the server as text. Errors come back as ApiError like JSON calls
 * (the server answers {error_code, message} for a failed download).
 */
export async function fetchText(path, query, { signal } = {}) {
  let response;
  try {
    response = await fetch(serverUrl(path, query), { signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "NETWORK_ERROR", `Cannot reach the server: ${err.message}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let data = {};
    try { data = JSON.parse(text); } catch { data = { message: text }; }
    throw new ApiError(response.status, data.error_code || `HTTP_${response.status}`, data.message || response.statusText);
  }
  return text;
}

/** A small "label: value" line for page headers. */
export function metaItem(label, value) {
  return h("span", { class: "meta-item" }, h("span", { class: "muted" }, `${label} `), value);
}
