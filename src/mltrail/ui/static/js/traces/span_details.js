// The details of one span: status and timing, inputs and outputs (collapsible JSON), attachments
// found in them (images and audio inline), the other attributes, and the events (an exception
// event shows its type, message and stack trace).
import { formatTime, h } from "../dom.js";
import { kvTable, statusBadge } from "../components/ui.js";
import { attachmentView, findAttachments } from "./attachments.js";
import { jsonView } from "./json_view.js";
import { SPAN_KEYS, formatCost, formatSpanDuration } from "./model.js";

const SECTION_KEYS = new Set([SPAN_KEYS.inputs, SPAN_KEYS.outputs, SPAN_KEYS.type]);

function section(title, testid, body, { open = true, count = null } = {}) {
  return h("details", { class: "span-section", open, "data-testid": testid },
    h("summary", null, h("h3", null, title, count !== null ? h("span", { class: "muted" }, ` (${count})`) : null)),
    h("div", { class: "span-section-body" }, body));
}

function valueCell(value) {
  if (value !== null && typeof value === "object") return jsonView(value, { openDepth: 1, label: "attribute" });
  return h("span", { class: "mono" }, typeof value === "string" ? value : JSON.stringify(value));
}

function payload(value, label) {
  if (value === undefined) return h("p", { class: "muted" }, `No ${label} recorded.`);
  return jsonView(value, { label });
}

function eventView(ev, traceStartMs) {
  const a = ev.attributes;
  const isException = ev.name === "exception";
  const rest = Object.entries(a).filter(([k]) => !(isException && k.startsWith("exception.")));
  const offset = ev.timeMs !== null ? `+${formatSpanDuration(ev.timeMs - traceStartMs)}` : "";
  return h("li", { class: `span-event${isException ? " span-event-exception" : ""}`, "data-testid": "span-event", dataset: { eventName: ev.name } },
    h("div", { class: "span-event-head" },
      h("strong", null, ev.name || "(event)"),
      h("span", { class: "muted" }, ` ${offset}`, ev.timeMs !== null ? ` · ${formatTime(ev.timeMs)}` : "")),
    isException ? h("div", { class: "span-exception" },
      h("div", null, h("span", { class: "mono span-exception-type" }, String(a["exception.type"] ?? "Exception")),
        a["exception.message"] !== undefined ? [": ", String(a["exception.message"])] : null),
      a["exception.stacktrace"] ? h("pre", { class: "span-stack" }, String(a["exception.stacktrace"])) : null) : null,
    rest.length ? kvTable(rest.map(([k, v]) => [k, valueCell(v)])) : null);
}

/** The details panel of `span` in a trace whose spans start at `traceStartMs`. */
export function spanDetails(span, { traceId, traceStartMs }) {
  const attrs = span.attributes;
  const inputs = attrs[SPAN_KEYS.inputs];
  const outputs = attrs[SPAN_KEYS.outputs];
  const attachments = [...findAttachments(inputs, "inputs"), ...findAttachments(outputs, "outputs")];
  const others = Object.entries(attrs).filter(([k]) => !SECTION_KEYS.has(k)).sort(([a], [b]) => a.localeCompare(b));
  const tokens = attrs[SPAN_KEYS.tokens];
  const cost = attrs[SPAN_KEYS.cost];

  const summary = kvTable([
    ["Status", h("span", null, statusBadge(span.status), span.statusMessage ? h("span", { class: "span-status-message" }, ` ${span.statusMessage}`) : null)],
    ["Type", span.type],
    ["Span ID", h("span", { class: "mono" }, span.id)],
    ["Start", span.startMs !== null ? `${formatTime(span.startMs)} (+${formatSpanDuration(span.startMs - traceStartMs)})` : "—"],
    ["Duration", formatSpanDuration(span.durationMs) || "—"],
    tokens && typeof tokens === "object" ? ["Tokens", `${tokens.input_tokens ?? "?"} in · ${tokens.output_tokens ?? "?"} out · ${tokens.total_tokens ?? "?"} total`] : null,
    cost && typeof cost === "object" ? ["Cost", formatCost(cost)] : null,
    attrs[SPAN_KEYS.model] ? ["Model", String(attrs[SPAN_KEYS.model])] : null,
  ].filter(Boolean));

  return h("div", { class: "span-details", "data-testid": "span-details", dataset: { spanId: span.id } },
    h("div", { class: "span-details-head" },
      h("h2", null, span.name),
      h("span", { class: "badge" }, span.type)),
    summary,
    section("Inputs", "span-inputs", payload(inputs, "inputs")),
    section("Outputs", "span-outputs", payload(outputs, "outputs")),
    attachments.length ? section("Attachments", "span-attachments",
      h("div", { class: "trace-attachments" }, attachments.map((ref) => attachmentView(ref, traceId))), { count: attachments.length }) : null,
    section("Attributes", "span-attributes",
      others.length ? kvTable(others.map(([k, v]) => [k, valueCell(v)])) : h("p", { class: "muted" }, "No other attributes."),
      { count: others.length }),
    section("Events", "span-events",
      span.events.length ? h("ul", { class: "span-events" }, span.events.map((ev) => eventView(ev, traceStartMs))) : h("p", { class: "muted" }, "No events."),
      { count: span.events.length, open: span.events.length > 0 }));
}
