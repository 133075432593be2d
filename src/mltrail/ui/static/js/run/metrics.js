// The run page's metrics tab: a grid of charts. `?metrics=a|b,c` means two charts, the first
// with metrics a and b, the second with c; without it every metric of the run gets a chart.
import { h, replace } from "../dom.js";
import { emptyState, openDialog } from "../components/ui.js";
import { chartOptionsFromQuery, chartOptionsToQuery, chartOptionsToolbar, createMetricChart } from "../charts/metric_chart.js";

const DEFAULT_LIMIT = 30;

/** Parse "a|b,c" into [["a","b"],["c"]]. */
export function parseChartSpec(text) {
  if (!text) return null;
  return text.split(",").map((group) => group.split("|").filter(Boolean)).filter((g) => g.length);
}

const serialize = (groups) => groups.map((g) => g.join("|")).join(",");

async function pickMetric(available) {
  let chosen = null;
  const select = h("select", { "aria-label": "Metric" }, available.map((k) => h("option", { value: k }, k)));
  const result = await openDialog({
    title: "Add a chart",
    body: h("label", { class: "field" }, h("span", null, "Metric"), select),
    actions: [{ label: "Cancel", value: null }, { label: "Add", value: "ok", primary: true }],
    onSubmit: () => { chosen = select.value; return true; },
  });
  return result === "ok" ? chosen : null;
}

/** Fill `panel` with the charts; returns a dispose function. */
export function renderMetricsTab(panel, { ctx, model, runId }) {
  const keysOf = (run) => [...new Set((run.data?.metrics || []).map((m) => m.key))].sort();
  let available = keysOf(model.run);
  const explicit = parseChartSpec(ctx.query.get("metrics"));
  let groups = explicit || available.slice(0, DEFAULT_LIMIT).map((k) => [k]);
  let followNewKeys = !explicit; // Without a chosen set, metrics that appear later get charts too.
  let options = chartOptionsFromQuery(ctx.query);
  const charts = new Map(); // group array -> chart
  const grid = h("div", { class: "chart-grid", "data-testid": "run-charts" });
  const runInfo = () => [{ id: runId, name: model.run.info.run_name || runId, startTime: model.run.info.start_time }];
  const controller = new AbortController();
  const onPageAbort = () => controller.abort();
  ctx.signal.addEventListener("abort", onPageAbort, { once: true });

  const store = () => ctx.setQuery({ metrics: followNewKeys ? null : serialize(groups) });

  function addChart(group) {
    const chart = createMetricChart({
      runs: runInfo(),
      keys: group,
      availableKeys: () => available,
      options,
      colorBy: "metric",
      signal: controller.signal,
      onKeysChange: (next) => {
        group.splice(0, group.length, ...next);
        followNewKeys = false;
        store();
      },
      onRemove: () => {
        charts.delete(group);
        groups = groups.filter((g) => g !== group);
        chart.el.remove();
        followNewKeys = false;
        store();
        if (!groups.length) drawEmpty();
      },
    });
    charts.set(group, chart);
    grid.append(chart.el);
  }

  function drawEmpty() {
    grid.replaceChildren(emptyState(available.length ? "No charts chosen." : "This run has no metrics yet."));
  }

  const toolbar = chartOptionsToolbar(options, (next) => {
    options = next;
    ctx.setQuery(chartOptionsToQuery(options));
    for (const chart of charts.values()) chart.setOptions(options);
  });
  const addButton = h("button", { type: "button", "data-testid": "add-chart", onclick: async () => {
    if (!available.length) return;
    const key = await pickMetric(available);
    if (!key) return;
    if (!charts.size) grid.replaceChildren();
    const group = [key];
    groups.push(group);
    followNewKeys = false;
    addChart(group);
    store();
  } }, "Add chart");

  if (groups.length) for (const g of groups) addChart(g);
  else drawEmpty();

  replace(panel, h("div", { class: "run-metrics" }, h("div", { class: "toolbar" }, toolbar, addButton), grid));

  // While the run is live, new points and new metrics appear without a reload. The latest
  // values tell whether anything was logged since the last look; if not, nothing is refetched.
  const latestOf = (run) => JSON.stringify((run.data?.metrics || []).map((m) => [m.key, m.step, m.timestamp, String(m.value)]).sort());
  let seen = latestOf(model.run);
  const unsubscribe = model.subscribe((run) => {
    const latest = latestOf(run);
    if (latest === seen) return;
    seen = latest;
    const keys = keysOf(run);
    const added = keys.filter((k) => !available.includes(k));
    available = keys;
    if (followNewKeys && added.length) {
      if (!charts.size) grid.replaceChildren();
      for (const k of added) {
        if (groups.length >= DEFAULT_LIMIT) break;
        const group = [k];
        groups.push(group);
        addChart(group);
      }
    }
    for (const chart of charts.values()) chart.refresh();
  });

  return () => {
    unsubscribe();
    controller.abort();
    ctx.signal.removeEventListener("abort", onPageAbort);
  };
}
