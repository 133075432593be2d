// A collapsible, pretty-printed view of a JSON value. Objects and arrays are <details> elements
// (keyboard operable by the browser), so large inputs and outputs can be folded; nodes deeper than
// `openDepth` start folded so a big payload does not flood the panel.
import { copyText, h } from "../dom.js";
import { toast } from "../components/ui.js";
import { parseAttachment } from "./attachments.js";

const MAX_CHILDREN = 500;

function leaf(value) {
  if (value === null) return h("span", { class: "json-null" }, "null");
  if (typeof value === "string") {
    const ref = parseAttachment(value);
    if (ref) return h("span", { class: "json-attachment", title: value }, `attachment ${ref.contentType}`);
    return h("span", { class: "json-string" }, JSON.stringify(value));
  }
  if (typeof value === "number") return h("span", { class: "json-number" }, String(value));
  if (typeof value === "boolean") return h("span", { class: "json-bool" }, String(value));
  return h("span", null, String(value));
}

function node(key, value, depth, openDepth, last) {
  const keyEl = key === null ? null : h("span", { class: "json-key" }, typeof key === "number" ? "" : `${JSON.stringify(key)}: `);
  const comma = last ? "" : ",";
  const isArray = Array.isArray(value);
  if (value === null || typeof value !== "object") return h("div", { class: "json-line" }, keyEl, leaf(value), comma);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return h("div", { class: "json-line" }, keyEl, open + close, comma);
  const shown = entries.slice(0, MAX_CHILDREN);
  const summaryText = isArray ? `${entries.length} item${entries.length === 1 ? "" : "s"}` : `${entries.length} key${entries.length === 1 ? "" : "s"}`;
  return h("details", { class: "json-node", open: depth < openDepth },
    h("summary", null, keyEl, open, h("span", { class: "json-count muted" }, ` ${summaryText} `), h("span", { class: "json-close-inline" }, close + comma)),
    h("div", { class: "json-children" },
      shown.map(([k, v], i) => node(isArray ? i : k, v, depth + 1, openDepth, i === entries.length - 1)),
      entries.length > shown.length ? h("div", { class: "muted" }, `… ${entries.length - shown.length} more`) : null),
    h("div", { class: "json-line json-close" }, close + comma));
}

/** A JSON value as a collapsible tree with a copy button. */
export function jsonView(value, { openDepth = 3, label = "value" } = {}) {
  const text = JSON.stringify(value, null, 2);
  const copy = h("button", { type: "button", class: "json-copy", "aria-label": `Copy ${label} as JSON`,
    onclick: async () => toast((await copyText(text ?? "")) ? "Copied" : "Could not copy", "info", 1500) }, "Copy");
  return h("div", { class: "json-view" }, copy, h("div", { class: "json-tree mono" }, node(null, value, 0, openDepth, true)));
}
