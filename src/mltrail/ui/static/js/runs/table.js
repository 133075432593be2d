// The virtual runs table: a scroll box whose body is as tall as every row would be, with only the
// rows in view (plus a margin) in the DOM. Rows have a fixed height, so the rows in view follow
// from scrollTop alone; missing rows are fetched a page at a time from their offset.
import { h } from "../dom.js";
import { cellContent, cellText, columnDef } from "./columns.js";
import { FIRST_PAGE, RunSource } from "./source.js";
import { orderClause } from "./state.js";

export const ROW_HEIGHT = 32;
const OVERSCAN = 12;
const CHECK_WIDTH = 40;
const FETCH_DELAY = 60; // ms

/** Rows of runs as plain (non-virtual) markup, for short lists such as an expanded group. */
export function runRow(row, cols, { template, width, selected, onToggle, index }) {
  const id = row.info.run_id;
  const box = h("input", { type: "checkbox", checked: selected, "aria-label": `Select run ${cellText(row, { kind: "attributes", key: "run_name" })}`,
    onclick: (ev) => onToggle(id, index, ev) });
  return h("div", { class: "rt-row" + (selected ? " selected" : "") + (row.info.lifecycle_stage === "deleted" ? " deleted" : ""),
    role: "row", "data-testid": "run-row", dataset: { runId: id },
    style: { gridTemplateColumns: template, width } },
    h("div", { class: "rt-cell rt-check", role: "cell" }, box),
    cols.map((c) => h("div", { class: "rt-cell" + (c.numeric ? " num" : ""), role: "cell", title: cellText(row, c),
      dataset: { column: c.id } }, cellContent(row, c))));
}

/** The grid template and total width of a column list. */
export function layout(cols) {
  const template = [CHECK_WIDTH, ...cols.map((c) => c.width)].map((w) => `${w}px`).join(" ");
  const total = CHECK_WIDTH + cols.reduce((s, c) => s + c.width, 0);
  return { template: `${template} minmax(0, 1fr)`, width: `max(${total}px, 100%)` };
}

/** Header cells: sortable ones carry aria-sort and call `onSort(columnId)` on click. */
export function headerRow(cols, { sort, dir, onSort, selectAll }) {
  const { template, width } = layout(cols);
  return h("div", { class: "rt-row rt-header", role: "row", style: { gridTemplateColumns: template, width } },
    h("div", { class: "rt-cell rt-check", role: "columnheader" }, selectAll),
    cols.map((col) => {
      // Without onSort (a group's run list) headers only label the columns.
      const c = onSort ? col : { ...col, sortable: false };
      const active = sort === c.id;
      const ariaSort = active ? (dir === "asc" ? "ascending" : "descending") : c.sortable ? "none" : null;
      const label = c.group ? h("span", null, h("span", { class: "col-kind" }, c.group), " ", c.label) : c.label;
      return h("div", { class: "rt-cell" + (c.numeric ? " num" : "") + (c.sortable ? " sortable" : ""),
        role: "columnheader", "aria-sort": ariaSort, "data-testid": "column-header", dataset: { column: c.id },
        title: c.id, onclick: c.sortable ? () => onSort(c.id) : null },
        c.sortable ? h("button", { type: "button", class: "sort-button" }, label) : label);
    }));
}

/**
 * Create the table. `onSort(columnId)` is called on a header click; `onSelect(ids)` after the
 * selection changes; `onTotal(n, exact)` when the number of matching runs changes. Returns an object with el, setColumns, load, reload, selection helpers.
 */
export function createRunsTable({ experimentIds, columns, selected, onSort, onSelect, onTotal, signal }) {
  const el = h("div", { class: "runs-table", "data-testid": "runs-table", role: "table", "aria-label": "Runs",
    tabindex: "0", dataset: { state: "loading", sort: "" }, style: { "--rt-row-h": `${ROW_HEIGHT}px` } });
  const head = h("div", { class: "rt-head", role: "rowgroup" });
  const body = h("div", { class: "rt-body", role: "rowgroup" });
  const message = h("div", { class: "rt-message" });
  el.append(head, body, message);

  let cols = columns.map(columnDef);
  let query = null; // the query whose rows are shown
  let source = null;
  let generation = 0;
  let anchor = null; // index of the last row clicked, for shift-click ranges
  const selection = new Set(selected);
  let frame = 0;
  let lastTotal = -1;
  let lastExact = false;

  function visibleRange() {
    const total = source ? source.size() : 0;
    const first = Math.max(0, Math.floor(el.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(total, Math.ceil((el.scrollTop + el.clientHeight) / ROW_HEIGHT) + OVERSCAN);
    return [first, last];
  }

  // One select-all box for the table's life, so re-rendering the header keeps its focus.
  const selectAll = h("input", { type: "checkbox", "aria-label": "Select all loaded runs", "data-testid": "select-all",
    onchange: () => {
      for (const r of source ? source.loaded() : []) {
        if (selectAll.checked) selection.add(r.info.run_id);
        else selection.delete(r.info.run_id);
      }
      selectionChanged();
    } });

  function syncSelectAll() {
    const rows = source ? source.loaded() : [];
    const n = rows.filter((r) => selection.has(r.info.run_id)).length;
    selectAll.checked = rows.length > 0 && n === rows.length;
    selectAll.indeterminate = n > 0 && n < rows.length;
  }

  function renderHead(sortState = query) {
    // Put keyboard focus back on the same header control after the rebuild.
    const active = head.contains(document.activeElement) ? document.activeElement : null;
    const column = active?.closest("[data-column]")?.dataset.column;
    head.replaceChildren(headerRow(cols, { sort: sortState?.sort, dir: sortState?.dir, onSort, selectAll }));
    syncSelectAll();
    if (active === selectAll) selectAll.focus();
    else if (column) head.querySelector(`[data-column="${CSS.escape(column)}"] button`)?.focus();
  }

  function toggle(id, index, ev) {
    const on = ev.target.checked;
    if (ev.shiftKey && anchor !== null && source && index !== undefined) {
      const [a, b] = anchor < index ? [anchor, index] : [index, anchor];
      for (let i = a; i <= b; i++) {
        const row = source.rows[i];
        if (!row) continue;
        if (on) selection.add(row.info.run_id);
        else selection.delete(row.info.run_id);
      }
    } else if (on) selection.add(id);
    else selection.delete(id);
    anchor = index ?? anchor;
    selectionChanged();
  }

  function selectionChanged() {
    onSelect([...selection]);
    syncSelectAll();
    // Update rows in place: rebuilding them would take the focus from the box just toggled.
    for (const rowEl of body.querySelectorAll("[data-run-id]")) {
      const on = selection.has(rowEl.dataset.runId);
      rowEl.classList.toggle("selected", on);
      rowEl.querySelector("input[type=checkbox]").checked = on;
    }
  }

  function renderRows(force = false) {
    frame = 0;
    if (!source) return;
    const total = source.size();
    const { template, width } = layout(cols);
    body.style.height = `${total * ROW_HEIGHT}px`;
    el.setAttribute("aria-rowcount", String(total + 1));
    const [first, last] = visibleRange();
    if (force) body.replaceChildren();
    // Keep the rows still in range; drop the others and placeholders that now have data.
    const present = new Map();
    for (const child of [...body.children]) {
      const i = Number(child.dataset.index);
      const stale = i < first || i >= last || (child.classList.contains("placeholder") && source.has(i));
      if (stale) child.remove();
      else present.set(i, child);
    }
    const fragment = document.createDocumentFragment();
    let missing = false;
    for (let i = first; i < last; i++) {
      if (present.has(i)) continue;
      const row = source.rows[i];
      let rowEl;
      if (row) {
        rowEl = runRow(row, cols, { template, width, selected: selection.has(row.info.run_id), onToggle: toggle, index: i });
      } else {
        missing = true;
        rowEl = h("div", { class: "rt-row placeholder", role: "row", "aria-busy": "true",
          style: { gridTemplateColumns: template, width } },
          h("div", { class: "rt-cell rt-check", role: "cell" }), h("div", { class: "rt-cell", role: "cell" }, h("span", { class: "shimmer" })));
      }
      rowEl.dataset.index = String(i);
      rowEl.setAttribute("aria-rowindex", String(i + 2));
      rowEl.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      fragment.append(rowEl);
    }
    body.append(fragment);
    for (const child of present.values()) if (child.classList.contains("placeholder")) missing = true;
    if (missing) requestRows(source, first, last);
    if (source.error) message.replaceChildren(h("div", { class: "error-box", role: "alert" }, `Could not load more runs: ${source.error.message}`));
    else message.replaceChildren(total === 0 ? h("div", { class: "empty-state", "data-testid": "runs-empty" }, "No runs match.") : "");
    const exact = source.total !== null;
    if (total !== lastTotal || exact !== lastExact) {
      lastTotal = total;
      lastExact = exact;
      if (onTotal) onTotal(total, exact);
    }
    if (generation === source.generation) el.dataset.state = missing && !source.error ? "loading" : "ready";
    el.setAttribute("aria-busy", String(missing));
  }

  // Rows are asked for once scrolling pauses, so dragging the scrollbar across thousands of rows
  // does not fetch every page on the way.
  let fetchTimer = 0;
  function requestRows(src, first, last) {
    clearTimeout(fetchTimer);
    fetchTimer = setTimeout(() => src.ensure(first, last), FETCH_DELAY);
  }

  function schedule() {
    if (!frame) frame = requestAnimationFrame(() => renderRows());
  }
  el.addEventListener("scroll", schedule, { passive: true });
  const resize = new ResizeObserver(schedule);
  resize.observe(el);
  signal.addEventListener("abort", () => resize.disconnect());

  /**
   * Show the runs of `next` ({filter, view, sort, dir, runViewType}). Rejects with the server's error
   * (a bad filter) and then keeps showing the previous rows.
   */
  async function load(next, { keepScroll = false } = {}) {
    const gen = ++generation;
    const previousSort = el.dataset.sort;
    el.dataset.sort = orderClause(next.sort, next.dir);
    el.dataset.state = "loading";
    renderHead(next);
    const order = orderClause(next.sort, next.dir);
    const candidate = new RunSource({ experiment_ids: experimentIds, filter: next.filter,
      run_view_type: next.runViewType, order_by: order ? [order] : [] }, signal);
    candidate.generation = gen;
    // The first (small) page goes out first; the count follows at once, without waiting for it.
    const firstPage = candidate.fetch(0, FIRST_PAGE);
    candidate.count();
    try {
      await firstPage;
    } catch (err) {
      if (gen === generation) {
        generation = source ? source.generation : generation;
        el.dataset.sort = previousSort;
        el.dataset.state = source ? "ready" : "error";
        renderHead();
      }
      throw err;
    }
    if (gen !== generation) return;
    query = next;
    source = candidate;
    source.onChange(() => {
      if (source !== candidate) return;
      syncSelectAll();
      schedule();
    });
    if (!keepScroll) el.scrollTop = 0;
    anchor = null;
    renderHead();
    renderRows(true);
  }

  return {
    el,
    load,
    /** Reload the current query (after deleting or restoring runs), keeping the scroll position. */
    reload: () => (query ? load(query, { keepScroll: true }) : Promise.resolve()),
    setColumns(ids) {
      cols = ids.map(columnDef);
      renderHead();
      renderRows(true);
    },
    setSelection(ids) {
      selection.clear();
      for (const id of ids) selection.add(id);
      syncSelectAll();
      renderRows(true);
    },
    /** The number of runs the current query matches (null until known). */
    total: () => (source ? source.total : null),
    loadedRows: () => (source ? source.loaded() : []),
    /** Scroll so row `index` is in view (keyboard users and tests). */
    scrollToIndex(index) { el.scrollTop = index * ROW_HEIGHT; },
  };
}
