// Grouped runs: one row per value of a param, tag or the status, with the run count and the
// mean / min / max of the shown metric columns (from ui/runs/groups). Expanding a group lists its
// runs, fetched with the group's condition added to the current filter.
import { mlflow, uiApi } from "../api.js";
import { formatNumber, h } from "../dom.js";
import { errorBox, spinner } from "../components/ui.js";
import { columnDef, indexRun } from "./columns.js";
import { andFilters, groupFilter, offsetToken, orderClause, splitColumn } from "./state.js";
import { headerRow, layout, runRow } from "./table.js";

const GROUP_PAGE = 100;
const STATS = ["mean", "min", "max"];
// How the group of runs without the key is named in the expanded set (and the URL, as %00).
const NULL_KEY = "\u0000";

/** A group's label: its value, or a note for runs without the key. */
function groupLabel(value) {
  return value === null ? h("span", { class: "muted" }, "(not set)") : value === "" ? h("span", { class: "muted" }, "(empty)") : value;
}

/**
 * Render the grouped view into `container`. `query`: {filter, runViewType, sort, dir, group, open};
 * `columns`: column ids (metric columns give the aggregates); `selection`: {has, toggle};
 * `onOpen(values)` stores the expanded groups. Resolves once the groups are shown.
 */
export async function renderGroups(container, { experimentIds, query, columns, selection, onOpen, signal }) {
  const metricKeys = columns.filter((c) => c.startsWith("metrics.")).map((c) => splitColumn(c).key);
  const groupName = columnDef(query.group);
  container.replaceChildren(spinner("Grouping runs…"));
  let res;
  try {
    res = await uiApi.post("runs/groups", { experiment_ids: experimentIds, filter: query.filter,
      run_view_type: query.runViewType, group_by: query.group, metric_keys: metricKeys }, { signal });
  } catch (err) {
    // Navigated away: nothing to show.
    if (err?.name === "AbortError") return;
    container.replaceChildren(errorBox(err, "Could not group the runs"));
    return;
  }
  const open = new Set(query.open);
  const cols = columns.map(columnDef);
  const statHeads = metricKeys.flatMap((k) => STATS.map((s) =>
    h("th", { class: "num", scope: "col" }, `${k} `, h("span", { class: "muted" }, `(${s})`))));
  const tbody = h("tbody");
  const table = h("table", { class: "data groups-table", "data-testid": "groups-table" },
    h("caption", { class: "sr-only" }, `Runs grouped by ${query.group}`),
    h("thead", null, h("tr", null, h("th", { scope: "col" }, groupName.kind === "attributes" ? groupName.label : query.group),
      h("th", { class: "num", scope: "col" }, "Runs"), statHeads)),
    tbody);

  for (const group of res.groups || []) {
    const key = group.value === null ? NULL_KEY : group.value;
    const detail = h("tr", { class: "group-detail", hidden: true },
      h("td", { colspan: 2 + metricKeys.length * STATS.length }));
    const toggle = h("button", { type: "button", class: "link group-toggle", "aria-expanded": "false",
      onclick: () => setOpen(!open.has(key)) }, h("span", { class: "caret", "aria-hidden": "true" }, "▸"), " ",
      groupLabel(group.value));
    const stats = metricKeys.flatMap((k) => STATS.map((s) => {
      const value = group.metrics?.[k]?.[s];
      return h("td", { class: "num", dataset: { metric: k, stat: s } }, value === undefined || value === null ? "" : formatNumber(value));
    }));
    const row = h("tr", { class: "group-row", "data-testid": "group-row", dataset: { value: group.value ?? "" } },
      h("th", { scope: "row" }, toggle),
      h("td", { class: "num", "data-testid": "group-count" }, String(group.run_count)), stats);
    tbody.append(row, detail);

    function setOpen(on) {
      if (on) open.add(key);
      else open.delete(key);
      toggle.setAttribute("aria-expanded", String(on));
      toggle.querySelector(".caret").textContent = on ? "▾" : "▸";
      detail.hidden = !on;
      if (on && !detail.dataset.loaded) {
        detail.dataset.loaded = "1";
        groupRuns(detail.firstChild, { experimentIds, query, cols, value: group.value, selection, signal });
      }
      onOpen([...open]);
    }
    if (open.has(key)) setOpen(true);
  }
  const summary = h("p", { class: "muted groups-summary" },
    `${(res.groups || []).length} groups · ${res.total_runs ?? "?"} runs`,
    res.truncated ? " · only the largest groups are shown" : "");
  container.replaceChildren(summary, h("div", { class: "table-wrap" }, table));
}

/** The runs of one group, a page at a time, as run rows. */
async function groupRuns(cell, { experimentIds, query, cols, value, selection, signal }) {
  const { template, width } = layout(cols);
  const list = h("div", { class: "group-runs", role: "table", "aria-label": "Runs in this group" },
    headerRow(cols, { sort: query.sort, dir: query.dir, onSort: null, selectAll: h("span") }));
  const more = h("div", { class: "group-more" });
  cell.replaceChildren(list, more);
  const order = orderClause(query.sort, query.dir);
  const body = { experiment_ids: experimentIds, filter: andFilters(query.filter, groupFilter(query.group, value)),
    run_view_type: query.runViewType, order_by: order ? [order] : [], max_results: GROUP_PAGE };
  let offset = 0;
  async function page() {
    more.replaceChildren(spinner());
    try {
      const res = await mlflow.post("runs/search", { ...body, page_token: offsetToken(offset) }, { signal });
      for (const run of res.runs || []) {
        const row = indexRun(run);
        list.append(runRow(row, cols, { template, width, selected: selection.has(run.info.run_id),
          onToggle: (id, _i, ev) => {
            selection.toggle(id, ev.target.checked);
            ev.target.closest(".rt-row").classList.toggle("selected", ev.target.checked);
          } }));
      }
      offset += (res.runs || []).length;
      more.replaceChildren(res.next_page_token
        ? h("button", { type: "button", onclick: page }, "Load more runs") : "");
    } catch (err) {
      if (err?.name === "AbortError") return;
      more.replaceChildren(errorBox(err, "Could not load the runs of this group"));
    }
  }
  await page();
}
