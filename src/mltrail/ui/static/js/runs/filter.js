// The runs search box: a filter in the server's grammar, run on Enter or the Search button.
// A filter the server rejects shows its message under the box; the table keeps its rows.
import { h } from "../dom.js";
import { quoteKey } from "./state.js";

/** Example filters built from the experiment's real keys, so clicking one finds something. */
function examples(keys) {
  const out = [];
  const metric = keys.metrics?.[0];
  const param = keys.params?.[0];
  if (metric) out.push(`metrics.${quoteKey(metric)} < 0.5`);
  if (param) out.push(`params.${quoteKey(param)} = '…'`);
  out.push("attributes.status = 'FAILED'");
  out.push("attributes.run_name LIKE '%test%'");
  if (metric && param) out.push(`metrics.${quoteKey(metric)} > 0 and params.${quoteKey(param)} != ''`);
  return out;
}

/**
 * Build the search box. `onSearch(filter)` runs the filter and resolves, or rejects with the
 * server's error (shown inline). Returns {el, setKeys(keys), setValue(text), showError(message)}.
 */
export function filterBox({ value, onSearch }) {
  const input = h("input", { type: "search", class: "filter-input", id: "runs-filter", value,
    placeholder: "metrics.loss < 0.5 and params.lr = '0.1'", autocomplete: "off", spellcheck: false,
    "aria-describedby": "runs-filter-error runs-filter-help", "data-testid": "runs-filter" });
  const error = h("div", { class: "form-error filter-error", id: "runs-filter-error", role: "alert",
    "data-testid": "filter-error" });
  const button = h("button", { type: "submit", class: "primary" }, "Search");
  const clear = h("button", { type: "button", title: "Clear the filter", onclick: () => { input.value = ""; run(); } },
    "Clear");
  const exampleList = h("span", { class: "filter-examples" });
  const help = h("details", { class: "filter-help", id: "runs-filter-help" },
    h("summary", null, "Filter syntax"),
    h("p", null, "Compare ", h("code", null, "metrics.<key>"), ", ", h("code", null, "params.<key>"), ", ",
      h("code", null, "tags.<key>"), " or ", h("code", null, "attributes.<name>"),
      " (run_name, status, user_id, start_time, end_time, run_id) and join clauses with ", h("code", null, "and"), "."),
    h("p", null, "Metrics take numbers with ", h("code", null, "= != < <= > >="),
      "; params, tags and text attributes take quoted strings with ", h("code", null, "= != LIKE ILIKE"),
      " (", h("code", null, "%"), " matches anything), and ", h("code", null, "IN ('a', 'b')"),
      ". Keys with spaces go in backticks: ", h("code", null, "params.`batch size` = '32'"), "."));

  function showError(message) {
    error.textContent = message;
    input.classList.toggle("invalid", !!message);
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  async function run() {
    button.disabled = true;
    input.setAttribute("aria-busy", "true");
    try {
      await onSearch(input.value.trim());
      showError("");
    } catch (err) {
      if (err?.name === "AbortError") return;
      showError(err?.message || String(err));
    } finally {
      button.disabled = false;
      input.removeAttribute("aria-busy");
    }
  }

  const form = h("form", { class: "filter-form", role: "search", onsubmit: (ev) => { ev.preventDefault(); run(); } },
    h("label", { for: "runs-filter", class: "sr-only" }, "Filter runs"), input, button, clear);

  function setKeys(keys) {
    exampleList.replaceChildren(h("span", { class: "muted" }, "Examples:"), ...examples(keys).map((text) =>
      h("button", { type: "button", class: "chip example", title: "Use this filter", onclick: () => {
        input.value = text;
        if (text.includes("…")) {
          // A template: let the user fill in the value rather than searching for "…".
          input.focus();
          input.setSelectionRange(text.indexOf("…"), text.indexOf("…") + 1);
        } else run();
      } }, text)));
  }
  setKeys({});
  const el = h("div", { class: "filter-box" }, form, error, h("div", { class: "filter-extras" }, exampleList, help));
  return { el, setKeys, showError, setValue: (text) => { input.value = text; } };
}
