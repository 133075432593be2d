// The runs of one or several experiments: filter, sort, columns, grouping, selection and bulk
// actions, all kept in the URL. The first page of runs is requested before anything else answers.
import { mlflow, uiApi } from "../api.js";
import { h, viewPath } from "../dom.js";
import { experimentHeader } from "../components/experiment_header.js";
import { ensureStyles } from "../components/styles.js";
import { confirmDialog, errorBox, toast } from "../components/ui.js";
import { columnChooser, columnDef, defaultColumns, setExperimentNames } from "../runs/columns.js";
import { filterBox } from "../runs/filter.js";
import { renderGroups } from "../runs/groups.js";
import { VIEW_TYPES, readState, stateQuery } from "../runs/state.js";
import { createRunsTable } from "../runs/table.js";

const VIEW_LABELS = [["active", "Active"], ["deleted", "Deleted"], ["all", "All"]];

/** Run `fn` over `items`, a few at a time. */
async function eachLimited(items, limit, fn) {
  const queue = [...items];
  const failures = [];
  const worker = async () => {
    while (queue.length) {
      const item = queue.shift();
      try {
        await fn(item);
      } catch (err) {
        failures.push([item, err]);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}

export async function render(ctx) {
  const { signal } = ctx;
  const styles = ensureStyles("runs");
  const experimentIds = String(ctx.params.experimentIds).split(",").map((s) => s.trim()).filter(Boolean);
  let state = readState(ctx.query);
  const runViewType = () => VIEW_TYPES[state.view];
  let keys = { params: [], metrics: [], tags: [] };
  let keysFromServer = false;
  const columns = () => state.cols ?? defaultColumns(keys, { multiExperiment: experimentIds.length > 1 });

  function commit(partial, { push = false } = {}) {
    state = { ...state, ...partial };
    ctx.setQuery(stateQuery(state), { push });
  }

  // Everything independent starts now: the first runs page (inside table.load), the column keys,
  // the experiment header. None waits for another.
  const table = createRunsTable({
    experimentIds,
    columns: columns(),
    selected: state.sel,
    signal,
    onSort: (id) => sortBy(id),
    onSelect: (ids) => { commit({ sel: ids }); updateActions(); },
    onTotal: (n, exact) => { countLabel.textContent = `${n.toLocaleString()}${exact ? "" : "+"} run${n === 1 ? "" : "s"}`; },
  });
  const firstLoad = state.group ? null : table.load(query());
  // Its failure is handled below, after the layout is built; mark it handled now.
  firstLoad?.catch(() => {});
  const keysRequest = uiApi.get("experiments/columns", { experiment_id: experimentIds }, { signal });
  const headerRequest = experimentHeader(ctx.params.experimentIds, "runs", { signal });

  const headerSlot = h("div", { class: "experiment-header-slot" }, h("h1", { class: "muted" }, "Experiment"));
  const filter = filterBox({ value: state.filter, onSearch: (text) => applyFilter(text) });
  const countLabel = h("span", { class: "muted runs-count", "data-testid": "runs-count", "aria-live": "polite" });
  const chooser = columnChooser({
    getKeys: () => keys,
    getSelected: columns,
    onChange: (ids) => setColumns(ids),
    onReset: () => setColumns(null),
    signal,
  });
  const groupSelect = h("select", { id: "runs-group", "data-testid": "group-select",
    onchange: () => setGroup(groupSelect.value) });
  const viewSwitch = h("div", { class: "segmented", role: "radiogroup", "aria-label": "Runs to show" },
    VIEW_LABELS.map(([value, label]) => h("label", { class: "segment" },
      h("input", { type: "radio", name: "runs-view", value, checked: state.view === value,
        onchange: () => setView(value) }), h("span", null, label))));
  const selectedLabel = h("span", { class: "muted", "data-testid": "selected-count" });
  const compareButton = h("button", { type: "button", class: "primary", "data-testid": "compare-button",
    onclick: () => ctx.navigate(viewPath("/compare", { runs: state.sel })) }, "Compare");
  const deleteButton = h("button", { type: "button", class: "danger", "data-testid": "delete-runs",
    onclick: () => bulk("delete") }, "Delete");
  const restoreButton = h("button", { type: "button", "data-testid": "restore-runs", onclick: () => bulk("restore") }, "Restore");
  const clearButton = h("button", { type: "button", class: "link", onclick: () => setSelection([]) }, "Clear selection");
  const content = h("div", { class: "runs-content" });

  ctx.root.replaceChildren(h("div", { class: "runs-page" },
    headerSlot,
    filter.el,
    h("div", { class: "toolbar runs-toolbar" },
      viewSwitch,
      h("label", { class: "inline-field", for: "runs-group" }, h("span", null, "Group by"), groupSelect),
      chooser.el,
      countLabel,
      h("div", { class: "runs-actions" }, selectedLabel, clearButton, compareButton, deleteButton, restoreButton)),
    content));
  document.title = "Runs · mltrail";

  headerRequest.then(({ el, experiments }) => {
    headerSlot.replaceChildren(el);
    if (experiments.length > 1) {
      setExperimentNames(experiments);
      table.setColumns(columns());
    }
  }).catch((err) => {
    if (err?.name !== "AbortError") headerSlot.replaceChildren(errorBox(err, "Could not load the experiment"));
  });
  keysRequest.then((res) => {
    keys = { params: res.params || [], metrics: res.metrics || [], tags: res.tags || [] };
    keysFromServer = true;
    keysChanged();
  }).catch((err) => {
    if (err?.name === "AbortError") return;
    // Without the columns route, the loaded runs still tell which keys exist.
    keysFromRows();
  });

  function keysFromRows() {
    if (keysFromServer) return;
    const found = { params: new Set(), metrics: new Set(), tags: new Set() };
    for (const row of table.loadedRows()) {
      for (const kind of ["params", "metrics", "tags"]) for (const k of row[kind].keys()) found[kind].add(k);
    }
    keys = Object.fromEntries(Object.entries(found).map(([k, v]) => [k, [...v].sort()]));
    keysChanged();
  }

  function keysChanged() {
    filter.setKeys(keys);
    fillGroupOptions();
    if (!state.cols) table.setColumns(columns());
  }

  function fillGroupOptions() {
    const options = [["", "None"], ["attributes.status", "Status"], ["attributes.user_id", "User"],
      ...keys.params.map((k) => [`params.${k}`, `param: ${k}`]),
      ...keys.tags.map((k) => [`tags.${k}`, `tag: ${k}`])];
    if (state.group && !options.some(([v]) => v === state.group)) options.push([state.group, state.group]);
    groupSelect.replaceChildren(...options.map(([value, label]) => h("option", { value }, label)));
    groupSelect.value = state.group;
  }

  function query() {
    return { filter: state.filter, view: state.view, runViewType: runViewType(), sort: state.sort, dir: state.dir,
      group: state.group, open: state.open };
  }

  function showContent() {
    if (state.group) {
      content.replaceChildren(h("div", { class: "groups-view" }));
      return renderGroups(content.firstChild, { experimentIds, query: query(), columns: columns(), signal,
        selection: {
          has: (id) => state.sel.includes(id),
          toggle: (id, on) => setSelection(on ? [...new Set([...state.sel, id])] : state.sel.filter((s) => s !== id), false),
        },
        onOpen: (open) => commit({ open }) });
    }
    if (content.firstChild !== table.el) content.replaceChildren(table.el);
    return null;
  }

  async function applyFilter(text) {
    const next = { ...query(), filter: text };
    if (state.group) {
      // Check the filter before regrouping so a bad one leaves the groups as they are.
      await mlflow.post("runs/search", { experiment_ids: experimentIds, filter: text, run_view_type: runViewType(),
        max_results: 1 }, { signal });
      commit({ filter: text, open: [] }, { push: true });
      await showContent();
    } else {
      await table.load(next);
      commit({ filter: text }, { push: true });
    }
  }

  async function sortBy(id) {
    const def = columnDef(id);
    const dir = state.sort === id ? (state.dir === "desc" ? "asc" : "desc") : def.descFirst ? "desc" : "asc";
    try {
      await table.load({ ...query(), sort: id, dir });
      commit({ sort: id, dir }, { push: true });
    } catch (err) {
      if (err?.name !== "AbortError") toast(`Cannot sort by ${id}: ${err.message}`, "error");
    }
  }

  async function setView(view) {
    const previous = state.view;
    commit({ view, sel: [] }, { push: true });
    table.setSelection([]);
    updateActions();
    if (state.group) {
      await showContent();
      return;
    }
    try {
      await table.load(query());
    } catch (err) {
      if (err?.name === "AbortError") return;
      commit({ view: previous });
      toast(err.message, "error");
    }
  }

  function setColumns(ids) {
    commit({ cols: ids });
    table.setColumns(columns());
    if (state.group) showContent();
  }

  function setGroup(group) {
    const wasGrouped = !!state.group;
    commit({ group, open: [] }, { push: true });
    showContent();
    if (!group && wasGrouped) {
      // Runs picked inside groups stay selected in the table.
      table.setSelection(state.sel);
      table.load(query()).catch((err) => {
        if (err?.name !== "AbortError") content.replaceChildren(errorBox(err, "Could not load the runs"));
      });
    }
  }

  function setSelection(ids, redraw = true) {
    commit({ sel: ids });
    if (redraw) table.setSelection(ids);
    updateActions();
  }

  function updateActions() {
    const n = state.sel.length;
    selectedLabel.textContent = n ? `${n} selected` : "";
    clearButton.hidden = n === 0;
    compareButton.disabled = n < 2;
    compareButton.title = n < 2 ? "Select at least two runs to compare" : `Compare ${n} runs`;
    deleteButton.hidden = state.view === "deleted";
    restoreButton.hidden = state.view === "active";
    deleteButton.disabled = n === 0;
    restoreButton.disabled = n === 0;
  }

  async function bulk(action) {
    const ids = [...state.sel];
    const verb = action === "delete" ? "Delete" : "Restore";
    const ok = await confirmDialog(`${verb} ${ids.length} run${ids.length === 1 ? "" : "s"}?`,
      action === "delete"
        ? "Deleted runs move to the Deleted view and can be restored until they are garbage-collected."
        : "The runs return to the Active view.",
      { confirmLabel: verb, danger: action === "delete" });
    if (!ok) return;
    const failures = await eachLimited(ids, 4, (id) => mlflow.post(`runs/${action}`, { run_id: id }, { signal }));
    if (signal.aborted) return;
    const done = ids.length - failures.length;
    if (failures.length) toast(`${verb} failed for ${failures.length} run(s): ${failures[0][1].message}`, "error", 8000);
    if (done) toast(`${action === "delete" ? "Deleted" : "Restored"} ${done} run${done === 1 ? "" : "s"}`, "success");
    setSelection(failures.map(([id]) => id));
    if (state.group) await showContent();
    else await table.reload().catch((err) => toast(err.message, "error"));
  }

  updateActions();
  fillGroupOptions();
  await styles;
  const grouped = showContent();
  if (firstLoad) {
    try {
      await firstLoad;
    } catch (err) {
      if (err?.name === "AbortError") throw err;
      // A bad filter in the URL: say why, and show the runs without it.
      filter.showError(err.message);
      state.filter = "";
      await table.load(query()).catch(() => {});
    }
    if (!keysFromServer) keysRequest.catch(() => keysFromRows());
  }
  if (grouped) await grouped;
}
