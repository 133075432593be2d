// Entry point: the hash router, the top bar and the theme switch.
// Views are addressed by the URL fragment ("#/experiments/1?filter=..."), so every view has a URL
// that can be shared and restores the same state; pages keep their state in the query part.
import { http } from "./api.js";
import { h, replace } from "./dom.js";
import { errorBox, spinner } from "./components/ui.js";

/** [pattern, module, nav section]; `:name` segments become params (URI-decoded). */
const ROUTES = [
  ["/experiments", "./pages/experiments.js", "experiments"],
  ["/experiments/:experimentIds", "./pages/runs.js", "experiments"],
  ["/experiments/:experimentIds/traces", "./pages/traces.js", "experiments"],
  ["/runs/:runId", "./pages/run.js", "experiments"],
  ["/compare", "./pages/compare.js", "experiments"],
  ["/traces/:traceId", "./pages/trace.js", "experiments"],
  ["/models", "./pages/models.js", "models"],
  ["/models/:name", "./pages/model.js", "models"],
  ["/models/:name/versions/:version", "./pages/model_version.js", "models"],
  ["/logged-models/:modelId", "./pages/logged_model.js", "models"],
];
const DEFAULT_VIEW = "/experiments";

function parseHash(hash) {
  const raw = hash.replace(/^#/, "") || DEFAULT_VIEW;
  const q = raw.indexOf("?");
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "");
  return { path: path.replace(/\/+$/, "") || DEFAULT_VIEW, query };
}

function match(path) {
  const parts = path.split("/").filter(Boolean);
  for (const [pattern, module, section] of ROUTES) {
    const pp = pattern.split("/").filter(Boolean);
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pp.length; i++) {
      if (pp[i].startsWith(":")) params[pp[i].slice(1)] = decodeURIComponent(parts[i]);
      else if (pp[i] !== parts[i]) { ok = false; break; }
    }
    if (ok) return { module, params, section };
  }
  return null;
}

let current = null; // {hash, controller, cleanups}
const app = () => document.getElementById("app");

/** Go to a view (`path` like "/runs/abc?tab=metrics"); pushes a history entry. */
export function navigate(path, { replace: replaceEntry = false } = {}) {
  const hash = "#" + path;
  if (replaceEntry) history.replaceState(null, "", hash);
  else history.pushState(null, "", hash);
  render();
}

/**
 * Update the current view's query without re-rendering (the page already shows the new state).
 * `updates` maps keys to values; null/""/[] removes a key. `push` adds a history entry.
 */
export function setQuery(updates, { push = false } = {}) {
  const { path, query } = parseHash(location.hash);
  for (const [k, v] of Object.entries(updates)) {
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) query.delete(k);
    else query.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const qs = query.toString();
  const hash = "#" + path + (qs ? "?" + qs : "");
  if (push) history.pushState(null, "", hash);
  else history.replaceState(null, "", hash);
  if (current) current.hash = location.hash;
}

async function render() {
  if (current && current.hash === location.hash) return;
  if (current) {
    current.controller.abort();
    for (const fn of current.cleanups) {
      try { fn(); } catch (err) { console.error(err); }
    }
  }
  const { path, query } = parseHash(location.hash);
  const controller = new AbortController();
  const state = { hash: location.hash, controller, cleanups: [] };
  current = state;
  const root = app();
  root.replaceChildren(spinner());
  const found = match(path);
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", !!found && a.dataset.nav === found.section);
    if (found && a.dataset.nav === found.section) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!found) {
    document.title = "Not found · mltrail";
    replace(root, h("div", { class: "empty-state" }, h("h1", null, "Page not found"),
      h("p", null, `No view at ${path}. `, h("a", { href: "#" + DEFAULT_VIEW }, "Go to experiments"))));
    return;
  }
  try {
    const page = await import(found.module);
    if (controller.signal.aborted) return;
    const ctx = {
      root,
      params: found.params,
      query,
      signal: controller.signal,
      setQuery,
      navigate,
      onCleanup: (fn) => state.cleanups.push(fn),
    };
    await page.render(ctx);
  } catch (err) {
    if (err && err.name === "AbortError") return;
    if (controller.signal.aborted) return;
    console.error(err);
    replace(root, errorBox(err, "Could not load this page"));
  }
}

function setupTheme() {
  const button = document.getElementById("theme-toggle");
  const effective = () => document.documentElement.dataset.theme
    || (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const sync = () => {
    const dark = effective() === "dark";
    button.setAttribute("aria-pressed", String(dark));
    button.title = dark ? "Switch to light theme" : "Switch to dark theme";
  };
  button.addEventListener("click", () => {
    const next = effective() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("mltrail.theme", next);
    sync();
    window.dispatchEvent(new CustomEvent("mltrail:theme", { detail: next }));
  });
  window.addEventListener("mltrail:theme", sync);
  sync();
}

function setupSkipLink() {
  document.querySelector("[data-skip]").addEventListener("click", (ev) => {
    ev.preventDefault();
    document.getElementById("main").focus();
  });
}

async function showVersion() {
  try {
    const info = await http.get("ajax-api/3.0/mlflow/server-info");
    if (info.mltrail_version) document.getElementById("server-version").textContent = `v${info.mltrail_version}`;
  } catch {
    // The version label is decoration; the pages report real errors.
  }
}

window.addEventListener("hashchange", render);
window.addEventListener("popstate", render);
setupTheme();
setupSkipLink();
render();
showVersion();
