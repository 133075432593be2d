// Previews of one artifact file, chosen by its name: images, text (first ~1 MB), JSON, CSV/TSV
// tables, YAML, and the MLmodel file with a summary of its flavors and signature.
import { ApiError } from "../api.js";
import { h, formatBytes } from "../dom.js";
import { errorBox, spinner } from "../components/ui.js";
import { parseSimpleYaml } from "./yaml.js";

export const TEXT_LIMIT = 1024 * 1024;
const CSV_ROWS = 500;
// SVG is served as text (it could carry scripts), so it previews as text.
const IMAGE = new Set(["png", "jpg", "jpeg", "gif", "bmp", "webp", "ico", "avif"]);
const TEXT = new Set(["txt", "log", "py", "md", "rst", "cfg", "ini", "toml", "sh", "yaml", "yml", "js", "ts", "css",
  "html", "htm", "xml", "sql", "r", "java", "c", "h", "cpp", "go", "rs", "jsonl", "ndjson", "env", "conf", "out", "err",
  "ipynb", "properties", "gitignore", "dockerfile", "tex", "csv", "tsv", "json", "svg"]);

/** The preview kind for a file name. */
export function previewKind(path) {
  const name = path.split("/").pop() || "";
  if (name === "MLmodel") return "mlmodel";
  const ext = name.includes(".") ? name.split(".").pop().toLowerCase() : "";
  if (IMAGE.has(ext)) return "image";
  if (ext === "json") return "json";
  if (ext === "csv" || ext === "tsv") return "table";
  if (ext === "yaml" || ext === "yml") return "yaml";
  if (TEXT.has(ext)) return "text";
  return "unknown";
}

/**
 * Read at most `limit` bytes of a URL as text, stopping the download there.
 * Resolves to {text, truncated, binary} (binary when NUL bytes appear early on).
 */
export async function readText(url, { limit = TEXT_LIMIT, signal } = {}) {
  const response = await fetch(url, { signal });
  if (!response.ok) {
    let message = response.statusText;
    try {
      const data = await response.json();
      message = data.message || message;
    } catch {
      // Not JSON: keep the status text.
    }
    throw new ApiError(response.status, `HTTP_${response.status}`, message);
  }
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  let truncated = false;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  if (size >= limit) {
    truncated = true;
    // Stop the download; nothing waits for the connection to wind down.
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes.length - offset));
    bytes.set(part, offset);
    offset += part.length;
    if (offset >= bytes.length) break;
  }
  const head = bytes.subarray(0, 8000);
  const binary = head.includes(0);
  // A cut in the middle of a multi-byte character must not throw: decode leniently.
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  return { text, truncated: truncated && bytes.length === limit, binary };
}

/** Split delimited text into rows (quoted fields may hold delimiters, quotes and newlines). */
export function parseDelimited(text, delimiter, maxRows) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === delimiter) { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if ((field !== "" || row.length) && rows.length < maxRows) { row.push(field); rows.push(row); }
  return rows;
}

const note = (text) => h("p", { class: "muted preview-note" }, text);
const truncatedNote = (truncated) => (truncated ? note(`Showing the first ${formatBytes(TEXT_LIMIT)}; download the file for the rest.`) : null);

function textView(text, truncated) {
  return [truncatedNote(truncated), h("pre", { class: "preview-text", "data-testid": "preview-text" }, text)];
}

function tableView(text, truncated, delimiter) {
  // A cut file ends in a partial line: drop it.
  const body = truncated ? text.slice(0, text.lastIndexOf("\n") + 1) : text;
  const rows = parseDelimited(body, delimiter, CSV_ROWS + 1);
  if (!rows.length) return note("The file is empty.");
  const [header, ...data] = rows;
  return [
    data.length >= CSV_ROWS || truncated ? note(`Showing the first ${data.length} rows.`) : note(`${data.length} rows.`),
    h("div", { class: "table-wrap preview-table" }, h("table", { class: "data", "data-testid": "preview-table" },
      h("thead", null, h("tr", null, header.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", null, data.map((r) => h("tr", null, r.map((c) => h("td", null, c))))))),
  ];
}

function jsonView(text, truncated) {
  if (!truncated) {
    try {
      return h("pre", { class: "preview-text preview-json", "data-testid": "preview-json" }, JSON.stringify(JSON.parse(text), null, 2));
    } catch {
      return [note("Not valid JSON; shown as text."), ...textView(text, truncated)];
    }
  }
  return textView(text, truncated);
}

/** "double", or "tensor int64 [-1]" for a tensor spec. */
function columnType(col) {
  if (col.type !== "tensor") return col.type || "?";
  const spec = col["tensor-spec"] || {};
  return `tensor ${spec.dtype || ""} ${JSON.stringify(spec.shape || [])}`;
}

function schemaList(text) {
  let cols;
  try {
    cols = JSON.parse(text);
  } catch {
    return h("span", { class: "mono" }, text);
  }
  if (!Array.isArray(cols)) return h("span", { class: "mono" }, JSON.stringify(cols));
  return h("ul", { class: "schema-list" }, cols.map((c) => h("li", null,
    h("span", { class: "mono" }, c.name ?? "(unnamed)"), ": ",
    h("span", { class: "muted" }, columnType(c)))));
}

/** A readable summary of an MLmodel file (flavors, signature, ids) above its text. */
function mlmodelView(text, truncated) {
  const doc = parseSimpleYaml(text);
  const flavors = doc && typeof doc.flavors === "object" ? doc.flavors : {};
  const rows = Object.entries(flavors).map(([name, conf]) => {
    const detail = conf && typeof conf === "object"
      ? Object.entries(conf).filter(([k, v]) => /version|loader_module|serialization|pickled_model|model_path|data/.test(k) && typeof v !== "object")
        .map(([k, v]) => `${k}: ${v}`).join(" · ")
      : "";
    return h("li", null, h("strong", { class: "mono" }, name), detail ? h("span", { class: "muted" }, ` — ${detail}`) : null);
  });
  const signature = doc?.signature && typeof doc.signature === "object" ? doc.signature : null;
  const facts = [["Model UUID", doc?.model_uuid], ["Model ID", doc?.model_id], ["Run ID", doc?.run_id],
    ["Created", doc?.utc_time_created], ["MLflow version", doc?.mlflow_version], ["Artifact path", doc?.artifact_path]]
    .filter(([, v]) => v !== undefined && v !== null && v !== "");
  const summary = h("div", { class: "mlmodel-summary", "data-testid": "mlmodel-summary" },
    h("h4", null, "Flavors"),
    rows.length ? h("ul", { class: "flavor-list" }, rows) : note("No flavors found."),
    signature ? [h("h4", null, "Signature"),
      h("div", { class: "signature" },
        signature.inputs ? h("div", null, h("strong", null, "Inputs"), schemaList(signature.inputs)) : null,
        signature.outputs ? h("div", null, h("strong", null, "Outputs"), schemaList(signature.outputs)) : null,
        signature.params ? h("div", null, h("strong", null, "Params"), schemaList(signature.params)) : null)]
      : h("p", { class: "muted" }, "No signature."),
    facts.length ? h("dl", { class: "mlmodel-facts" }, facts.map(([k, v]) => [h("dt", null, k), h("dd", { class: "mono" }, String(v))])) : null);
  return [summary, h("h4", null, "MLmodel"), ...textView(text, truncated)];
}

/**
 * Fill `container` with the preview of `path` served at `url`.
 * `downloadUrl` serves it as an attachment; `size` (bytes, optional) is shown; `signal` cancels the download.
 */
export async function renderPreview(container, { path, url, downloadUrl = url, size, signal }) {
  const kind = previewKind(path);
  const download = h("a", { class: "button", href: downloadUrl, download: path.split("/").pop(), "data-testid": "artifact-download" }, "Download");
  const head = h("div", { class: "preview-head" },
    h("div", null, h("strong", { class: "mono", "data-testid": "preview-path" }, path),
      size !== undefined && size !== null ? h("span", { class: "muted" }, ` · ${formatBytes(size)}`) : null),
    download);
  const body = h("div", { class: "preview-body", dataset: { kind } });
  container.replaceChildren(head, body);
  if (kind === "image") {
    body.append(h("img", { class: "preview-image", src: url, alt: path, "data-testid": "preview-image" }));
    return;
  }
  body.append(spinner());
  let result;
  try {
    result = await readText(url, { signal });
  } catch (err) {
    if (err.name === "AbortError") return;
    body.replaceChildren(errorBox(err, "Could not load the file"));
    return;
  }
  if (signal?.aborted) return;
  const { text, truncated, binary } = result;
  let view;
  if (binary && kind !== "text") view = note("No preview for this file type: download it to open it.");
  else if (kind === "json") view = jsonView(text, truncated);
  else if (kind === "table") view = tableView(text, truncated, path.toLowerCase().endsWith(".tsv") ? "\t" : ",");
  else if (kind === "mlmodel") view = mlmodelView(text, truncated);
  else view = textView(text, truncated);
  body.replaceChildren(...[view].flat().filter(Boolean));
}
