// #/traces/:traceId — one trace: its header (status, timing, tokens, session, user, links, tags and
// metadata), the request/response previews, and the span tree with its timeline beside the details
// of the selected span. URL query: span=<hex span id>, collapsed=<span ids folded>.
import { mlflow, mlflow3 } from "../api.js";
import { formatTime, h, link, replace } from "../dom.js";
import { breadcrumbs, emptyState, errorBox, kvTable, statusBadge } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import { buildTree, formatCost, formatSpanDuration, summarizeInfo, tryJson } from "../traces/model.js";
import { spanDetails } from "../traces/span_details.js";
import { spanTree } from "../traces/span_tree.js";
import { jsonView } from "../traces/json_view.js";

function preview(title, text, testid) {
  const parsed = tryJson(text);
  const body = !text
    ? h("p", { class: "muted" }, "—")
    : parsed !== undefined && typeof parsed === "object" && parsed !== null
      ? jsonView(parsed, { openDepth: 2, label: title.toLowerCase() })
      : h("pre", { class: "trace-preview-text" }, parsed !== undefined ? String(parsed) : text);
  return h("section", { class: "card trace-preview", "data-testid": testid, "aria-label": title }, h("h2", null, title), body);
}

function tokensText(tokens) {
  if (!tokens) return "—";
  return `${tokens.total_tokens ?? "?"} (${tokens.input_tokens ?? "?"} in · ${tokens.output_tokens ?? "?"} out)`;
}

function header(s, experimentName) {
  const expPath = s.experimentId ? `/experiments/${s.experimentId}/traces` : null;
  const facts = [
    ["Request time", formatTime(s.requestTime) || "—"],
    ["Latency", formatSpanDuration(s.durationMs) || "—"],
    ["Tokens", tokensText(s.tokens)],
    s.cost ? ["Cost", formatCost(s.cost)] : null,
    ["Session", s.session || "—"],
    ["User", s.user || "—"],
    ["Run", s.runId ? link(`/runs/${encodeURIComponent(s.runId)}`, s.runId, { class: "mono", "data-testid": "trace-run-link" }) : "—"],
    ["Experiment", expPath ? link(expPath, experimentName || s.experimentId, { "data-testid": "trace-experiment-link" }) : "—"],
  ].filter(Boolean);
  return h("div", { class: "trace-header" },
    breadcrumbs([
      ["Experiments", "/experiments"],
      expPath ? [experimentName || `Experiment ${s.experimentId}`, `/experiments/${s.experimentId}`] : null,
      expPath ? ["Traces", expPath] : null,
      [s.name || s.id, null],
    ].filter(Boolean)),
    h("div", { class: "page-header" },
      h("div", null,
        h("h1", { "data-testid": "trace-title" }, s.name || "(unnamed trace)", " ", statusBadge(s.state === "STATE_UNSPECIFIED" ? "" : s.state)),
        h("div", { class: "muted mono" }, s.id))),
    h("dl", { class: "trace-facts", "data-testid": "trace-facts" },
      facts.map(([k, v]) => h("div", { class: "trace-fact", dataset: { fact: k.toLowerCase().replace(/\s+/g, "-") } }, h("dt", null, k), h("dd", null, v)))));
}

function tagsAndMetadata(s) {
  const tagRows = Object.entries(s.tags).sort(([a], [b]) => a.localeCompare(b));
  const metaRows = Object.entries(s.metadata).sort(([a], [b]) => a.localeCompare(b));
  const mono = (v) => h("span", { class: "mono" }, v);
  return h("details", { class: "card trace-meta", "data-testid": "trace-meta" },
    h("summary", null, h("strong", null, "Tags and metadata"),
      h("span", { class: "muted" }, ` ${tagRows.length} tag${tagRows.length === 1 ? "" : "s"}, ${metaRows.length} metadata`),
      s.userTags.length ? h("span", { class: "trace-meta-chips" }, s.userTags.map(([k, v]) => h("span", { class: "chip" }, `${k}: ${v}`))) : null),
    h("div", { class: "grid grid-2" },
      h("div", null, h("h3", null, "Tags"), tagRows.length ? kvTable(tagRows.map(([k, v]) => [k, mono(v)])) : h("p", { class: "muted" }, "None")),
      h("div", null, h("h3", null, "Metadata"), metaRows.length ? kvTable(metaRows.map(([k, v]) => [k, mono(v)])) : h("p", { class: "muted" }, "None"))));
}

export async function render(ctx) {
  const { root, params, query, signal } = ctx;
  const traceId = params.traceId;
  document.title = `Trace ${traceId} · mltrail`;
  await ensureStyles("traces");
  let data;
  try {
    data = await mlflow3.get("traces/get", { trace_id: traceId }, { signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    replace(root, breadcrumbs([["Experiments", "/experiments"], [traceId, null]]), errorBox(err, "Could not load this trace"));
    return;
  }
  const info = data.trace?.trace_info || {};
  const s = summarizeInfo(info);
  let experimentName = null;
  if (s.experimentId) {
    try {
      experimentName = (await mlflow.get("experiments/get", { experiment_id: s.experimentId }, { signal })).experiment?.name || null;
    } catch (err) {
      if (err.name === "AbortError") throw err;
      // The trace is still worth showing without its experiment's name.
    }
  }
  document.title = `${s.name || traceId} · Trace · mltrail`;

  const tree = buildTree(data.trace?.spans || []);
  const collapsed = new Set((query.get("collapsed") || "").split(",").filter(Boolean));
  const detailsPane = h("section", { class: "trace-details-pane card", "aria-label": "Span details" });
  const showSpan = (span) => replace(detailsPane, span ? spanDetails(span, { traceId, traceStartMs: tree.startMs }) : emptyState("No span selected."));

  let body;
  if (!tree.order.length) {
    body = emptyState("This trace has no spans yet.");
  } else {
    const view = spanTree(tree, {
      selectedId: query.get("span"),
      collapsed,
      onSelect: (span) => {
        showSpan(span);
        ctx.setQuery({ span: span.id });
      },
      onToggle: (set) => ctx.setQuery({ collapsed: [...set] }),
    });
    showSpan(tree.byId.get(view.selectedId()));
    body = h("div", { class: "split trace-split" },
      h("section", { class: "trace-tree-pane card", "aria-label": "Span tree and timeline" }, view.el),
      detailsPane);
  }

  replace(root,
    h("div", { class: "trace-page", "data-testid": "trace-page", dataset: { traceId } },
      header(s, experimentName),
      h("div", { class: "trace-previews" },
        preview("Request", s.requestPreview, "trace-request"),
        preview("Response", s.responsePreview, "trace-response")),
      tagsAndMetadata(s),
      body));
}
