// A metric line chart: one or more metrics of one or more runs, drawn with plotly from the
// server's downsampled series. Zooming in asks the server for the visible range at full detail;
// resetting the zoom goes back to the overview. Shared by the run page and the compare page.
import { h, debounce, formatNumber } from "../dom.js";
import { openDialog } from "../components/ui.js";
import { fetchSeries } from "./series.js";
import { ema } from "./smoothing.js";
import { loadPlotly, purge } from "./plotly.js";
import { onThemeChange, seriesColor, themeLayout } from "./theme.js";

export const X_AXES = [
  ["step", "Step"],
  ["wall", "Wall time"],
  ["relative", "Relative time"],
];

/** Chart options from a view query: x (step|wall|relative), log (1), smooth (0..0.99). */
export function chartOptionsFromQuery(query) {
  const x = query.get("x");
  const smooth = Number(query.get("smooth"));
  return {
    xAxis: X_AXES.some(([id]) => id === x) ? x : "step",
    logY: query.get("log") === "1",
    smoothing: Number.isFinite(smooth) && smooth > 0 && smooth < 1 ? smooth : 0,
  };
}

/** The query entries that store `options` (defaults removed). */
export function chartOptionsToQuery(options) {
  return {
    x: options.xAxis === "step" ? null : options.xAxis,
    log: options.logY ? "1" : null,
    smooth: options.smoothing > 0 ? String(options.smoothing) : null,
  };
}

/**
 * The controls shared by every chart of a page: x axis, log scale, smoothing.
 * `onChange(options)` receives the new options on every change.
 */
export function chartOptionsToolbar(options, onChange) {
  const current = { ...options };
  const xSelect = h("select", { "aria-label": "X axis", "data-testid": "chart-x-axis",
    onchange: () => { current.xAxis = xSelect.value; onChange({ ...current }); } },
  X_AXES.map(([id, label]) => h("option", { value: id, selected: id === current.xAxis }, label)));
  const logBox = h("input", { type: "checkbox", checked: current.logY, "data-testid": "chart-log-y",
    onchange: () => { current.logY = logBox.checked; onChange({ ...current }); } });
  const smoothValue = h("output", { class: "smoothing-value mono" }, current.smoothing.toFixed(2));
  const emit = debounce(() => onChange({ ...current }), 120);
  const slider = h("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: String(current.smoothing),
    "aria-label": "Smoothing", "data-testid": "chart-smoothing",
    oninput: () => {
      current.smoothing = Number(slider.value);
      smoothValue.textContent = current.smoothing.toFixed(2);
      emit();
    } });
  return h("div", { class: "chart-toolbar chart-options", role: "group", "aria-label": "Chart options" },
    h("label", { class: "inline-field" }, h("span", null, "X axis"), xSelect),
    h("label", { class: "checkbox" }, logBox, "Log scale Y"),
    h("label", { class: "inline-field" }, h("span", null, "Smoothing"), slider, smoothValue));
}

/** Plotly gives date-axis ranges as local wall-clock strings ("2026-01-02 10:11:12.345"). */
function parsePlotlyDate(value) {
  if (typeof value === "number") return value;
  if (value instanceof Date) return value.getTime();
  const m = String(value).match(/^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?/);
  if (!m) return NaN;
  return new Date(`${m[1]}T${m[2] || "00:00"}`).getTime();
}

const finiteOrNull = (v) => (Number.isFinite(v) ? v : null);

/** Let the user pick which metrics a chart shows; resolves to the chosen keys or null. */
async function chooseMetrics(available, chosen) {
  const selected = new Set(chosen);
  const filter = h("input", { type: "search", placeholder: "Filter metrics", "aria-label": "Filter metrics" });
  const list = h("div", { class: "metric-choices", role: "group", "aria-label": "Metrics" });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    list.replaceChildren(...available.filter((k) => !q || k.toLowerCase().includes(q)).map((key) => {
      const box = h("input", { type: "checkbox", checked: selected.has(key), value: key,
        onchange: () => (box.checked ? selected.add(key) : selected.delete(key)) });
      return h("label", { class: "checkbox metric-choice" }, box, h("span", { class: "mono" }, key));
    }));
  };
  filter.addEventListener("input", draw);
  draw();
  const result = await openDialog({
    title: "Metrics in this chart",
    body: h("div", { class: "form" }, filter, list),
    actions: [{ label: "Cancel", value: null }, { label: "Apply", value: "ok", primary: true }],
  });
  if (result !== "ok" || selected.size === 0) return null;
  return available.filter((k) => selected.has(k));
}

/**
 * Create a chart. Arguments:
 *   runs: [{id, name, startTime}] (one line per run and metric),
 *   keys: the metric keys shown, availableKeys: what the metric chooser offers (a list or a
 *   function returning one; optional),
 *   options: {xAxis, logY, smoothing}, colorBy: "run" | "metric",
 *   onKeysChange(keys), onRemove() (optional buttons), signal (the page's AbortSignal),
 *   title (the heading; default: the metric keys).
 * Returns {el, setOptions, setKeys, refresh, destroy}. Drawing starts once the chart is visible.
 */
export function createMetricChart({ runs, keys, availableKeys = null, options, colorBy = "metric",
  onKeysChange = null, onRemove = null, signal, title = null }) {
  const state = { keys: [...keys], options: { ...options }, range: null, series: [] };
  let generation = 0;
  let inflight = null;
  let loading = false;
  let started = false;
  let destroyed = false;
  let plotted = false;
  let Plotly = null;

  const plot = h("div", { class: "metric-plot" });
  const note = h("div", { class: "chart-note muted", "aria-live": "polite" });
  const heading = h("h3", { class: "chart-title mono" });
  const buttons = h("div", { class: "chart-actions" },
    availableKeys && onKeysChange ? h("button", { type: "button", class: "small", "data-testid": "chart-choose-metrics",
      onclick: async () => {
        const offered = typeof availableKeys === "function" ? availableKeys() : availableKeys;
        const next = await chooseMetrics(offered, state.keys);
        if (next) { setKeys(next); onKeysChange(next); }
      } }, "Metrics…") : null,
    onRemove ? h("button", { type: "button", class: "small", "aria-label": "Remove chart", title: "Remove chart",
      onclick: () => { destroy(); onRemove(); } }, "✕") : null);
  const el = h("section", { class: "chart-card metric-chart", "data-testid": "metric-chart", dataset: { state: "loading" } },
    h("div", { class: "chart-header" }, heading, buttons), plot, note);

  function label() {
    heading.textContent = title || state.keys.join(", ");
    el.dataset.metric = state.keys.join("|");
    el.setAttribute("aria-label", `Chart of ${state.keys.join(", ")}`);
  }
  label();

  const apiAxis = () => (state.options.xAxis === "step" ? "step" : "timestamp");
  const maxPoints = () => Math.max(200, Math.min(2000, Math.round(plot.clientWidth || 1000)));
  const startOf = (runId, fallback) => {
    const run = runs.find((r) => r.id === runId);
    return run && run.startTime ? Number(run.startTime) : fallback;
  };

  async function load() {
    const gen = ++generation;
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const onAbort = () => inflight && inflight.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    el.dataset.state = "loading";
    loading = true;
    try {
      const [lo, hi] = state.range || [undefined, undefined];
      const pending = fetchSeries({ runIds: runs.map((r) => r.id), keys: state.keys, maxPoints: maxPoints(),
        xAxis: apiAxis(), xMin: lo, xMax: hi, signal: inflight.signal });
      // plotly.js takes the main thread for about a second while it is evaluated: start it only
      // once the series request is on its way, so the server works on the series meanwhile.
      loadPlotly().catch(() => {});
      const series = await pending;
      if (gen !== generation || destroyed) return;
      state.series = series;
      await draw(gen);
    } catch (err) {
      if (err.name === "AbortError" || gen !== generation || destroyed) return;
      el.dataset.state = "error";
      note.textContent = `Could not load the metric: ${err.message}`;
      note.classList.add("chart-error");
    } finally {
      if (gen === generation) loading = false;
      signal?.removeEventListener("abort", onAbort);
    }
  }

  function traces() {
    const out = [];
    const multiRun = runs.length > 1;
    const multiKey = state.keys.length > 1;
    const { xAxis, smoothing } = state.options;
    for (const s of state.series) {
      const runIndex = runs.findIndex((r) => r.id === s.runId);
      const keyIndex = state.keys.indexOf(s.key);
      const run = runs[runIndex];
      const color = colorBy === "run" ? (run?.color || seriesColor(runIndex)) : seriesColor(keyIndex);
      let x;
      if (xAxis === "step") x = s.steps;
      else if (xAxis === "wall") x = s.timestamps.map((t) => new Date(t));
      else {
        const start = startOf(s.runId, s.timestamps[0] || 0);
        x = s.timestamps.map((t) => (t - start) / 1000);
      }
      const y = s.values.map(finiteOrNull);
      const name = [multiRun ? run?.name || s.runId : null, multiKey || !multiRun ? s.key : null].filter(Boolean).join(" · ");
      const mode = y.length < 30 ? "lines+markers" : "lines";
      const base = { type: "scatter", x, mode, line: { color, width: 1.8 }, marker: { color, size: 5 } };
      if (smoothing > 0) {
        out.push({ ...base, y, name: `${name} (raw)`, opacity: 0.25, showlegend: false, hoverinfo: "skip",
          meta: { raw: true } });
        out.push({ ...base, y: ema(y, smoothing), name, hovertemplate: "%{y:.6g}" });
      } else {
        out.push({ ...base, y, name, hovertemplate: "%{y:.6g}" });
      }
    }
    return out;
  }

  function layout() {
    const theme = themeLayout();
    const { xAxis, logY } = state.options;
    const xTitle = { step: "Step", wall: "Wall time", relative: "Relative time (s)" }[xAxis];
    return {
      ...theme,
      height: 300,
      margin: { l: 60, r: 16, t: 10, b: 44 },
      hovermode: "x unified",
      showlegend: runs.length > 1 || state.keys.length > 1,
      legend: { ...theme.legend, orientation: "h", y: -0.25 },
      // Same revision while the axis kind and metrics stay the same: plotly keeps the user's zoom.
      uirevision: `${xAxis}|${state.keys.join("|")}|${logY}`,
      xaxis: { ...theme.xaxis, title: { text: xTitle, font: { size: 11 } }, type: xAxis === "wall" ? "date" : "linear" },
      yaxis: { ...theme.yaxis, type: logY ? "log" : "linear", exponentformat: "e" },
    };
  }

  async function draw(gen = generation) {
    Plotly = Plotly || await loadPlotly();
    if (gen !== generation || destroyed) return;
    const data = traces();
    await Plotly.react(plot, data, layout(), {
      responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"],
    });
    if (gen !== generation || destroyed) return;
    if (!plotted) {
      plotted = true;
      plot.on("plotly_relayout", onRelayout);
    }
    describe();
    el.dataset.state = "drawn";
  }

  function describe() {
    const shown = state.series.reduce((n, s) => n + s.values.length, 0);
    const total = state.series.reduce((n, s) => n + (s.totalPoints || 0), 0);
    el.dataset.points = String(shown);
    note.classList.remove("chart-error");
    if (!state.series.length || shown === 0) {
      note.textContent = state.range ? "No points in this range." : "No data for this metric.";
      return;
    }
    const latest = state.series.length === 1 && !state.range ? state.series[0].values.at(-1) : null;
    const parts = [];
    if (state.series.some((s) => s.downsampled)) {
      parts.push(`${shown.toLocaleString()} of ${total.toLocaleString()} points shown (downsampled; zoom in for detail)`);
    } else {
      parts.push(`${shown.toLocaleString()} point${shown === 1 ? "" : "s"}`);
    }
    if (latest !== null && latest !== undefined) parts.push(`latest ${formatNumber(latest)}`);
    note.textContent = parts.join(" · ");
  }

  // Translate a plotly x range back into the units of the series route.
  function toApiRange(r0, r1) {
    const { xAxis } = state.options;
    if (xAxis === "step") return [Number(r0), Number(r1)];
    if (xAxis === "wall") return [parsePlotlyDate(r0), parsePlotlyDate(r1)];
    const starts = runs.map((r) => startOf(r.id, NaN)).filter(Number.isFinite);
    const lo = starts.length ? Math.min(...starts) : 0;
    const hi = starts.length ? Math.max(...starts) : 0;
    return [lo + Number(r0) * 1000, hi + Number(r1) * 1000];
  }

  const refetchRange = debounce(() => load(), 150);

  function onRelayout(ev) {
    if (!ev) return;
    if (ev["xaxis.autorange"] === true) {
      if (state.range) { state.range = null; refetchRange(); }
      return;
    }
    let r0 = ev["xaxis.range[0]"];
    let r1 = ev["xaxis.range[1]"];
    if (r0 === undefined && Array.isArray(ev["xaxis.range"])) [r0, r1] = ev["xaxis.range"];
    if (r0 === undefined || r1 === undefined) return;
    const [lo, hi] = toApiRange(r0, r1);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
    state.range = [Math.min(lo, hi), Math.max(lo, hi)];
    refetchRange();
  }

  const stopTheme = onThemeChange(() => { if (plotted) draw(); });
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !started) {
      started = true;
      observer.disconnect();
      load();
    }
  }, { rootMargin: "300px" });
  observer.observe(el);

  function setOptions(next) {
    const axisChanged = next.xAxis !== state.options.xAxis;
    state.options = { ...next };
    if (!started) return;
    if (axisChanged) {
      state.range = null;
      load();
    } else if (!loading) {
      // The pending load draws with the new options anyway; otherwise redraw what is loaded.
      el.dataset.state = "loading";
      draw();
    }
  }

  function setKeys(next) {
    state.keys = [...next];
    state.range = null;
    label();
    if (started) load();
  }

  /** Fetch again (same range) and redraw, e.g. while a run is still logging. */
  function refresh() {
    if (started && !destroyed) return load();
    return Promise.resolve();
  }

  function destroy() {
    destroyed = true;
    generation++;
    if (inflight) inflight.abort();
    observer.disconnect();
    stopTheme();
    purge(plot);
  }
  signal?.addEventListener("abort", destroy, { once: true });

  return { el, setOptions, setKeys, refresh, destroy, get keys() { return [...state.keys]; } };
}
