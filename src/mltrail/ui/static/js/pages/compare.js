// The compare page (#/compare?runs=a,b,c): the runs side by side. Overlaid metric charts, a
// params/metrics table highlighting what differs, parallel coordinates and a scatter plot.
// Every choice lives in the query: metrics, x/log/smooth, diff=only, pc (plot dimensions),
// sx/sy and slogx/slogy (scatter axes).
import { mlflow } from "../api.js";
import { h, replace, link, formatNumber, formatTime } from "../dom.js";
import { breadcrumbs, emptyState, errorBox, openDialog, statusBadge } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import { chartOptionsFromQuery, chartOptionsToQuery, chartOptionsToolbar, createMetricChart } from "../charts/metric_chart.js";
import { plotCard, parcoordsSpec, scatterSpec } from "../charts/compare_plots.js";
import { onThemeChange, seriesColor } from "../charts/theme.js";

const DEFAULT_CHARTS = 6;
const DEFAULT_DIMS = 8;
const list = (text) => (text ? text.split(",").map((s) => s.trim()).filter(Boolean) : []);

/** Every column a run can be compared on: "params.<key>" and "metrics.<key>" (latest value). */
function columnsOf(runs) {
  const params = new Set();
  const metrics = new Set();
  for (const run of runs) {
    for (const p of run.data?.params || []) params.add(p.key);
    for (const m of run.data?.metrics || []) metrics.add(m.key);
  }
  return {
    params: [...params].sort(),
    metrics: [...metrics].sort(),
  };
}

function valueOf(run, column) {
  const dot = column.indexOf(".");
  const kind = column.slice(0, dot);
  const key = column.slice(dot + 1);
  if (kind === "params") return (run.data?.params || []).find((p) => p.key === key)?.value;
  if (kind === "metrics") return (run.data?.metrics || []).find((m) => m.key === key)?.value;
  return undefined;
}

const columnLabel = (column) => column.replace(/^params\./, "param: ").replace(/^metrics\./, "metric: ");

/** A dialog of checkboxes; resolves to the chosen subset (in `options` order) or null. */
async function chooseMany(title, options, chosen) {
  const selected = new Set(chosen);
  const filter = h("input", { type: "search", placeholder: "Filter", "aria-label": "Filter" });
  const box = h("div", { class: "choice-list", role: "group", "aria-label": title });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    box.replaceChildren(...options.filter(([, label]) => !q || label.toLowerCase().includes(q)).map(([value, label]) => {
      const input = h("input", { type: "checkbox", value, checked: selected.has(value),
        onchange: () => (input.checked ? selected.add(value) : selected.delete(value)) });
      return h("label", { class: "checkbox" }, input, h("span", { class: "mono" }, label));
    }));
  };
  filter.addEventListener("input", draw);
  draw();
  const result = await openDialog({
    title,
    body: h("div", { class: "form" }, filter, box),
    actions: [{ label: "Cancel", value: null }, { label: "Apply", value: "ok", primary: true }],
  });
  return result === "ok" ? options.map(([v]) => v).filter((v) => selected.has(v)) : null;
}

export async function render(ctx) {
  const { root, query, signal } = ctx;
  await ensureStyles("run");
  await ensureStyles("compare");
  const ids = [...new Set(list(query.get("runs")))];
  document.title = "Compare runs · mltrail";
  const crumbs = breadcrumbs([["Experiments", "/experiments"], ["Compare runs", null]]);
  if (!ids.length) {
    replace(root, crumbs, h("h1", null, "Compare runs"), emptyState("No runs chosen. Select runs in an experiment's run list and choose Compare."));
    return;
  }
  const results = await Promise.allSettled(ids.map((id) => mlflow.get("runs/get", { run_id: id }, { signal })));
  if (signal.aborted) return;
  const runs = [];
  const missing = [];
  results.forEach((r, i) => (r.status === "fulfilled" ? runs.push(r.value.run) : missing.push([ids[i], r.reason])));
  const experimentIds = [...new Set(runs.map((r) => r.info.experiment_id))];
  const experiments = new Map();
  await Promise.all(experimentIds.map(async (id) => {
    try {
      experiments.set(id, (await mlflow.get("experiments/get", { experiment_id: id }, { signal })).experiment);
    } catch (err) {
      if (err.name === "AbortError") throw err;
    }
  }));
  if (signal.aborted) return;
  document.title = `Compare ${runs.length} runs · mltrail`;
  const problems = missing.map(([id, err]) => errorBox(err, `Run ${id} could not be loaded`));
  if (!runs.length) {
    replace(root, crumbs, h("h1", null, "Compare runs"), problems);
    return;
  }
  const runRefs = runs.map((r) => ({ id: r.info.run_id, name: r.info.run_name || r.info.run_id, startTime: r.info.start_time }));
  const columns = columnsOf(runs);

  const content = h("div", { class: "compare-page" },
    crumbs,
    h("div", { class: "page-header" }, h("h1", null, `Comparing ${runs.length} run${runs.length === 1 ? "" : "s"}`)),
    problems,
    runsHeader(runs, experiments),
    chartsSection(ctx, runRefs, columns),
    diffSection(ctx, runs, columns),
    parcoordsSection(ctx, runs, runRefs, columns),
    scatterSection(ctx, runs, runRefs, columns));
  replace(root, content);
  paintRunColors(content);
  const stopTheme = onThemeChange(() => paintRunColors(content));
  ctx.onCleanup(stopTheme);
}

/** Colour every run marker under `root` like its run's lines (they follow the theme). */
function paintRunColors(root) {
  for (const el of root.querySelectorAll("[data-color-index]")) el.style.background = seriesColor(Number(el.dataset.colorIndex));
}

function runsHeader(runs, experiments) {
  const table = h("div", { class: "table-wrap" }, h("table", { class: "data", "data-testid": "compare-runs" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Run"), h("th", { scope: "col" }, "Experiment"),
      h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Started"))),
    h("tbody", null, runs.map((run, i) => {
      const swatch = h("span", { class: "run-swatch", "aria-hidden": "true", dataset: { colorIndex: String(i) } });
      const exp = experiments.get(run.info.experiment_id);
      return h("tr", { "data-testid": "compare-run", dataset: { runId: run.info.run_id } },
        h("td", null, swatch, link(`/runs/${run.info.run_id}`, run.info.run_name || run.info.run_id)),
        h("td", null, link(`/experiments/${run.info.experiment_id}`, exp?.name || run.info.experiment_id)),
        h("td", null, statusBadge(run.info.status)),
        h("td", { class: "muted nowrap" }, formatTime(run.info.start_time)));
    }))));
  return h("section", { class: "compare-section", "aria-label": "Runs" }, table);
}

function chartsSection(ctx, runRefs, columns) {
  const available = columns.metrics;
  const chosenInQuery = ctx.query.has("metrics");
  let keys = chosenInQuery ? list(ctx.query.get("metrics")).filter((k) => available.includes(k)) : available.slice(0, DEFAULT_CHARTS);
  let options = chartOptionsFromQuery(ctx.query);
  const charts = new Map();
  const grid = h("div", { class: "chart-grid", "data-testid": "compare-charts" });

  function draw() {
    for (const [key, chart] of charts) if (!keys.includes(key)) { chart.destroy(); chart.el.remove(); charts.delete(key); }
    if (!keys.length) {
      grid.replaceChildren(emptyState(available.length ? "No metrics chosen." : "These runs have no metrics."));
      return;
    }
    grid.querySelector(".empty-state")?.remove();
    for (const key of keys) {
      let chart = charts.get(key);
      if (!chart) {
        chart = createMetricChart({ runs: runRefs, keys: [key], options, colorBy: "run", signal: ctx.signal,
          onRemove: () => { charts.delete(key); keys = keys.filter((k) => k !== key); store(); draw(); } });
        charts.set(key, chart);
      }
      grid.append(chart.el); // Re-appending keeps the chosen order.
    }
  }
  const store = () => ctx.setQuery({ metrics: keys.length ? keys : "-" });
  const choose = h("button", { type: "button", "data-testid": "choose-compare-metrics", disabled: !available.length,
    onclick: async () => {
      const next = await chooseMany("Metrics to chart", available.map((k) => [k, k]), keys);
      if (!next) return;
      keys = next;
      store();
      draw();
    } }, "Metrics…");
  const toolbar = chartOptionsToolbar(options, (next) => {
    options = next;
    ctx.setQuery(chartOptionsToQuery(options));
    for (const chart of charts.values()) chart.setOptions(options);
  });
  draw();
  return h("section", { class: "compare-section", "aria-labelledby": "compare-charts-h" },
    h("div", { class: "section-head" }, h("h2", { id: "compare-charts-h" }, "Metric charts"), choose),
    h("div", { class: "toolbar" }, toolbar), grid);
}

function diffSection(ctx, runs, columns) {
  let onlyDiff = ctx.query.get("diff") === "only";
  const rowsOf = (kind, keys) => keys.map((key) => {
    const column = `${kind}.${key}`;
    const values = runs.map((r) => valueOf(r, column));
    const shown = values.map((v) => (v === undefined ? "" : kind === "metrics" ? formatNumber(v) : String(v)));
    const differs = new Set(values.map((v) => (v === undefined ? "\u0000missing" : String(v)))).size > 1;
    return { column, key, values: shown, missing: values.map((v) => v === undefined), differs };
  });
  const groups = [["Parameters", rowsOf("params", columns.params)], ["Metrics (latest)", rowsOf("metrics", columns.metrics)]];
  const tbody = h("tbody");
  const count = h("span", { class: "muted" });
  const draw = () => {
    const out = [];
    let differing = 0;
    for (const [title, rows] of groups) {
      differing += rows.filter((r) => r.differs).length;
      const visible = onlyDiff ? rows.filter((r) => r.differs) : rows;
      out.push(h("tr", { class: "group-row" }, h("th", { scope: "colgroup", colspan: String(runs.length + 1) }, `${title} (${visible.length})`)));
      if (!visible.length) {
        out.push(h("tr", null, h("td", { class: "muted", colspan: String(runs.length + 1) }, onlyDiff ? "No differences." : "None.")));
      }
      for (const row of visible) {
        out.push(h("tr", { class: row.differs ? "differs" : null, "data-testid": "diff-row",
          dataset: { key: row.column, differs: String(row.differs) } },
        h("th", { scope: "row", class: "mono" }, row.key),
        row.values.map((v, i) => h("td", { class: [row.differs ? "diff" : "", row.missing[i] ? "missing" : "", "mono"].join(" ").trim() },
          row.missing[i] ? "—" : v))));
      }
    }
    count.textContent = `${differing} differ`;
    tbody.replaceChildren(...out);
  };
  const toggle = h("input", { type: "checkbox", checked: onlyDiff, "data-testid": "only-differences",
    onchange: () => { onlyDiff = toggle.checked; ctx.setQuery({ diff: onlyDiff ? "only" : null }); draw(); } });
  draw();
  return h("section", { class: "compare-section", "aria-labelledby": "compare-diff-h" },
    h("div", { class: "section-head" }, h("h2", { id: "compare-diff-h" }, "Parameters and metrics ", count),
      h("label", { class: "checkbox" }, toggle, "Only differences")),
    h("div", { class: "table-wrap diff-wrap" }, h("table", { class: "data diff-table", "data-testid": "diff-table" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Key"),
        runs.map((r, i) => h("th", { scope: "col" }, h("span", { class: "run-dot", "aria-hidden": "true", dataset: { colorIndex: String(i) } }),
          r.info.run_name || r.info.run_id)))),
      tbody)));
}

const allColumns = (columns) => [
  ...columns.params.map((k) => `params.${k}`),
  ...columns.metrics.map((k) => `metrics.${k}`),
];

function parcoordsSection(ctx, runs, runRefs, columns) {
  const every = allColumns(columns);
  let dims = ctx.query.has("pc") ? list(ctx.query.get("pc")).filter((c) => every.includes(c)) : every.slice(0, DEFAULT_DIMS);
  const card = plotCard("parcoords-chart", () => parcoordsSpec(runRefs,
    dims.map((c) => ({ label: columnLabel(c), values: runs.map((r) => valueOf(r, c)) }))),
  { emptyText: every.length ? "Choose at least one param or metric." : "These runs have no params or metrics.", signal: ctx.signal });
  const choose = h("button", { type: "button", "data-testid": "choose-parcoords", disabled: !every.length, onclick: async () => {
    const next = await chooseMany("Parallel coordinates axes", every.map((c) => [c, columnLabel(c)]), dims);
    if (!next) return;
    dims = next;
    ctx.setQuery({ pc: dims.length ? dims : "-" });
    card.draw();
  } }, "Axes…");
  card.draw();
  return h("section", { class: "compare-section card", "aria-labelledby": "compare-pc-h" },
    h("div", { class: "section-head" }, h("h2", { id: "compare-pc-h" }, "Parallel coordinates"), choose), card.el);
}

function logToggle(label, checked, testId, onChange) {
  const box = h("input", { type: "checkbox", checked, "data-testid": testId, onchange: () => onChange(box.checked) });
  return h("label", { class: "checkbox" }, box, label);
}

function scatterSection(ctx, runs, runRefs, columns) {
  const every = allColumns(columns);
  const pick = (name, fallback) => (every.includes(ctx.query.get(name)) ? ctx.query.get(name) : fallback);
  let sx = pick("sx", columns.params.length ? `params.${columns.params[0]}` : every[0]);
  let sy = pick("sy", columns.metrics.length ? `metrics.${columns.metrics[0]}` : every[1] || every[0]);
  let logX = ctx.query.get("slogx") === "1";
  let logY = ctx.query.get("slogy") === "1";
  const card = plotCard("scatter-chart", () => (sx && sy ? scatterSpec(runRefs,
    { label: columnLabel(sx), values: runs.map((r) => valueOf(r, sx)) },
    { label: columnLabel(sy), values: runs.map((r) => valueOf(r, sy)) }, { logX, logY }) : null),
  { emptyText: "These runs have no params or metrics.", signal: ctx.signal });
  const select = (label, value, testId, onChange) => {
    const el = h("select", { "aria-label": label, "data-testid": testId, onchange: () => onChange(el.value) },
      h("optgroup", { label: "Parameters" }, columns.params.map((k) => h("option", { value: `params.${k}`, selected: `params.${k}` === value }, k))),
      h("optgroup", { label: "Metrics" }, columns.metrics.map((k) => h("option", { value: `metrics.${k}`, selected: `metrics.${k}` === value }, k))));
    return h("label", { class: "inline-field" }, h("span", null, label), el);
  };
  const controls = every.length ? h("div", { class: "toolbar" },
    select("X axis", sx, "scatter-x", (v) => { sx = v; ctx.setQuery({ sx }); card.draw(); }),
    select("Y axis", sy, "scatter-y", (v) => { sy = v; ctx.setQuery({ sy }); card.draw(); }),
    logToggle("Log X", logX, "scatter-log-x", (on) => { logX = on; ctx.setQuery({ slogx: on ? "1" : null }); card.draw(); }),
    logToggle("Log Y", logY, "scatter-log-y", (on) => { logY = on; ctx.setQuery({ slogy: on ? "1" : null }); card.draw(); })) : null;
  card.draw();
  return h("section", { class: "compare-section card", "aria-labelledby": "compare-scatter-h" },
    h("h2", { id: "compare-scatter-h" }, "Scatter plot"), controls, card.el);
}
