// Small DOM and formatting helpers shared by every page. No framework: pages build elements
// with h() and replace their own subtree when their data changes.

/**
 * Create an element. `attrs` keys: "class", "style" (string or object), "dataset" (object),
 * "on<event>" (listener), boolean/other values become attributes or properties.
 * Children may be nodes, strings, numbers, arrays, or null/undefined/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2).toLowerCase(), value);
      else if (key in el && typeof value !== "string") el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

/** Append children (nested arrays, strings and nodes; falsy values skipped). */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** Remove every child of `el` and append `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A link to a view of the UI (`path` without the leading "#"). */
export function link(path, text, attrs = {}) {
  return h("a", { href: "#" + path, ...attrs }, text);
}

/** Build a view path with a query string, dropping empty values. */
export function viewPath(path, query = {}) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0)) continue;
    params.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** A millisecond timestamp as a local date and time ("" when absent). */
export function formatTime(ms) {
  if (ms === undefined || ms === null || ms === "") return "";
  return dateFmt.format(new Date(Number(ms)));
}

/** "3 minutes ago" style text for a millisecond timestamp. */
export function formatAgo(ms) {
  if (!ms) return "";
  const seconds = (Date.now() - Number(ms)) / 1000;
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) {
      const n = Math.round(seconds / size);
      return `${n} ${unit}${n === 1 ? "" : "s"} ago`;
    }
  }
  return "just now";
}

/** A duration in milliseconds as "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min". */
export function formatDuration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(Number(ms))) return "";
  ms = Number(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  const hrs = Math.floor(m / 60);
  return `${hrs} h ${String(m % 60).padStart(2, "0")} min`;
}

/** A metric value: up to 6 significant digits, NaN/±inf spelled out, strings kept. */
export function formatNumber(value) {
  if (value === undefined || value === null || value === "") return "";
  if (typeof value === "string") {
    const n = Number(value);
    if (value === "NaN" || value === "Infinity" || value === "-Infinity" || Number.isNaN(n)) return value;
    value = n;
  }
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e9)) return value.toExponential(4);
  return String(Number(value.toPrecision(6)));
}

/** Bytes as "1.2 MB". */
export function formatBytes(n) {
  if (n === undefined || n === null) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  n = Number(n);
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** The value of tag `key` in a wire list of {key, value} (or undefined). */
export function tagValue(tags, key) {
  for (const t of tags || []) if (t.key === key) return t.value;
  return undefined;
}

/** Copy text to the clipboard, resolving to true on success. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Whether the page currently shows the dark theme (saved choice, else the system's). */
export function isDark() {
  const t = document.documentElement.dataset.theme;
  if (t) return t === "dark";
  return matchMedia("(prefers-color-scheme: dark)").matches;
}

/** A CSS custom property's current value (e.g. cssVar("--fg") for chart colours). */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
