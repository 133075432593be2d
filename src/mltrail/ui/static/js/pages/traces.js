// #/experiments/:experimentIds/traces — the traces of one or more experiments: a table searched
// with the trace filter grammar, ordered by clicking headers, paged with "Load more", with a
// column chooser. URL query: filter, order ("execution_time_ms DESC"; absent = newest first),
// cols (visible columns when not the default set), pages (how many pages are loaded).
import { mlflow3 } from "../api.js";
import { formatTime, h, link, replace } from "../dom.js";
import { emptyState, errorBox, spinner, statusBadge } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import { experimentHeader } from "../components/experiment_header.js";
import { formatCost, formatSpanDuration, summarizeInfo } from "../traces/model.js";

const PAGE_SIZE = 50;
const MAX_PAGES = 40;

const short = (text, n = 80) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** Columns: `order` is the server's order_by key (only those are sortable); `desc` = first click sorts descending. */
const COLUMNS = [
  { id: "name", label: "Name", order: "name", show: true,
    cell: (s) => link(`/traces/${encodeURIComponent(s.id)}`, s.name || s.id, { class: s.name ? "" : "mono", "data-testid": "trace-link" }) },
  { id: "request_time", label: "Request time", order: "timestamp_ms", desc: true, show: true,
    cell: (s) => h("span", { class: "nowrap", title: s.requestTime ? new Date(s.requestTime).toISOString() : "" }, formatTime(s.requestTime)) },
  { id: "status", label: "Status", order: "status", show: true,
    cell: (s) => statusBadge(s.state === "STATE_UNSPECIFIED" ? "" : s.state) },
  { id: "latency", label: "Latency", order: "execution_time_ms", desc: true, num: true, show: true,
    cell: (s) => formatSpanDuration(s.durationMs) },
  { id: "tokens", label: "Tokens", num: true, show: true,
    cell: (s) => (s.tokens ? h("span", { title: `${s.tokens.input_tokens ?? "?"} input · ${s.tokens.output_tokens ?? "?"} output` },
      String(s.tokens.total_tokens ?? (s.tokens.input_tokens ?? 0) + (s.tokens.output_tokens ?? 0)),
      h("span", { class: "muted trace-tokens-split" }, ` (${s.tokens.input_tokens ?? "?"} / ${s.tokens.output_tokens ?? "?"})`)) : "") },
  { id: "cost", label: "Cost", num: true, show: true, cell: (s) => formatCost(s.cost) },
  { id: "session", label: "Session", show: true, cell: (s) => h("span", { class: "mono" }, s.session) },
  { id: "user", label: "User", show: true, cell: (s) => s.user },
  { id: "tags", label: "Tags", show: true,
    cell: (s) => s.userTags.map(([k, v]) => h("span", { class: "chip", title: `${k}: ${v}` }, short(`${k}: ${v}`, 40))) },
  { id: "trace_id", label: "Trace ID", order: "request_id", show: false, cell: (s) => h("span", { class: "mono" }, s.id) },
  { id: "request", label: "Request", show: false, cell: (s) => h("span", { class: "mono trace-preview-cell", title: s.requestPreview }, short(s.requestPreview)) },
  { id: "response", label: "Response", show: false, cell: (s) => h("span", { class: "mono trace-preview-cell", title: s.responsePreview }, short(s.responsePreview)) },
  { id: "experiment", label: "Experiment", order: "experiment_id", show: false,
    cell: (s) => (s.experimentId ? link(`/experiments/${encodeURIComponent(s.experimentId)}/traces`, s.experimentId, { class: "mono" }) : "") },
  { id: "run", label: "Run", order: "run_id", show: false,
    cell: (s) => (s.runId ? link(`/runs/${encodeURIComponent(s.runId)}`, s.runId.slice(0, 8), { class: "mono", title: s.runId }) : "") },
];
const DEFAULT_COLUMNS = COLUMNS.filter((c) => c.show).map((c) => c.id);

const FILTER_EXAMPLES = [
  "status = 'ERROR'",
  "execution_time_ms > 1000",
  "tags.env = 'staging'",
  "metadata.`mlflow.trace.user` = 'alice'",
  "name LIKE '%agent%'",
];

function parseOrder(text) {
  const m = /^(\S+)\s+(ASC|DESC)$/i.exec((text || "").trim());
  return m ? { key: m[1], dir: m[2].toUpperCase() } : null;
}

export async function render(ctx) {
  const { root, params, query, signal } = ctx;
  const [{ el: headerEl, ids }] = await Promise.all([
    experimentHeader(params.experimentIds, "traces", { signal }),
    ensureStyles("traces"),
  ]);
  document.title = `Traces · ${document.title}`;

  const state = {
    filter: query.get("filter") || "",
    order: parseOrder(query.get("order")),
    columns: (query.get("cols") || "").split(",").filter((id) => COLUMNS.some((c) => c.id === id)),
    pages: Math.min(Math.max(Number(query.get("pages")) || 1, 1), MAX_PAGES),
  };
  if (!state.columns.length) state.columns = [...DEFAULT_COLUMNS];
  let rows = [];
  let nextToken = null;
  let loadSeq = 0;

  const saveQuery = (push = false) => {
    const sameCols = state.columns.length === DEFAULT_COLUMNS.length && state.columns.every((c, i) => c === DEFAULT_COLUMNS[i]);
    ctx.setQuery({
      filter: state.filter,
      order: state.order ? `${state.order.key} ${state.order.dir}` : "",
      cols: sameCols ? "" : state.columns,
      pages: state.pages > 1 ? state.pages : "",
    }, { push });
  };

  // --- toolbar: search box, column chooser --------------------------------------------------
  const input = h("input", { type: "search", class: "grow", id: "trace-filter", value: state.filter, autocomplete: "off",
    spellcheck: false, placeholder: "Filter traces, e.g. status = 'ERROR' AND tags.env = 'staging'", "aria-describedby": "trace-filter-error trace-filter-help",
    "data-testid": "traces-filter" });
  const errorEl = h("div", { class: "form-error", id: "trace-filter-error", role: "alert", "data-testid": "traces-error" });
  const form = h("form", { class: "toolbar traces-search", role: "search",
    onsubmit: (ev) => {
      ev.preventDefault();
      state.filter = input.value.trim();
      state.pages = 1;
      saveQuery(true);
      load();
    } },
  h("label", { class: "sr-only", for: "trace-filter" }, "Filter traces"),
  input,
  h("button", { type: "submit", class: "primary" }, "Search"),
  h("button", { type: "button", onclick: () => {
    input.value = "";
    if (!state.filter) return;
    state.filter = "";
    state.pages = 1;
    saveQuery(true);
    load();
  } }, "Clear"),
  columnChooser());
  const help = h("div", { class: "traces-help muted", id: "trace-filter-help" }, "Examples: ",
    FILTER_EXAMPLES.map((ex) => h("button", { type: "button", class: "link mono", onclick: () => { input.value = ex; input.focus(); } }, ex)));

  function columnChooser() {
    const button = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "trace-columns", "data-testid": "columns-button" }, "Columns");
    const pop = h("div", { class: "popover traces-columns", id: "trace-columns", hidden: true, role: "group", "aria-label": "Visible columns" },
      COLUMNS.map((c) => {
        const box = h("input", { type: "checkbox", checked: state.columns.includes(c.id), dataset: { column: c.id },
          onchange: () => {
            // Keep the chooser's order so columns never jump around when shown again.
            const on = new Set(state.columns);
            if (box.checked) on.add(c.id); else on.delete(c.id);
            if (!on.size) { box.checked = true; return; }
            state.columns = COLUMNS.filter((col) => on.has(col.id)).map((col) => col.id);
            saveQuery();
            drawTable();
          } });
        return h("label", { class: "checkbox" }, box, c.label);
      }));
    const close = () => { pop.hidden = true; button.setAttribute("aria-expanded", "false"); };
    button.addEventListener("click", () => {
      pop.hidden = !pop.hidden;
      button.setAttribute("aria-expanded", String(!pop.hidden));
      if (!pop.hidden) pop.querySelector("input").focus();
    });
    pop.addEventListener("keydown", (ev) => { if (ev.key === "Escape") { close(); button.focus(); } });
    const onDocClick = (ev) => { if (!wrap.contains(ev.target)) close(); };
    document.addEventListener("click", onDocClick);
    ctx.onCleanup(() => document.removeEventListener("click", onDocClick));
    const wrap = h("div", { class: "traces-columns-wrap" }, button, pop);
    return wrap;
  }

  // --- table ------------------------------------------------------------------------------
  const container = h("div", { class: "table-wrap traces-table", "data-testid": "traces-table", "data-state": "loading", "data-sort": "" });
  const footer = h("div", { class: "traces-footer" });

  function headerCell(col) {
    const sorted = state.order && col.order && state.order.key === col.order ? state.order.dir : null;
    const attrs = { scope: "col", class: [col.num ? "num" : "", col.order ? "sortable" : ""].join(" ").trim() || null,
      "data-testid": "column-header", dataset: { column: col.id } };
    if (!col.order) return h("th", attrs, col.label);
    attrs["aria-sort"] = sorted === "ASC" ? "ascending" : sorted === "DESC" ? "descending" : "none";
    return h("th", attrs, h("button", { type: "button", class: "th-sort", onclick: () => sortBy(col) }, col.label));
  }

  function sortBy(col) {
    const current = state.order && state.order.key === col.order ? state.order.dir : null;
    const dir = current ? (current === "DESC" ? "ASC" : "DESC") : (col.desc ? "DESC" : "ASC");
    state.order = { key: col.order, dir };
    state.pages = 1;
    saveQuery();
    load();
  }

  function drawTable() {
    const cols = COLUMNS.filter((c) => state.columns.includes(c.id));
    container.dataset.sort = state.order ? `${state.order.key} ${state.order.dir}` : "";
    const table = h("table", { class: "data" },
      h("thead", null, h("tr", null, cols.map(headerCell))),
      h("tbody", null, rows.map((s) => h("tr", {
        class: "trace-row", "data-testid": "trace-row", dataset: { traceId: s.id },
        onclick: (ev) => {
          if (ev.target.closest("a, button, input")) return;
          ctx.navigate(`/traces/${encodeURIComponent(s.id)}`);
        },
      }, cols.map((c) => h("td", { class: c.num ? "num" : null, dataset: { column: c.id } }, c.cell(s)))))));
    const content = [table];
    if (!rows.length && container.dataset.state === "loading") content.push(spinner("Searching traces…"));
    else if (!rows.length && container.dataset.state === "ready") {
      content.push(emptyState(state.filter ? "No traces match this filter." : "No traces recorded in this experiment yet."));
    }
    replace(container, content);
    replace(footer,
      container.dataset.state === "error" ? null
        : h("span", { class: "muted", "data-testid": "traces-count" }, `${rows.length} trace${rows.length === 1 ? "" : "s"} shown`),
      nextToken ? h("button", { type: "button", "data-testid": "load-more", onclick: loadMore }, "Load more") : null);
  }

  const searchBody = (token) => ({
    locations: ids.map((id) => ({ type: "MLFLOW_EXPERIMENT", mlflow_experiment: { experiment_id: id } })),
    filter: state.filter || undefined,
    max_results: PAGE_SIZE,
    order_by: state.order ? [`${state.order.key} ${state.order.dir}`] : undefined,
    page_token: token || undefined,
  });

  async function load() {
    const seq = ++loadSeq;
    container.dataset.state = "loading";
    errorEl.textContent = "";
    input.classList.remove("invalid");
    input.removeAttribute("aria-invalid");
    try {
      const found = [];
      let token = null;
      for (let page = 0; page < state.pages; page++) {
        const res = await mlflow3.post("traces/search", searchBody(token), { signal });
        if (seq !== loadSeq) return;
        found.push(...(res.traces || []).map(summarizeInfo));
        token = res.next_page_token || null;
        if (!token) break;
      }
      rows = found;
      nextToken = token;
    } catch (err) {
      if (err.name === "AbortError" || seq !== loadSeq) return;
      rows = [];
      nextToken = null;
      if (err.status >= 400 && err.status < 500) {
        // A filter the server rejects: say why next to the box, where it can be fixed.
        errorEl.textContent = err.message;
        input.classList.add("invalid");
        input.setAttribute("aria-invalid", "true");
      } else {
        errorEl.replaceChildren(errorBox(err, "Could not search traces"));
      }
      container.dataset.state = "error";
      drawTable();
      return;
    }
    container.dataset.state = "ready";
    drawTable();
  }

  async function loadMore(ev) {
    const button = ev.currentTarget;
    button.disabled = true;
    const seq = loadSeq;
    container.dataset.state = "loading";
    try {
      const res = await mlflow3.post("traces/search", searchBody(nextToken), { signal });
      if (seq !== loadSeq) return;
      rows = rows.concat((res.traces || []).map(summarizeInfo));
      nextToken = res.next_page_token || null;
      state.pages = Math.min(state.pages + 1, MAX_PAGES);
      saveQuery();
    } catch (err) {
      if (err.name === "AbortError" || seq !== loadSeq) return;
      errorEl.replaceChildren(errorBox(err, "Could not load more traces"));
    }
    container.dataset.state = "ready";
    drawTable();
  }

  replace(root, h("div", { class: "traces-page" }, headerEl, form, errorEl, help, container, footer));
  drawTable();
  await load();
}
