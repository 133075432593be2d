// The runs view's state as it lives in the URL query, and the filter-grammar helpers built on it.
//
// Query keys: filter, view (active|deleted|all), sort (a column id), dir (asc|desc),
// cols (column ids, comma-separated), group (a column id), open (expanded group values,
// each URI-encoded), sel (selected run ids).
// A column id is "<kind>.<key>" with kind one of attributes, metrics, params, tags; keys may hold
// dots ("tags.mlflow.source.name"), so the id splits at its first dot only.

export const VIEW_TYPES = { active: "ACTIVE_ONLY", deleted: "DELETED_ONLY", all: "ALL" };

/** Split a column id into {kind, key}. */
export function splitColumn(id) {
  const dot = id.indexOf(".");
  return dot < 0 ? { kind: "attributes", key: id } : { kind: id.slice(0, dot), key: id.slice(dot + 1) };
}

const list = (value) => (value ? value.split(",").map((s) => s.trim()).filter(Boolean) : []);

/** Read the view state from the hash query (URLSearchParams). */
export function readState(query) {
  const view = query.get("view");
  const dir = query.get("dir");
  return {
    filter: query.get("filter") || "",
    view: view in VIEW_TYPES ? view : "active",
    sort: query.get("sort") || "",
    dir: dir === "asc" || dir === "desc" ? dir : "desc",
    cols: query.has("cols") ? list(query.get("cols")) : null,
    group: query.get("group") || "",
    open: list(query.get("open")).map((v) => decodeURIComponent(v)),
    sel: list(query.get("sel")),
  };
}

/** The query entries that store `state` (for ctx.setQuery). */
export function stateQuery(state) {
  return {
    filter: state.filter,
    view: state.view === "active" ? null : state.view,
    sort: state.sort || null,
    dir: state.sort ? state.dir : null,
    cols: state.cols,
    group: state.group || null,
    open: state.group ? state.open.map((v) => encodeURIComponent(v)) : null,
    sel: state.sel,
  };
}

// Identifiers the filter grammar accepts bare; anything else goes in backticks.
const BARE_KEY = /^[A-Za-z_][\w.\-/:]*$/;

/** A key as the filter / order_by grammar spells it ("lr", "`my key`"). */
export function quoteKey(key) {
  return BARE_KEY.test(key) ? key : "`" + key.replace(/`/g, "") + "`";
}

/** A string literal of the filter grammar. */
export function quoteValue(value) {
  return "'" + String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

/** The grammar's name for a column ("metrics.loss", "attributes.start_time", "tags.`a b`"). */
export function columnExpr(id) {
  const { kind, key } = splitColumn(id);
  return `${kind}.${quoteKey(key)}`;
}

/** The runs/search order_by clause for a sort state ("" for the server's default order). */
export function orderClause(sort, dir) {
  return sort ? `${columnExpr(sort)} ${dir === "asc" ? "ASC" : "DESC"}` : "";
}

/** The filter that selects one group's runs (value null: the runs without that key). */
export function groupFilter(group, value) {
  const expr = columnExpr(group);
  return value === null ? `${expr} IS NULL` : `${expr} = ${quoteValue(value)}`;
}

/** Join filter clauses with AND, skipping empty ones. */
export function andFilters(...parts) {
  return parts.map((p) => (p || "").trim()).filter(Boolean).join(" and ");
}

/** A page token of runs/search: the server's tokens are base64 of {"offset": N}. */
export function offsetToken(offset) {
  return offset > 0 ? btoa(JSON.stringify({ offset })) : undefined;
}
