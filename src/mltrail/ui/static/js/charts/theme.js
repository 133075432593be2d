// Chart colours follow the page theme: axes and text from the CSS custom properties, and a
// palette of line colours chosen to read on both the light and the dark background.
import { cssVar, isDark } from "../dom.js";

const LIGHT = ["#2f6fdf", "#e4572e", "#17a673", "#9b5de5", "#f0a202", "#0fa3b1", "#d7263d", "#5b8e7d", "#8c564b", "#c2185b"];
const DARK = ["#6b9cff", "#ff8a65", "#4cc47f", "#c39bff", "#ffc94d", "#4dd0e1", "#ff6b81", "#9ccc9c", "#d7a98c", "#f48fb1"];

/** The i-th line colour of the current theme. */
export function seriesColor(i) {
  const palette = isDark() ? DARK : LIGHT;
  return palette[((i % palette.length) + palette.length) % palette.length];
}

/** Plotly layout fragments (fonts, grid, backgrounds) for the current theme. */
export function themeLayout() {
  const fg = cssVar("--fg") || "#1d2330";
  const muted = cssVar("--fg-muted") || "#5d6677";
  const border = cssVar("--border") || "#dde1e7";
  const surface = cssVar("--surface") || "#ffffff";
  const axis = { color: muted, gridcolor: border, zerolinecolor: border, linecolor: border };
  return {
    paper_bgcolor: surface,
    plot_bgcolor: surface,
    font: { color: fg, size: 12 },
    hoverlabel: { bgcolor: cssVar("--surface-2") || surface, bordercolor: border, font: { color: fg } },
    legend: { font: { color: fg } },
    xaxis: axis,
    yaxis: { ...axis },
  };
}

/** Plain colours for charts drawn on a canvas (uPlot): text, muted text, grid lines, surfaces. */
export function chartColors() {
  const surface = cssVar("--surface") || "#ffffff";
  return {
    fg: cssVar("--fg") || "#1d2330",
    muted: cssVar("--fg-muted") || "#5d6677",
    grid: cssVar("--border") || "#dde1e7",
    surface,
    surface2: cssVar("--surface-2") || surface,
  };
}

/** Call `fn` whenever the user switches the theme; returns the unsubscribe function. */
export function onThemeChange(fn) {
  const media = matchMedia("(prefers-color-scheme: dark)");
  window.addEventListener("mltrail:theme", fn);
  media.addEventListener("change", fn);
  return () => {
    window.removeEventListener("mltrail:theme", fn);
    media.removeEventListener("change", fn);
  };
}
