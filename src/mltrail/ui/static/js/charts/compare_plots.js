// The compare page's run-level plots: parallel coordinates and a scatter plot of params/metrics.
// Values come as strings (params) or numbers (metrics); a column whose values all read as numbers
// is numeric, anything else is categorical and gets evenly spaced ticks.
import { h } from "../dom.js";
import { loadPlotly, purge } from "./plotly.js";
import { onThemeChange, seriesColor, themeLayout } from "./theme.js";

/** The numbers of `values` (strings/numbers/undefined), or null when one present value is not numeric. */
export function numericColumn(values) {
  const out = [];
  for (const v of values) {
    if (v === undefined || v === null || v === "") { out.push(null); continue; }
    const n = typeof v === "number" ? v : Number(v);
    if (!Number.isFinite(n) && !["NaN", "Infinity", "-Infinity"].includes(String(v))) return null;
    out.push(Number.isFinite(n) ? n : null);
  }
  return out;
}

/** Ticks for a categorical column: {codes, tickvals, ticktext}. */
export function categories(values) {
  const labels = [...new Set(values.map((v) => (v === undefined || v === null ? "—" : String(v))))].sort();
  const index = new Map(labels.map((l, i) => [l, i]));
  return {
    codes: values.map((v) => index.get(v === undefined || v === null ? "—" : String(v))),
    tickvals: labels.map((_, i) => i),
    ticktext: labels,
  };
}

/**
 * A plot card that (re)draws with plotly: `build()` returns {data, layout} or null (nothing to
 * draw, `emptyText` shown). The card carries data-testid and data-state ("loading"/"drawn"/"empty").
 * `draw()` before the card is on screen only marks it for drawing once it scrolls into view.
 */
export function plotCard(testId, build, { emptyText, signal }) {
  const plot = h("div", { class: "compare-plot" });
  const empty = h("p", { class: "muted", hidden: true }, emptyText);
  const el = h("div", { class: "plot-card", "data-testid": testId, dataset: { state: "loading" } }, plot, empty);
  let gen = 0;
  let visible = false;
  let wanted = false;
  // Plots below the fold wait until they are scrolled to (parcoords renders with WebGL, which
  // is slow on machines without a GPU), so the charts at the top draw first.
  const observer = new IntersectionObserver((entries) => {
    if (!entries.some((e) => e.isIntersecting)) return;
    visible = true;
    observer.disconnect();
    if (wanted) draw();
  }, { rootMargin: "200px" });
  observer.observe(el);
  async function draw() {
    wanted = true;
    if (!visible) return;
    const mine = ++gen;
    el.dataset.state = "loading";
    const spec = build();
    if (!spec) {
      purge(plot);
      plot.hidden = true;
      empty.hidden = false;
      el.dataset.state = "empty";
      return;
    }
    plot.hidden = false;
    empty.hidden = true;
    const Plotly = await loadPlotly();
    if (mine !== gen || signal?.aborted) return;
    await Plotly.react(plot, spec.data, spec.layout, { responsive: true, displaylogo: false });
    if (mine === gen) el.dataset.state = "drawn";
  }
  const stopTheme = onThemeChange(() => { if (visible) draw(); });
  signal?.addEventListener("abort", () => { stopTheme(); observer.disconnect(); purge(plot); }, { once: true });
  return { el, draw };
}

/**
 * Parallel coordinates over `dims` ([{label, values}] with one value per run), one line per run
 * coloured like the run elsewhere on the page.
 */
export function parcoordsSpec(runs, dims) {
  if (!dims.length || !runs.length) return null;
  const theme = themeLayout();
  const dimensions = dims.map(({ label, values }) => {
    const nums = numericColumn(values);
    if (nums) return { label, values: nums.map((v) => (v === null ? NaN : v)) };
    const cat = categories(values);
    return { label, values: cat.codes, tickvals: cat.tickvals, ticktext: cat.ticktext };
  });
  const n = runs.length;
  // A discrete colour scale: run i maps to its own colour.
  const colorscale = n === 1 ? [[0, seriesColor(0)], [1, seriesColor(0)]]
    : runs.flatMap((_, i) => [[i / n, seriesColor(i)], [(i + 1) / n, seriesColor(i)]]);
  return {
    data: [{
      type: "parcoords",
      line: { color: runs.map((_, i) => (n === 1 ? 0 : (i + 0.5) / n)), colorscale, cmin: 0, cmax: 1 },
      dimensions,
      labelfont: { color: theme.font.color },
      tickfont: { color: theme.font.color },
      rangefont: { color: theme.xaxis.color },
    }],
    layout: { paper_bgcolor: theme.paper_bgcolor, plot_bgcolor: theme.plot_bgcolor, font: theme.font,
      height: 380, margin: { l: 70, r: 70, t: 60, b: 30 } },
  };
}

/**
 * A scatter of one point per run: x and y are {label, values}. `logX`/`logY` put a numeric axis
 * on a log scale (a categorical axis stays as it is).
 */
export function scatterSpec(runs, x, y, { logX = false, logY = false } = {}) {
  if (!x || !y || !runs.length) return null;
  const theme = themeLayout();
  const axis = (col) => {
    const nums = numericColumn(col.values);
    return nums ? { values: nums, type: "linear" } : { values: col.values.map((v) => (v === undefined ? "—" : String(v))), type: "category" };
  };
  const ax = axis(x);
  const ay = axis(y);
  return {
    data: runs.map((run, i) => ({
      type: "scatter",
      mode: "markers",
      name: run.name,
      x: [ax.values[i]],
      y: [ay.values[i]],
      marker: { color: seriesColor(i), size: 12, line: { width: 1, color: theme.paper_bgcolor } },
      hovertemplate: `${run.name}<br>${x.label}: %{x}<br>${y.label}: %{y}<extra></extra>`,
    })),
    layout: {
      ...theme,
      height: 380,
      margin: { l: 70, r: 20, t: 10, b: 60 },
      showlegend: true,
      legend: { ...theme.legend, orientation: "h", y: -0.22 },
      xaxis: { ...theme.xaxis, title: { text: x.label }, type: ax.type === "linear" && logX ? "log" : ax.type },
      yaxis: { ...theme.yaxis, title: { text: y.label }, type: ay.type === "linear" && logY ? "log" : ay.type },
    },
  };
}
