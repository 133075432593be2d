// The MLmodel file: a small reader for the YAML subset model files use (block mappings and
// sequences, plain/quoted/block scalars, flow collections) and a readable view of it:
// flavors, signature, and the raw text.
import { h, formatBytes } from "../dom.js";
import { kvTable } from "../components/ui.js";
import { runLink } from "./common.js";

/**
 * Parse YAML block documents as written by model tools (PyYAML's default style).
 * Throws an Error when the text uses a construct outside this subset.
 */
export function parseYaml(text) {
  const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
  let pos = 0;

  const indentOf = (line) => line.length - line.trimStart().length;
  const isBlank = (line) => {
    const t = line.trim();
    return t === "" || t.startsWith("#") || t === "---" || t === "...";
  };
  function peek() {
    while (pos < lines.length && isBlank(lines[pos])) pos++;
    return pos < lines.length ? lines[pos] : null;
  }
  const isSeqItem = (t) => t === "-" || t.startsWith("- ");

  function parseBlock(minIndent) {
    const line = peek();
    if (line === null || indentOf(line) < minIndent) return null;
    const n = indentOf(line);
    return isSeqItem(line.trim()) ? parseSeq(n) : parseMap(n);
  }

  function splitKey(t) {
    if (t[0] === '"' || t[0] === "'") {
      const [key, end] = readQuoted(t, 0);
      const rest = t.slice(end).trimStart();
      if (!rest.startsWith(":")) throw new Error(`Expected ':' after key in: ${t}`);
      return [key, rest.slice(1).trim()];
    }
    const m = /^([^:#]*?[^\s:]?)\s*:(\s+|$)/.exec(t);
    if (!m) return null;
    return [m[1].trim(), t.slice(m[0].length).trim()];
  }

  function parseMap(n) {
    const obj = {};
    for (;;) {
      const line = peek();
      if (line === null || indentOf(line) !== n || isSeqItem(line.trim())) break;
      const kv = splitKey(line.trim());
      if (!kv) throw new Error(`Expected "key: value" at line ${pos + 1}`);
      pos++;
      const [key, rest] = kv;
      obj[key] = valueAfterKey(rest, n);
    }
    return obj;
  }

  function valueAfterKey(rest, n) {
    if (rest === "" || rest.startsWith("#")) {
      const next = peek();
      if (next === null) return null;
      const ni = indentOf(next);
      if (ni > n) return parseBlock(ni);
      if (ni === n && isSeqItem(next.trim())) return parseSeq(n); // "key:\n- a" (same-column list)
      return null;
    }
    if (/^[|>][-+0-9]*$/.test(rest)) return blockScalar(rest, n);
    return scalarFrom(rest, n);
  }

  function parseSeq(n) {
    const arr = [];
    for (;;) {
      const line = peek();
      if (line === null || indentOf(line) !== n || !isSeqItem(line.trim())) break;
      const content = line.trim().slice(1).trimStart();
      if (content === "") {
        pos++;
        const next = peek();
        arr.push(next !== null && indentOf(next) > n ? parseBlock(indentOf(next)) : null);
        continue;
      }
      const column = n + (line.trim().length - content.length);
      if (isSeqItem(content) || (!/^["'[{]/.test(content) && splitKey(content))) {
        // "- key: value" or "- - x": the item is a block starting at the content's column.
        lines[pos] = " ".repeat(column) + content;
        arr.push(parseBlock(column));
        continue;
      }
      pos++;
      arr.push(scalarFrom(content, n));
    }
    return arr;
  }

  function blockScalar(header, n) {
    const body = [];
    let blockIndent = null;
    while (pos < lines.length) {
      const line = lines[pos];
      if (line.trim() === "") { body.push(""); pos++; continue; }
      const ind = indentOf(line);
      if (ind <= n) break;
      if (blockIndent === null) blockIndent = ind;
      body.push(line.slice(Math.min(blockIndent, ind)));
      pos++;
    }
    while (body.length && body[body.length - 1] === "") body.pop();
    const keep = header.includes("-") ? "" : "\n";
    if (header[0] === "|") return body.join("\n") + keep;
    return body.map((l) => (l === "" ? "\n" : l)).join(" ").replace(/ ?\n ?/g, "\n") + keep;
  }

  /** A scalar or flow collection that starts on the current line and may continue below. */
  function scalarFrom(first, n) {
    let text = first;
    if (text[0] === '"' || text[0] === "'") {
      while (!quoteClosed(text) && pos < lines.length) {
        const next = lines[pos++];
        text += next.trim() === "" ? "\n" : (text.endsWith("\n") ? "" : " ") + next.trim();
      }
      return readQuoted(text, 0)[0];
    }
    if (text[0] === "[" || text[0] === "{") {
      while (!flowClosed(text) && pos < lines.length) text += " " + lines[pos++].trim();
      return new FlowReader(text).value();
    }
    // A long plain scalar continues on more-indented lines.
    for (;;) {
      const next = pos < lines.length ? lines[pos] : null;
      if (next === null || next.trim() === "" || indentOf(next) <= n) break;
      text += " " + next.trim();
      pos++;
    }
    return plainValue(text.replace(/\s+#.*$/, ""));
  }

  const value = parseBlock(0);
  if (peek() !== null) throw new Error(`Unexpected content at line ${pos + 1}`);
  return value;
}

function quoteClosed(text) {
  try {
    readQuoted(text, 0);
    return true;
  } catch {
    return false;
  }
}

/** Read a quoted scalar at `start`; returns [value, index after the closing quote]. */
function readQuoted(text, start) {
  const q = text[start];
  let out = "";
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (q === "'") {
      if (ch === "'") {
        if (text[i + 1] === "'") { out += "'"; i++; continue; }
        return [out, i + 1];
      }
      out += ch;
      continue;
    }
    if (ch === "\\") {
      const next = text[++i];
      const simple = { n: "\n", t: "\t", r: "\r", "0": "\0", '"': '"', "\\": "\\", "/": "/", " ": " ", e: "\x1b" };
      if (next in simple) out += simple[next];
      else if (next === "x" || next === "u" || next === "U") {
        const len = { x: 2, u: 4, U: 8 }[next];
        out += String.fromCodePoint(parseInt(text.slice(i + 1, i + 1 + len), 16));
        i += len;
      } else out += next ?? "";
      continue;
    }
    if (ch === '"') return [out, i + 1];
    out += ch;
  }
  throw new Error("Unterminated quoted string");
}

function flowClosed(text) {
  let depth = 0;
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\" && quote === '"') i++;
      else if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
  }
  return depth <= 0;
}

/** A plain scalar's value: null, booleans and numbers as YAML 1.1 core types, else the string. */
function plainValue(text) {
  const t = text.trim();
  if (t === "" || t === "~" || t === "null" || t === "Null" || t === "NULL") return null;
  if (/^(true|True|TRUE)$/.test(t)) return true;
  if (/^(false|False|FALSE)$/.test(t)) return false;
  if (/^[-+]?\d+$/.test(t)) return Number(t);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(t)) return Number(t);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^\.(nan|NaN|NAN)$/.test(t)) return NaN;
  return t;
}

/** Flow collections: [a, b], {k: v}, nested, with quoted or plain scalars. */
class FlowReader {
  constructor(text) {
    this.text = text;
    this.i = 0;
  }

  value() {
    const v = this.item();
    this.space();
    if (this.i < this.text.length && !this.text.slice(this.i).trim().startsWith("#")) {
      throw new Error(`Unexpected text after flow collection: ${this.text.slice(this.i)}`);
    }
    return v;
  }

  space() {
    while (this.i < this.text.length && /\s/.test(this.text[this.i])) this.i++;
  }

  item() {
    this.space();
    const ch = this.text[this.i];
    if (ch === "[") return this.list();
    if (ch === "{") return this.map();
    if (ch === '"' || ch === "'") {
      const [v, end] = readQuoted(this.text, this.i);
      this.i = end;
      return v;
    }
    const m = /^[^,\]}:]*(:(?!\s)[^,\]}:]*)*/.exec(this.text.slice(this.i));
    this.i += m[0].length;
    return plainValue(m[0]);
  }

  expect(ch) {
    this.space();
    if (this.text[this.i] !== ch) throw new Error(`Expected '${ch}' in flow collection`);
    this.i++;
  }

  list() {
    this.expect("[");
    const out = [];
    this.space();
    if (this.text[this.i] === "]") { this.i++; return out; }
    for (;;) {
      out.push(this.item());
      this.space();
      if (this.text[this.i] === ",") { this.i++; this.space(); if (this.text[this.i] === "]") { this.i++; return out; } continue; }
      this.expect("]");
      return out;
    }
  }

  map() {
    this.expect("{");
    const out = {};
    this.space();
    if (this.text[this.i] === "}") { this.i++; return out; }
    for (;;) {
      const key = this.item();
      this.expect(":");
      out[String(key)] = this.item();
      this.space();
      if (this.text[this.i] === ",") { this.i++; continue; }
      this.expect("}");
      return out;
    }
  }
}

// -- the view --------------------------------------------------------------------------------

/** Show a value compactly: scalars as text, collections as JSON. */
function show(value) {
  if (value === null || value === undefined) return h("span", { class: "muted" }, "—");
  if (typeof value === "object") return h("code", null, JSON.stringify(value));
  return String(value);
}

/** Flatten a nested mapping into [["env.conda", "conda.yaml"], ...] rows. */
function flatten(obj, prefix = "") {
  const rows = [];
  for (const [k, v] of Object.entries(obj || {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length) rows.push(...flatten(v, key));
    else rows.push([key, v]);
  }
  return rows;
}

/** A signature part (inputs/outputs/params) is a JSON string of column or tensor specs. */
function specRows(part) {
  let specs = part;
  if (typeof part === "string") {
    try { specs = JSON.parse(part); } catch { return null; }
  }
  if (!Array.isArray(specs)) return null;
  return specs.map((s) => {
    if (s.type === "tensor" && s["tensor-spec"]) {
      const t = s["tensor-spec"];
      return [s.name ?? "", `tensor (${t.dtype})`, `shape [${(t.shape || []).join(", ")}]`];
    }
    const details = [];
    if (s.required === false) details.push("optional");
    if (s.default !== undefined) details.push(`default ${JSON.stringify(s.default)}`);
    if (s.shape) details.push(`shape [${s.shape.join(", ")}]`);
    if (s.items) details.push(`items ${JSON.stringify(s.items)}`);
    if (s.properties) details.push(`properties ${JSON.stringify(s.properties)}`);
    return [s.name ?? "", s.type ?? "", details.join(", ")];
  });
}

function signatureView(signature) {
  const parts = ["inputs", "outputs", "params"].filter((p) => signature[p]);
  if (!parts.length) return h("p", { class: "muted" }, "No signature.");
  return h("div", { class: "signature", "data-testid": "mlmodel-signature" }, parts.map((part) => {
    const rows = specRows(signature[part]);
    return h("div", { class: "signature-part" }, h("h4", null, part[0].toUpperCase() + part.slice(1)),
      rows === null ? h("pre", null, String(signature[part]))
        : h("table", { class: "data compact" },
          h("thead", null, h("tr", null, h("th", null, "Name"), h("th", null, "Type"), h("th", null, "Details"))),
          h("tbody", null, rows.map((r) => h("tr", null,
            h("td", { class: "mono" }, r[0] || h("span", { class: "muted" }, "(unnamed)")),
            h("td", { class: "mono" }, r[1]), h("td", null, r[2]))))));
  }));
}

/** The readable view of an MLmodel file's text (with the raw text below). */
export function mlmodelView(text) {
  const raw = h("details", { class: "mlmodel-raw" }, h("summary", null, "MLmodel file"), h("pre", { "data-testid": "mlmodel-raw" }, text));
  let doc;
  try {
    doc = parseYaml(text);
  } catch (err) {
    raw.open = true;
    return h("div", { class: "mlmodel", "data-testid": "mlmodel" },
      h("p", { class: "muted" }, `Shown as text (${err.message}).`), raw);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) {
    raw.open = true;
    return h("div", { class: "mlmodel", "data-testid": "mlmodel" }, raw);
  }
  const summary = [];
  if (doc.model_id) summary.push(["Model ID", h("span", { class: "mono" }, doc.model_id)]);
  if (doc.run_id) summary.push(["Run", runLink(doc.run_id, doc.run_id)]);
  if (doc.utc_time_created) summary.push(["Created (UTC)", String(doc.utc_time_created)]);
  if (doc.model_size_bytes !== undefined && doc.model_size_bytes !== null) summary.push(["Size", formatBytes(doc.model_size_bytes)]);
  if (doc.mltrail_version) summary.push(["mltrail version", String(doc.mltrail_version)]);
  if (doc.mlflow_version) summary.push(["MLflow version", String(doc.mlflow_version)]);
  if (doc.saved_input_example_info) summary.push(["Input example", show(doc.saved_input_example_info.artifact_path ?? doc.saved_input_example_info)]);
  const flavors = doc.flavors && typeof doc.flavors === "object" ? Object.entries(doc.flavors) : [];
  return h("div", { class: "mlmodel", "data-testid": "mlmodel" },
    summary.length ? kvTable(summary) : null,
    h("h3", null, `Flavors (${flavors.length})`),
    flavors.length ? h("div", { class: "flavors" }, flavors.map(([name, conf]) =>
      h("div", { class: "flavor", "data-testid": "mlmodel-flavor", dataset: { flavor: name } },
        h("h4", { class: "mono" }, name),
        conf && typeof conf === "object" && Object.keys(conf).length
          ? kvTable(flatten(conf).map(([k, v]) => [k, show(v)]))
          : h("p", { class: "muted" }, "No options.")))) : h("p", { class: "muted" }, "No flavors."),
    h("h3", null, "Signature"),
    doc.signature && typeof doc.signature === "object" ? signatureView(doc.signature) : h("p", { class: "muted" }, "No signature."),
    doc.metadata && typeof doc.metadata === "object" ? [h("h3", null, "Metadata"), kvTable(flatten(doc.metadata).map(([k, v]) => [k, show(v)]))] : null,
    raw);
}
