// Metric histories always come from the server's downsampling route, never raw: a chart asks for
// about as many points as it has pixels, and for the visible range again when the user zooms in.
import { uiApi } from "../api.js";

const SPECIAL = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

function toNumber(v) {
  if (typeof v === "number") return v;
  if (v in SPECIAL) return SPECIAL[v];
  const n = Number(v);
  return Number.isNaN(n) ? NaN : n;
}

/**
 * Fetch downsampled series. `runIds` and `keys` are lists; `xAxis` is "step" or "timestamp";
 * `xMin`/`xMax` (optional) restrict the range. Resolves to a list of
 * {runId, key, totalPoints, downsampled, steps, timestamps, values} with numeric values.
 */
const MAX_RUNS = 100; // Route limits per request: runs and metric keys.
const MAX_KEYS = 50;

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function parse(s) {
  return {
    runId: s.run_id,
    key: s.metric_key,
    totalPoints: s.total_points,
    downsampled: !!s.downsampled,
    steps: (s.steps || []).map(Number),
    timestamps: (s.timestamps || []).map(Number),
    values: (s.values || []).map(toNumber),
  };
}

/**
 * Fetch downsampled series. `runIds` and `keys` are lists; `xAxis` is "step" or "timestamp";
 * `xMin`/`xMax` (optional) restrict the range. Resolves to a list of
 * {runId, key, totalPoints, downsampled, steps, timestamps, values} with numeric values.
 * More runs or keys than one request may carry are fetched in several requests.
 */
export async function fetchSeries({ runIds, keys, maxPoints = 1000, xAxis = "step", xMin, xMax, signal }) {
  if (!runIds.length || !keys.length) return [];
  const base = { max_points: Math.max(10, Math.min(10000, Math.round(maxPoints))), x_axis: xAxis };
  if (xMin !== undefined && xMin !== null && Number.isFinite(xMin)) base.x_min = Math.floor(xMin);
  if (xMax !== undefined && xMax !== null && Number.isFinite(xMax)) base.x_max = Math.ceil(xMax);
  const requests = [];
  for (const runChunk of chunks(runIds, MAX_RUNS)) {
    for (const keyChunk of chunks(keys, MAX_KEYS)) {
      requests.push(uiApi.get("metric-series", { ...base, run_id: runChunk, metric_key: keyChunk }, { signal }));
    }
  }
  const pages = await Promise.all(requests);
  return pages.flatMap((data) => (data.series || []).map(parse));
}
