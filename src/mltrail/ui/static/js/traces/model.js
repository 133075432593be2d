// Reading traces as the server sends them: TraceInfoV3 fields and spans in either wire form
// (OTLP proto-JSON with typed attribute values, or MLflow's JSON with JSON-encoded strings), turned
// into plain objects the views can use: hex ids, times in ms, decoded attributes and a span tree.

const META_TOKENS = "mlflow.trace.tokenUsage";
const META_COST = "mlflow.trace.cost";
const META_SESSION = "mlflow.trace.session";
const META_USER = "mlflow.trace.user";
const META_RUN = "mlflow.sourceRun";
const TAG_NAME = "mlflow.traceName";

/** Span attribute keys the details view shows in their own sections. */
export const SPAN_KEYS = {
  type: "mlflow.spanType",
  inputs: "mlflow.spanInputs",
  outputs: "mlflow.spanOutputs",
  tokens: "mlflow.chat.tokenUsage",
  cost: "mlflow.llm.cost",
  model: "mlflow.llm.model",
  functionName: "mlflow.spanFunctionName",
};

/** Parse JSON text, or return `fallback` when it is not JSON. */
export function tryJson(text, fallback = undefined) {
  if (typeof text !== "string") return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}

/** Milliseconds of an RFC 3339 timestamp ("2026-11-27T13:06:18.073Z") or a number in ms. */
export function parseTimestamp(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** Milliseconds of a proto Duration ("0.824s", "2s") or a number in ms. */
export function parseDuration(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return value;
  const m = /^(-?\d+(?:\.\d+)?)s$/.exec(String(value).trim());
  return m ? Number(m[1]) * 1000 : null;
}

/** The fields a list row or a trace header shows, read from a TraceInfoV3 object. */
export function summarizeInfo(info) {
  const meta = info.trace_metadata || {};
  const tags = info.tags || {};
  const tokens = tryJson(meta[META_TOKENS], null);
  const cost = tryJson(meta[META_COST], null);
  return {
    id: info.trace_id,
    experimentId: info.trace_location?.mlflow_experiment?.experiment_id ?? null,
    name: tags[TAG_NAME] || "",
    state: info.state || "STATE_UNSPECIFIED",
    requestTime: parseTimestamp(info.request_time),
    durationMs: parseDuration(info.execution_duration ?? info.execution_duration_ms),
    tokens: tokens && typeof tokens === "object" ? tokens : null,
    cost: cost && typeof cost === "object" ? cost : null,
    session: meta[META_SESSION] || "",
    user: meta[META_USER] || "",
    runId: meta[META_RUN] || "",
    clientRequestId: info.client_request_id || "",
    requestPreview: info.request_preview || "",
    responsePreview: info.response_preview || "",
    tags,
    metadata: meta,
    userTags: Object.entries(tags).filter(([k]) => !k.startsWith("mlflow.")),
  };
}

/** A cost in USD with enough digits for fractions of a cent, "" when unknown. */
export function formatCost(cost) {
  if (!cost) return "";
  const total = cost.total_cost ?? ((cost.input_cost ?? 0) + (cost.output_cost ?? 0));
  if (!Number.isFinite(Number(total))) return "";
  const n = Number(total);
  return n >= 0.01 ? `$${n.toFixed(2)}` : `$${Number(n.toPrecision(3))}`;
}

/** Hex text of a span/trace id given as base64 (OTLP JSON) or already as hex. */
export function idToHex(id) {
  if (!id) return "";
  if (/^0x[0-9a-f]+$/i.test(id)) return id.slice(2).toLowerCase().padStart(id.length > 18 ? 32 : 16, "0");
  if (/^[0-9a-f]+$/i.test(id) && (id.length === 16 || id.length === 32)) return id.toLowerCase();
  try {
    const bin = atob(id);
    let out = "";
    for (let i = 0; i < bin.length; i++) out += bin.charCodeAt(i).toString(16).padStart(2, "0");
    return out;
  } catch {
    return String(id);
  }
}

/** The JavaScript value of an OTLP AnyValue ({string_value}, {int_value}, {kvlist_value}, ...). */
export function anyValue(v) {
  if (v === null || v === undefined || typeof v !== "object") return v ?? null;
  if ("string_value" in v) return v.string_value;
  if ("bool_value" in v) return v.bool_value;
  if ("int_value" in v) return Number(v.int_value);
  if ("double_value" in v) {
    const d = v.double_value;
    return typeof d === "string" ? Number(d) : d;
  }
  if ("array_value" in v) return (v.array_value?.values || []).map(anyValue);
  if ("kvlist_value" in v) {
    const out = {};
    for (const kv of v.kvlist_value?.values || []) out[kv.key] = anyValue(kv.value);
    return out;
  }
  if ("bytes_value" in v) return v.bytes_value;
  return null;
}

/**
 * Attribute map of a span or event: OTLP lists of {key, value: AnyValue}, or MLflow's flat object
 * whose values are JSON-encoded strings.
 */
export function decodeAttributes(attrs) {
  const out = {};
  if (Array.isArray(attrs)) {
    for (const kv of attrs) out[kv.key] = anyValue(kv.value);
  } else if (attrs && typeof attrs === "object") {
    for (const [k, v] of Object.entries(attrs)) out[k] = typeof v === "string" ? tryJson(v, v) : v;
  }
  return out;
}

const nsToMs = (ns) => (ns === undefined || ns === null || ns === "" ? null : Number(ns) / 1e6);

/** A span of either wire form as {id, parentId, name, type, startMs, endMs, status, attributes, events}. */
export function normalizeSpan(raw) {
  const attributes = decodeAttributes(raw.attributes);
  const v2 = raw.context && typeof raw.context === "object";
  const id = idToHex(v2 ? raw.context.span_id : raw.span_id);
  const parentId = idToHex(v2 ? raw.parent_id : raw.parent_span_id);
  const startMs = v2 ? nsToMs(raw.start_time) : nsToMs(raw.start_time_unix_nano);
  const endMs = v2 ? nsToMs(raw.end_time) : nsToMs(raw.end_time_unix_nano);
  const rawCode = v2 ? raw.status_code : raw.status?.code;
  const code = String(rawCode || "STATUS_CODE_UNSET").replace(/^STATUS_CODE_/, "");
  const message = (v2 ? raw.status_message : raw.status?.message) || "";
  const events = (raw.events || []).map((ev) => ({
    name: ev.name || "",
    timeMs: nsToMs(ev.time_unix_nano ?? ev.timestamp),
    attributes: decodeAttributes(ev.attributes),
  }));
  return {
    id,
    parentId,
    name: raw.name || "(unnamed)",
    type: typeof attributes[SPAN_KEYS.type] === "string" ? attributes[SPAN_KEYS.type] : "UNKNOWN",
    startMs,
    endMs,
    durationMs: startMs !== null && endMs !== null ? Math.max(0, endMs - startMs) : null,
    status: code === "UNSET" ? "UNSET" : code,
    statusMessage: message,
    attributes,
    events,
    children: [],
    depth: 0,
  };
}

/**
 * Build the span tree: roots (spans without a parent in the trace), children ordered by start
 * time, depths set, plus the trace's time range. Returns {roots, byId, order, startMs, endMs}.
 */
export function buildTree(rawSpans) {
  const spans = rawSpans.map(normalizeSpan);
  const byId = new Map(spans.map((s) => [s.id, s]));
  const roots = [];
  for (const s of spans) {
    const parent = s.parentId ? byId.get(s.parentId) : null;
    if (parent && parent !== s) parent.children.push(s);
    else roots.push(s);
  }
  const byStart = (a, b) => (a.startMs ?? 0) - (b.startMs ?? 0);
  const order = [];
  const visit = (span, depth) => {
    span.depth = depth;
    order.push(span);
    span.children.sort(byStart);
    for (const c of span.children) visit(c, depth + 1);
  };
  roots.sort(byStart);
  for (const r of roots) visit(r, 0);
  const starts = spans.map((s) => s.startMs).filter((v) => v !== null);
  const ends = spans.map((s) => s.endMs ?? s.startMs).filter((v) => v !== null);
  return {
    roots,
    byId,
    order,
    startMs: starts.length ? Math.min(...starts) : 0,
    endMs: ends.length ? Math.max(...ends) : 0,
  };
}

/** A span or trace duration in ms with sub-millisecond precision where it matters. */
export function formatSpanDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return "";
  const n = Number(ms);
  if (n === 0) return "0 ms";
  if (n < 1) return `${n.toFixed(2)} ms`;
  if (n < 10) return `${n.toFixed(1)} ms`;
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60000) return `${(n / 1000).toFixed(2)} s`;
  const m = Math.floor(n / 60000);
  return `${m} min ${String(Math.floor((n % 60000) / 1000)).padStart(2, "0")} s`;
}
