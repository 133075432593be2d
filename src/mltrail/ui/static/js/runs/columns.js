// Columns of the runs table: what each shows, whether the server can sort by it, and the chooser
// popover that picks them (params / metrics / tags from ui/experiments/columns).
import { formatDuration, formatNumber, formatTime, h, link } from "../dom.js";
import { statusBadge } from "../components/ui.js";
import { splitColumn } from "./state.js";

const SOURCE_TAG = "tags.mlflow.source.name";

/** Attribute columns: label, width in px, and whether runs/search can order by it. */
const ATTRIBUTES = {
  "attributes.run_name": { label: "Run name", width: 220, sortable: true },
  "attributes.status": { label: "Status", width: 110, sortable: true },
  "attributes.start_time": { label: "Created", width: 225, sortable: true, descFirst: true },
  "attributes.duration": { label: "Duration", width: 110, sortable: false, numeric: true },
  "attributes.end_time": { label: "Ended", width: 225, sortable: true, descFirst: true },
  "attributes.user_id": { label: "User", width: 120, sortable: true },
  "attributes.run_id": { label: "Run ID", width: 290, sortable: true },
  "attributes.experiment_id": { label: "Experiment", width: 110, sortable: false },
  "attributes.lifecycle_stage": { label: "Lifecycle", width: 100, sortable: true },
};
export const ATTRIBUTE_IDS = Object.keys(ATTRIBUTES);

// Experiment names for the Experiment column, known once the page header has loaded them.
const experimentNames = new Map();

/** Remember experiment names (from experiments/get) for the Experiment column. */
export function setExperimentNames(experiments) {
  for (const e of experiments) experimentNames.set(e.experiment_id, e.name);
}

/** The columns shown when the URL names none. */
export function defaultColumns(keys, { multiExperiment = false } = {}) {
  const cols = ["attributes.run_name", "attributes.status", "attributes.start_time", "attributes.duration",
    "attributes.user_id", SOURCE_TAG];
  if (multiExperiment) cols.push("attributes.experiment_id");
  for (const m of (keys.metrics || []).slice(0, 3)) cols.push(`metrics.${m}`);
  for (const p of (keys.params || []).slice(0, 3)) cols.push(`params.${p}`);
  return cols;
}

/** Everything the table needs to know about column `id`. */
export function columnDef(id) {
  const { kind, key } = splitColumn(id);
  if (kind === "attributes") {
    const a = ATTRIBUTES[id] || { label: key, width: 140, sortable: false };
    return { id, kind, key, numeric: false, descFirst: false, ...a };
  }
  if (id === SOURCE_TAG) return { id, kind, key, label: "Source", width: 190, sortable: true, numeric: false };
  return {
    id, kind, key,
    label: key,
    width: kind === "tags" ? 150 : 130,
    sortable: true,
    numeric: kind === "metrics",
    descFirst: kind === "metrics",
    group: kind === "metrics" ? "Metric" : kind === "params" ? "Param" : "Tag",
  };
}

/** A run of runs/search, indexed for cell look-ups. */
export function indexRun(run) {
  const map = (items) => new Map((items || []).map((x) => [x.key, x.value]));
  return { info: run.info, metrics: map(run.data?.metrics), params: map(run.data?.params), tags: map(run.data?.tags) };
}

/** The text a cell shows (also used for titles and tests). */
export function cellText(row, col) {
  const info = row.info;
  switch (col.kind) {
    case "metrics": return formatNumber(row.metrics.get(col.key));
    case "params": return row.params.get(col.key) ?? "";
    case "tags": return row.tags.get(col.key) ?? "";
    default: break;
  }
  switch (col.key) {
    case "run_name": return info.run_name || info.run_id.slice(0, 8);
    case "start_time": return formatTime(info.start_time);
    case "end_time": return formatTime(info.end_time);
    case "duration":
      if (!info.start_time) return "";
      if (info.end_time) return formatDuration(info.end_time - info.start_time);
      // A running run's duration so far.
      return info.status === "RUNNING" ? formatDuration(Date.now() - info.start_time) : "";
    default: return info[col.key] ?? "";
  }
}

/** The content of one cell (a node or text). */
export function cellContent(row, col) {
  if (col.id === "attributes.run_name") {
    return link(`/runs/${encodeURIComponent(row.info.run_id)}`, cellText(row, col), { class: "run-link" });
  }
  if (col.id === "attributes.status") return statusBadge(row.info.status);
  if (col.id === "attributes.experiment_id") {
    const id = row.info.experiment_id;
    return link(`/experiments/${encodeURIComponent(id)}`, experimentNames.get(id) ?? id);
  }
  return cellText(row, col);
}

/**
 * The column chooser: a button that opens a popover listing every available column with a filter
 * box and checkboxes. `getKeys()` returns {params, metrics, tags}; `onChange(ids)` gets the new
 * column list. Resolves to {el, close}.
 */
export function columnChooser({ getKeys, getSelected, onChange, onReset, signal }) {
  const button = h("button", { type: "button", "aria-haspopup": "dialog", "aria-expanded": "false",
    "data-testid": "columns-button" }, "Columns");
  const wrap = h("div", { class: "popover-anchor" }, button);
  let panel = null;

  function close(focusButton = false) {
    if (!panel) return;
    panel.remove();
    panel = null;
    button.setAttribute("aria-expanded", "false");
    if (focusButton) button.focus();
  }

  function open() {
    const keys = getKeys();
    const selected = new Set(getSelected());
    const search = h("input", { type: "search", placeholder: "Filter columns", "aria-label": "Filter columns",
      autocomplete: "off" });
    const groups = [
      ["Attributes", [...ATTRIBUTE_IDS, SOURCE_TAG]],
      ["Metrics", (keys.metrics || []).map((k) => `metrics.${k}`)],
      ["Params", (keys.params || []).map((k) => `params.${k}`)],
      ["Tags", (keys.tags || []).map((k) => `tags.${k}`).filter((id) => id !== SOURCE_TAG)],
    ];
    // Columns in the URL that no longer exist in the data stay listed so they can be removed.
    const known = new Set(groups.flatMap(([, ids]) => ids));
    const stale = [...selected].filter((id) => !known.has(id));
    if (stale.length) groups.push(["Other", stale]);
    const lists = groups.map(([title, ids]) => {
      const items = ids.map((id) => {
        const def = columnDef(id);
        const box = h("input", { type: "checkbox", checked: selected.has(id), dataset: { column: id },
          onchange: () => {
            const current = getSelected().filter((c) => c !== id);
            if (box.checked) current.push(id);
            onChange(current);
          } });
        const text = def.kind === "attributes" || id === SOURCE_TAG ? def.label : def.key;
        return h("li", { dataset: { search: `${title} ${id} ${text}`.toLowerCase() } },
          h("label", { class: "checkbox" }, box, h("span", null, text)));
      });
      return h("section", { class: "chooser-group" },
        h("h3", null, title, h("span", { class: "muted" }, ` (${ids.length})`)),
        ids.length ? h("ul", null, items) : h("p", { class: "muted" }, "None logged"));
    });
    search.addEventListener("input", () => {
      const q = search.value.trim().toLowerCase();
      for (const li of panel.querySelectorAll("li")) li.hidden = q !== "" && !li.dataset.search.includes(q);
    });
    panel = h("div", { class: "popover column-chooser", role: "dialog", "aria-label": "Choose columns",
      "data-testid": "column-chooser" },
      h("div", { class: "chooser-top" }, search,
        h("button", { type: "button", onclick: () => { onReset(); close(true); } }, "Reset"),
        h("button", { type: "button", onclick: () => close(true) }, "Done")),
      h("div", { class: "chooser-lists" }, lists));
    panel.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { ev.stopPropagation(); close(true); }
    });
    wrap.append(panel);
    button.setAttribute("aria-expanded", "true");
    search.focus();
  }

  button.addEventListener("click", () => (panel ? close() : open()));
  const outside = (ev) => { if (panel && !wrap.contains(ev.target)) close(); };
  document.addEventListener("mousedown", outside);
  signal.addEventListener("abort", () => document.removeEventListener("mousedown", outside));
  return { el: wrap, close };
}
