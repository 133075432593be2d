// A metric line chart: one or more metrics of one or more runs, drawn with uPlot from the
// server's downsampled series. Dragging across the plot zooms in and asks the server for that range
// at full detail; a double-click goes back to the overview. Shared by the run page and the compare
// page. What tests (and anything else outside) need to know is on the chart element as data-*
// attributes, never read from uPlot's internals.
import { h, debounce, formatNumber } from "../dom.js";
import { openDialog } from "../components/ui.js";
import { fetchSeries } from "./series.js";
import { ema } from "./smoothing.js";
import { loadUPlot } from "./uplot.js";
import { chartColors, onThemeChange, seriesColor } from "./theme.js";

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

const HEIGHT = 300;
const MARKERS_BELOW = 30; // a line with fewer points also shows its points
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const X_TITLES = { step: "Step", wall: "Wall time", relative: "Relative time (s)" };

/** A hovered value, written as plotly's "%{y:.6g}" wrote it (6 significant digits). */
function formatValue(v) {
  return typeof v === "number" && Number.isFinite(v) ? v.toPrecision(6) : "—";
}

const TICK_SUFFIXES = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];

/**
 * An axis tick: plain numbers up to 9999, then k / M / G / T (steps run into the millions:
 * "250k" reads faster than "250000"), exponents for the very large and the very small.
 */
function formatTick(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  const n = Number(v.toPrecision(12));
  const abs = Math.abs(n);
  if (abs >= 1e4 && abs < 1e15) {
    const [scale, suffix] = TICK_SUFFIXES.find(([s]) => abs >= s);
    return `${Number((n / scale).toPrecision(6))}${suffix}`;
  }
  if (abs !== 0 && (abs >= 1e15 || abs < 1e-3)) return n.toExponential().replace("e+", "e");
  return String(n);
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/** A millisecond timestamp as local "YYYY-MM-DD HH:MM:SS.mmm". */
function formatTime(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
    + `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function formatX(xAxis, v) {
  if (v === null || v === undefined) return "";
  if (xAxis === "wall") return formatTime(v);
  if (xAxis === "relative") return `${Number(v.toPrecision(6))} s`;
  return String(Number(v.toPrecision(12)));
}

/** `x`, `y` ordered by x (the server sends them ordered; anything else is sorted here). */
function ordered(x, y) {
  let sorted = true;
  for (let i = 1; i < x.length && sorted; i++) sorted = x[i - 1] <= x[i];
  if (sorted) return [x, y];
  const idx = x.map((_, i) => i).sort((a, b) => x[a] - x[b] || a - b);
  return [idx.map((i) => x[i]), idx.map((i) => y[i])];
}

/**
 * uPlot's columns for lines that each have their own x values: one ascending x column shared by
 * all, then one y column per line holding `undefined` where that line has no point (uPlot draws
 * straight across those) and `null` where its value is a gap (NaN, ±inf, ≤ 0 on a log axis).
 * A line with several points at the same x gets as many rows there.
 */
function align(lines) {
  if (!lines.length) return [[]];
  const first = lines[0].x;
  if (lines.every((l) => l.x === first || (l.x.length === first.length && l.x.every((v, i) => v === first[i])))) {
    return [first, ...lines.map((l) => l.y)];
  }
  const n = lines.length;
  const pos = new Array(n).fill(0);
  const xs = [];
  const ys = lines.map(() => []);
  for (;;) {
    let min = Infinity;
    for (let i = 0; i < n; i++) {
      const { x } = lines[i];
      if (pos[i] < x.length && x[pos[i]] < min) min = x[pos[i]];
    }
    if (min === Infinity) break;
    for (;;) {
      let any = false;
      for (let i = 0; i < n && !any; i++) any = lines[i].x[pos[i]] === min;
      if (!any) break;
      xs.push(min);
      for (let i = 0; i < n; i++) {
        const { x, y } = lines[i];
        if (x[pos[i]] === min) ys[i].push(y[pos[i]++]);
        else ys[i].push(undefined);
      }
    }
  }
  return [xs, ...ys];
}

/** The width an axis needs for its longest tick label (uPlot calls this while laying out). */
function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap + 8;
  const longest = (values || []).reduce((acc, v) => (v && v.length > acc.length ? v : acc), "");
  if (longest) {
    u.ctx.font = axis.font[0];
    size += u.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
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
 *
 * The chart element carries data-state (loading/drawn/error), data-points (points drawn),
 * data-metric, and once drawn data-x-type (linear/date), data-y-type (linear/log), data-lines
 * (lines drawn, the faint raw lines of smoothing included), data-raw-lines, data-x-range ("lo,hi"
 * of the x axis shown, in its units: step, ms timestamp or seconds) and data-axis-color.
 */
export function createMetricChart({ runs, keys, availableKeys = null, options, colorBy = "metric",
  onKeysChange = null, onRemove = null, signal, title = null }) {
  // range: the zoomed x range in the units of the series route; view: the same in axis units.
  const state = { keys: [...keys], options: { ...options }, range: null, view: null, series: [] };
  let generation = 0;
  let inflight = null;
  let loading = false;
  let started = false;
  let destroyed = false;
  let chart = null; // the uPlot instance
  let chartKey = ""; // what the instance was built for: rebuilt when it changes
  let drawnLines = []; // the lines of the instance, in series order (uPlot's series i + 1)

  const plot = h("div", { class: "metric-plot" });
  const tooltip = h("div", { class: "chart-tooltip", hidden: true, "aria-hidden": "true", "data-testid": "chart-tooltip" });
  const legend = h("div", { class: "chart-legend", hidden: true, "data-testid": "chart-legend" });
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
    h("div", { class: "chart-header" }, heading, buttons), plot, legend, note);
  plot.append(tooltip);

  function label() {
    heading.textContent = title || state.keys.join(", ");
    el.dataset.metric = state.keys.join("|");
    el.setAttribute("aria-label", `Chart of ${state.keys.join(", ")}`);
  }
  label();

  const apiAxis = () => (state.options.xAxis === "step" ? "step" : "timestamp");
  const maxPoints = () => Math.max(200, Math.min(2000, Math.round(plot.clientWidth || 1000)));
  const plotWidth = () => Math.max(200, Math.floor(plot.clientWidth || 600));
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
      // The chart library loads while the server works on the series (a no-op once loaded).
      loadUPlot().catch(() => {});
      const series = await pending;
      if (gen !== generation || destroyed) return;
      state.series = series;
      await draw(gen);
    } catch (err) {
      if (err.name === "AbortError" || gen !== generation || destroyed) return;
      failed(err);
    } finally {
      if (gen === generation) loading = false;
      signal?.removeEventListener("abort", onAbort);
    }
  }

  function failed(err) {
    el.dataset.state = "error";
    note.textContent = `Could not load the metric: ${err.message}`;
    note.classList.add("chart-error");
  }

  /** Redraw what is loaded (options or theme changed). */
  function redraw() {
    const gen = generation;
    draw(gen).catch((err) => { if (gen === generation && !destroyed) failed(err); });
  }

  /** One entry per line drawn: {name, color, raw, markers, x, y}, in drawing order. */
  function lines() {
    const out = [];
    const multiRun = runs.length > 1;
    const multiKey = state.keys.length > 1;
    const { xAxis, smoothing, logY } = state.options;
    const visible = logY ? (v) => (v !== null && v > 0 ? v : null) : (v) => v;
    for (const s of state.series) {
      const runIndex = runs.findIndex((r) => r.id === s.runId);
      const keyIndex = state.keys.indexOf(s.key);
      const run = runs[runIndex];
      const color = colorBy === "run" ? (run?.color || seriesColor(runIndex)) : seriesColor(keyIndex);
      let x;
      if (xAxis === "step") x = s.steps;
      else if (xAxis === "wall") x = s.timestamps;
      else {
        const start = startOf(s.runId, s.timestamps[0] || 0);
        x = s.timestamps.map((t) => (t - start) / 1000);
      }
      let y = s.values.map(finiteOrNull);
      [x, y] = ordered(x, y);
      const name = [multiRun ? run?.name || s.runId : null, multiKey || !multiRun ? s.key : null].filter(Boolean).join(" · ");
      const markers = y.length < MARKERS_BELOW;
      if (smoothing > 0) {
        out.push({ name: `${name} (raw)`, color, raw: true, markers, x, y: y.map(visible) });
        out.push({ name, color, raw: false, markers, x, y: ema(y, smoothing).map(visible) });
      } else {
        out.push({ name, color, raw: false, markers, x, y: y.map(visible) });
      }
    }
    return out;
  }

  function chartOptions(uPlot, drawn, colors) {
    const { xAxis, logY } = state.options;
    const axis = {
      stroke: colors.muted,
      font: FONT,
      labelFont: FONT,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { stroke: colors.grid, width: 1, size: 5 },
    };
    // Time ticks take two lines (time, then the date where it changes).
    const xAxisOpts = { ...axis, label: X_TITLES[xAxis], labelSize: 16, labelGap: 0, size: xAxis === "wall" ? 44 : 28 };
    if (xAxis !== "wall") xAxisOpts.values = (u, splits) => splits.map(formatTick);
    return {
      width: plotWidth(),
      height: HEIGHT,
      ms: 1, // wall time is in millisecond timestamps
      padding: [12, 18, 0, 0],
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // A double-click goes back to the overview (uPlot's own would only rescale what is loaded).
        bind: { dblclick: () => (e) => { if (e.button === 0) resetZoom(); return null; } },
        points: {
          size: 7,
          // No hover marker on the faint raw lines of smoothing.
          show: (u, si) => {
            if (drawn[si - 1]?.raw) return null;
            const pt = document.createElement("div");
            Object.assign(pt.style, { width: "7px", height: "7px", marginLeft: "-3.5px", marginTop: "-3.5px" });
            return pt;
          },
        },
      },
      scales: {
        x: {
          time: xAxis === "wall",
          range: (u, min, max) => {
            if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
            return [min, max];
          },
        },
        y: {
          distr: logY ? 3 : 1,
          log: 10,
          range: (u, min, max) => {
            if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return logY ? [1, 10] : [0, 1];
            return logY ? uPlot.rangeLog(min, max, 10, true) : uPlot.rangeNum(min, max, 0.1, true);
          },
        },
      },
      axes: [xAxisOpts, { ...axis, size: axisSize, values: (u, splits) => splits.map(formatTick) }],
      series: [
        {},
        ...drawn.map((line) => ({
          label: line.name,
          stroke: line.color,
          width: 1.8,
          alpha: line.raw ? 0.25 : 1,
          spanGaps: false, // NaN and ±inf (null) break a line; other runs' x values (undefined) do not
          points: { show: line.markers, size: 5, width: 1, fill: line.color, stroke: line.color },
        })),
      ],
      hooks: {
        setSelect: [onSelect],
        setScale: [(u, key) => { if (key === "x") showXRange(u); }],
        setCursor: [showTooltip],
      },
    };
  }

  async function draw(gen = generation) {
    const uPlot = await loadUPlot();
    if (gen !== generation || destroyed) return;
    const drawn = lines();
    const data = align(drawn);
    const colors = chartColors();
    const key = JSON.stringify([state.options.xAxis, state.options.logY, colors,
      drawn.map((l) => [l.name, l.color, l.raw, l.markers])]);
    if (!chart || key !== chartKey) {
      if (chart) chart.destroy();
      tooltip.hidden = true;
      drawnLines = drawn;
      chart = new uPlot(chartOptions(uPlot, drawn, colors), data, plot);
      chart.over.dataset.testid = "chart-plot-area"; // where a user drags to zoom
      chartKey = key;
    } else {
      drawnLines = drawn;
      chart.setData(data);
    }
    const xs = data[0];
    if (state.view) chart.setScale("x", { min: state.view[0], max: state.view[1] });
    else if (xs.length && xs[0] === xs[xs.length - 1]) {
      // A single x value: centre it (uPlot would put it at the left edge of a day-long time axis).
      const half = state.options.xAxis === "wall" ? 1000 : 1;
      chart.setScale("x", { min: xs[0] - half, max: xs[0] + half });
    }
    showLegend(drawn);
    el.dataset.xType = state.options.xAxis === "wall" ? "date" : "linear";
    el.dataset.yType = state.options.logY ? "log" : "linear";
    el.dataset.lines = String(drawn.length);
    el.dataset.rawLines = String(drawn.filter((l) => l.raw).length);
    el.dataset.axisColor = colors.muted;
    showXRange(chart);
    describe();
    el.dataset.state = "drawn";
  }

  function showXRange(u) {
    const { min, max } = u.scales.x;
    if (Number.isFinite(min) && Number.isFinite(max)) el.dataset.xRange = `${min},${max}`;
  }

  /** Names and colours of the lines, when there is more than one; a click hides or shows one. */
  function showLegend(drawn) {
    const named = drawn.map((line, i) => ({ line, i })).filter(({ line }) => !line.raw);
    legend.hidden = named.length < 2;
    if (legend.hidden) { legend.replaceChildren(); return; }
    legend.replaceChildren(...named.map(({ line, i }) => {
      const shown = chart.series[i + 1].show !== false;
      const item = h("button", { type: "button", class: "chart-legend-item", "data-testid": "chart-legend-item",
        "aria-pressed": String(shown), title: "Show or hide this line", dataset: { points: String(line.x.length) },
        onclick: () => {
          const show = item.getAttribute("aria-pressed") !== "true";
          item.setAttribute("aria-pressed", String(show));
          chart.setSeries(i + 1, { show });
          // The faint raw line of a smoothed line goes with it.
          if (i > 0 && drawnLines[i - 1]?.raw) chart.setSeries(i, { show });
        } },
      h("span", { class: "chart-swatch", style: { background: line.color } }),
      h("span", { class: "chart-legend-name" }, line.name));
      return item;
    }));
  }

  /** The values of every line at the hovered x, like plotly's unified hover. */
  function showTooltip(u) {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left < 0) { tooltip.hidden = true; return; }
    const rows = [];
    drawnLines.forEach((line, i) => {
      if (line.raw || u.series[i + 1].show === false) return;
      const j = u.cursor.idxs[i + 1];
      const v = j === null || j === undefined ? undefined : u.data[i + 1][j];
      if (v === undefined) return;
      rows.push(h("div", { class: "chart-tooltip-row" },
        h("span", { class: "chart-swatch", style: { background: line.color } }),
        h("span", { class: "chart-tooltip-name" }, line.name),
        h("span", { class: "chart-tooltip-value mono" }, formatValue(v))));
    });
    if (!rows.length) { tooltip.hidden = true; return; }
    tooltip.replaceChildren(h("div", { class: "chart-tooltip-x mono" }, formatX(state.options.xAxis, u.data[0][idx])), ...rows);
    tooltip.hidden = false;
    const over = u.over.getBoundingClientRect();
    const box = plot.getBoundingClientRect();
    const x = over.left - box.left + u.cursor.left;
    const y = over.top - box.top + Math.max(0, u.cursor.top);
    const w = tooltip.offsetWidth;
    const left = x + 14 + w > box.width ? x - 14 - w : x + 14;
    tooltip.style.left = `${Math.max(0, left)}px`;
    tooltip.style.top = `${Math.min(Math.max(0, y - 10), Math.max(0, box.height - tooltip.offsetHeight))}px`;
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

  // Translate an x range of the axis back into the units of the series route.
  function toApiRange(r0, r1) {
    const { xAxis } = state.options;
    if (xAxis === "step" || xAxis === "wall") return [Number(r0), Number(r1)];
    const starts = runs.map((r) => startOf(r.id, NaN)).filter(Number.isFinite);
    const lo = starts.length ? Math.min(...starts) : 0;
    const hi = starts.length ? Math.max(...starts) : 0;
    return [lo + Number(r0) * 1000, hi + Number(r1) * 1000];
  }

  const refetchRange = debounce(() => load(), 150);

  /** A drag across the plot: show that x range now, then fetch it at full detail. */
  function onSelect(u) {
    const { left, width } = u.select;
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (width < 3) return;
    const a = u.posToVal(left, "x");
    const b = u.posToVal(left + width, "x");
    const [lo, hi] = toApiRange(a, b);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
    state.view = [Math.min(a, b), Math.max(a, b)];
    state.range = [Math.min(lo, hi), Math.max(lo, hi)];
    u.setScale("x", { min: state.view[0], max: state.view[1] });
    refetchRange();
  }

  function resetZoom() {
    if (!state.range && !state.view) return;
    state.range = null;
    state.view = null;
    if (chart) chart.setData(chart.data); // rescale to what is loaded until the overview is back
    refetchRange();
  }

  const stopTheme = onThemeChange(() => { if (chart) redraw(); });
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && !started) {
      started = true;
      observer.disconnect();
      load();
    }
  }, { rootMargin: "300px" });
  observer.observe(el);
  let lastWidth = 0;
  const resizer = new ResizeObserver(() => {
    const width = plotWidth();
    if (!chart || width === lastWidth) return;
    lastWidth = width;
    chart.setSize({ width, height: HEIGHT });
  });
  resizer.observe(plot);

  function setOptions(next) {
    const axisChanged = next.xAxis !== state.options.xAxis;
    state.options = { ...next };
    if (!started) return;
    if (axisChanged) {
      state.range = null;
      state.view = null;
      load();
    } else if (!loading) {
      // The pending load draws with the new options anyway; otherwise redraw what is loaded.
      el.dataset.state = "loading";
      redraw();
    }
  }

  function setKeys(next) {
    state.keys = [...next];
    state.range = null;
    state.view = null;
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
    resizer.disconnect();
    stopTheme();
    if (chart) chart.destroy();
    chart = null;
  }
  signal?.addEventListener("abort", destroy, { once: true });

  return { el, setOptions, setKeys, refresh, destroy, get keys() { return [...state.keys]; } };
}
