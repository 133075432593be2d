// #/models: the registered models, filtered by name, sorted and paged by the server.
// View state (filter, order, page, page size) lives in the URL query: q, sort, page, size.
import { mlflow } from "../api.js";
import { debounce, formatAgo, formatTime, h, link, replace } from "../dom.js";
import { confirmDialog, emptyState, errorBox, promptDialog, toast } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import { aliasBadge, modelPath, reportError, stageBadge, versionPath } from "../registry/common.js";

const SORTABLE = { name: "Name", last_updated_timestamp: "Last modified" };
const DEFAULT_SORT = "name ASC";
const PAGE_SIZES = [10, 25, 50, 100];

/** A registered-models filter matching names that contain `text` (case-insensitive). */
export function nameFilter(text) {
  const t = text.trim();
  return t ? `name ILIKE '%${t.replaceAll("'", "''")}%'` : "";
}

function parseSort(value) {
  const [column, dir] = String(value || DEFAULT_SORT).split(" ");
  return SORTABLE[column] ? { column, dir: dir === "DESC" ? "DESC" : "ASC" } : parseSort(DEFAULT_SORT);
}

export async function render(ctx) {
  const { root, query, signal, setQuery } = ctx;
  document.title = "Models · mltrail";
  await ensureStyles("registry");

  const state = {
    q: query.get("q") || "",
    sort: parseSort(query.get("sort")),
    page: Math.max(1, parseInt(query.get("page") || "1", 10) || 1),
    size: PAGE_SIZES.includes(Number(query.get("size"))) ? Number(query.get("size")) : 25,
  };
  // tokens[i] is the page token that fetches page i + 1; reset whenever filter/order/size change.
  let tokens = [undefined];
  let loadSeq = 0;

  const search = h("input", { type: "search", class: "grow", placeholder: "Filter models by name", "aria-label": "Filter models by name",
    autocomplete: "off", value: state.q, "data-testid": "models-search" });
  const size = h("select", { "aria-label": "Models per page" }, PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.size }, `${n} per page`)));
  const tableHost = h("div", { class: "table-wrap", "data-testid": "models-table", dataset: { state: "loading" } });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });

  replace(root,
    h("div", { class: "page-header" },
      h("div", null, h("h1", null, "Registered models"),
        h("p", { class: "muted" }, "Named models with versions, aliases and stages.")),
      h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: createModel }, "Create model"))),
    h("div", { class: "toolbar" }, search, size),
    tableHost, pager);

  const onSearch = debounce(() => {
    state.q = search.value;
    state.page = 1;
    tokens = [undefined];
    setQuery({ q: state.q, page: null });
    load();
  }, 300);
  search.addEventListener("input", onSearch);
  size.addEventListener("change", () => {
    state.size = Number(size.value);
    state.page = 1;
    tokens = [undefined];
    setQuery({ size: state.size === 25 ? null : state.size, page: null });
    load();
  });

  async function fetchPage(token) {
    return mlflow.get("registered-models/search", {
      filter: nameFilter(state.q) || undefined,
      max_results: state.size,
      order_by: [`${state.sort.column} ${state.sort.dir}`],
      page_token: token,
    }, { signal });
  }

  async function load() {
    const seq = ++loadSeq;
    tableHost.dataset.state = "loading";
    tableHost.setAttribute("aria-busy", "true");
    try {
      // Walk forward to the wanted page when its token is not known yet (e.g. a restored URL).
      // `list` is this load's token list: a newer load (new filter/order) starts its own.
      const list = tokens;
      let page = null;
      while (list.length < state.page) {
        page = await fetchPage(list[list.length - 1]);
        if (seq !== loadSeq) return;
        if (!page.next_page_token) break;
        list.push(page.next_page_token);
      }
      if (state.page > list.length) {
        // The URL asked for a page past the end (models were deleted meanwhile): show the last.
        state.page = list.length;
        setQuery({ page: state.page === 1 ? null : state.page });
      }
      page = await fetchPage(list[state.page - 1]);
      if (seq !== loadSeq) return;
      if (page.next_page_token) list[state.page] = page.next_page_token;
      else list.length = state.page;
      showTable(page.registered_models || []);
      showPager(!!page.next_page_token);
      tableHost.dataset.state = "ready";
    } catch (err) {
      if (err.name === "AbortError" || seq !== loadSeq) return;
      replace(tableHost, errorBox(err, "Could not load models"));
      replace(pager);
      tableHost.dataset.state = "error";
    } finally {
      if (seq === loadSeq) tableHost.removeAttribute("aria-busy");
    }
  }

  function header(column, label) {
    if (!SORTABLE[column]) return h("th", { scope: "col" }, label);
    const active = state.sort.column === column;
    const sort = active ? (state.sort.dir === "ASC" ? "ascending" : "descending") : "none";
    return h("th", { scope: "col", class: "sortable", "aria-sort": sort, dataset: { column } },
      h("button", { type: "button", class: "header-button", onclick: () => sortBy(column) }, label));
  }

  function sortBy(column) {
    const active = state.sort.column === column;
    const dir = active ? (state.sort.dir === "ASC" ? "DESC" : "ASC") : (column === "name" ? "ASC" : "DESC");
    state.sort = { column, dir };
    state.page = 1;
    tokens = [undefined];
    const value = `${column} ${dir}`;
    setQuery({ sort: value === DEFAULT_SORT ? null : value, page: null });
    load();
  }

  function showTable(models) {
    if (!models.length) {
      replace(tableHost, state.q
        ? emptyState(`No models match "${state.q}".`)
        : emptyState("No registered models yet.", h("button", { type: "button", class: "primary", onclick: createModel }, "Create model")));
      return;
    }
    replace(tableHost, h("table", { class: "data models-table" },
      h("thead", null, h("tr", null,
        header("name", "Name"), header("latest", "Latest versions"), header("aliases", "Aliases"),
        header("last_updated_timestamp", "Last modified"), header("tags", "Tags"), header("description", "Description"),
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
      h("tbody", null, models.map(modelRow))));
  }

  function modelRow(m) {
    const latest = [...(m.latest_versions || [])].sort((a, b) => Number(b.version) - Number(a.version));
    const description = (m.description || "").trim().split("\n")[0];
    return h("tr", { "data-testid": "model-row", dataset: { modelName: m.name } },
      h("td", null, link(modelPath(m.name), m.name, { class: "model-name" })),
      h("td", null, latest.length ? h("div", { class: "badge-list" }, latest.map((v) =>
        h("a", { href: "#" + versionPath(m.name, v.version), class: "version-chip", title: `Latest in stage ${v.current_stage}` },
          `v${v.version}`, v.current_stage && v.current_stage !== "None" ? stageBadge(v.current_stage) : null)))
        : h("span", { class: "muted" }, "—")),
      h("td", null, (m.aliases || []).length ? h("div", { class: "badge-list" }, m.aliases.map((a) =>
        h("a", { href: "#" + versionPath(m.name, a.version), class: "alias-link" }, aliasBadge(a.alias), ` v${a.version}`)))
        : h("span", { class: "muted" }, "—")),
      h("td", { class: "nowrap", title: formatTime(m.last_updated_timestamp) }, formatAgo(m.last_updated_timestamp)),
      h("td", null, (m.tags || []).filter((t) => !t.key.startsWith("mlflow.")).map((t) =>
        h("span", { class: "chip" }, h("span", { class: "mono" }, t.key), t.value ? `: ${t.value}` : ""))),
      h("td", { class: "description-snippet", title: m.description || "" }, description.length > 90 ? description.slice(0, 90) + "…" : description),
      h("td", { class: "row-actions" }, h("button", { type: "button", class: "link danger-link", "aria-label": `Delete model ${m.name}`,
        onclick: () => deleteModel(m.name) }, "Delete")));
  }

  function showPager(hasNext) {
    replace(pager,
      h("button", { type: "button", disabled: state.page <= 1, onclick: () => goto(state.page - 1) }, "Previous"),
      h("span", { class: "muted", "data-testid": "models-page" }, `Page ${state.page}`),
      h("button", { type: "button", disabled: !hasNext, onclick: () => goto(state.page + 1) }, "Next"));
  }

  function goto(page) {
    state.page = page;
    setQuery({ page: page === 1 ? null : page });
    load();
  }

  async function createModel() {
    let created = null;
    const values = await promptDialog("Create registered model", [
      { name: "name", label: "Name", required: true, placeholder: "e.g. churn-classifier" },
      { name: "description", label: "Description (optional)", multiline: true },
    ], {
      submitLabel: "Create",
      validate: async (v) => {
        if (!v.name.trim()) return "A name is required.";
        try {
          const body = { name: v.name.trim() };
          if (v.description.trim()) body.description = v.description;
          created = (await mlflow.post("registered-models/create", body)).registered_model;
          return null;
        } catch (err) {
          return err.message;
        }
      },
    });
    if (values && created) {
      toast(`Model "${created.name}" created`, "success");
      ctx.navigate(modelPath(created.name));
    }
  }

  async function deleteModel(name) {
    const ok = await confirmDialog("Delete model",
      `Delete the registered model "${name}" with all its versions and aliases? This cannot be undone.`,
      { confirmLabel: "Delete", danger: true });
    if (!ok) return;
    try {
      await mlflow.delete("registered-models/delete", { name });
      toast(`Model "${name}" deleted`, "success");
      load();
    } catch (err) {
      reportError(err, `Could not delete "${name}"`);
    }
  }

  await load();
}
