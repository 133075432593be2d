// The experiments list: server-side search by name, sortable columns, paging, create / rename /
// delete / restore, and a checkbox per row to open several experiments together.
// URL query: q (name search), sort + dir, deleted=1 (include deleted experiments).
import { mlflow } from "../api.js";
import { debounce, formatAgo, formatTime, h, link } from "../dom.js";
import { ensureStyles } from "../components/styles.js";
import { confirmDialog, emptyState, errorBox, promptDialog, spinner, toast } from "../components/ui.js";

const PAGE_SIZE = 50;
const COLUMNS = [
  { id: "name", label: "Name", descFirst: false },
  { id: "experiment_id", label: "ID", descFirst: false },
  { id: "last_update_time", label: "Last update", descFirst: true },
  { id: "creation_time", label: "Created", descFirst: true },
];

/** The experiments/search filter for a name search ("" for none). */
function nameFilter(text) {
  const q = text.trim();
  if (!q) return "";
  return `name ILIKE '%${q.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}%'`;
}

export async function render(ctx) {
  const { signal } = ctx;
  const styles = ensureStyles("experiments");
  document.title = "Experiments · mltrail";
  const state = {
    q: ctx.query.get("q") || "",
    sort: COLUMNS.some((c) => c.id === ctx.query.get("sort")) ? ctx.query.get("sort") : "",
    dir: ctx.query.get("dir") === "asc" ? "asc" : "desc",
    deleted: ctx.query.get("deleted") === "1",
  };
  const selected = new Set();
  let experiments = [];
  let nextToken = null;
  let generation = 0;

  const search = h("input", { type: "search", id: "experiment-search", class: "experiments-search", value: state.q, autocomplete: "off",
    placeholder: "Search experiments by name", "data-testid": "experiment-search" });
  const showDeleted = h("input", { type: "checkbox", checked: state.deleted, "data-testid": "show-deleted",
    onchange: () => { state.deleted = showDeleted.checked; sync(true); load(); } });
  const openButton = h("button", { type: "button", "data-testid": "open-selected", onclick: () => {
    ctx.navigate(`/experiments/${[...selected].join(",")}`);
  } }, "Open selected");
  const selectedLabel = h("span", { class: "muted", "aria-live": "polite" });
  const thead = h("thead");
  const tbody = h("tbody");
  const table = h("table", { class: "data experiments-table", "data-testid": "experiments-table" },
    h("caption", { class: "sr-only" }, "Experiments"), thead, tbody);
  const status = h("div", { class: "experiments-status" });
  const more = h("div", { class: "experiments-more" });

  ctx.root.replaceChildren(
    h("div", { class: "page-header" },
      h("div", null, h("h1", null, "Experiments"),
        h("p", { class: "muted" }, "Pick an experiment to see its runs, or tick several to view them together.")),
      h("div", { class: "actions" }, h("button", { type: "button", class: "primary", "data-testid": "create-experiment",
        onclick: createExperiment }, "New experiment"))),
    h("div", { class: "toolbar" },
      h("label", { class: "sr-only", for: "experiment-search" }, "Search experiments by name"),
      h("div", { class: "grow" }, search),
      h("label", { class: "checkbox" }, showDeleted, "Show deleted"),
      selectedLabel, openButton),
    h("div", { class: "table-wrap" }, table),
    status, more);

  function sync(push = false) {
    ctx.setQuery({ q: state.q, sort: state.sort, dir: state.sort ? state.dir : null, deleted: state.deleted ? "1" : null },
      { push });
  }

  search.addEventListener("input", debounce(() => {
    if (search.value === state.q) return;
    state.q = search.value;
    sync();
    load();
  }, 300));
  search.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter") return;
    state.q = search.value;
    sync();
    load();
  });

  function renderHead() {
    thead.replaceChildren(h("tr", null,
      h("th", { scope: "col", class: "select-col" }, h("span", { class: "sr-only" }, "Select")),
      COLUMNS.map((c) => {
        const active = state.sort === c.id;
        return h("th", { scope: "col", class: "sortable", "aria-sort": active ? (state.dir === "asc" ? "ascending" : "descending") : "none",
          dataset: { column: c.id } },
          h("button", { type: "button", class: "sort-button", onclick: () => sortBy(c) }, c.label));
      }),
      h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions"))));
  }

  function sortBy(col) {
    if (state.sort === col.id) state.dir = state.dir === "desc" ? "asc" : "desc";
    else { state.sort = col.id; state.dir = col.descFirst ? "desc" : "asc"; }
    sync(true);
    renderHead();
    load();
  }

  function updateSelection() {
    selectedLabel.textContent = selected.size ? `${selected.size} selected` : "";
    openButton.disabled = selected.size === 0;
    openButton.textContent = selected.size > 1 ? `Open ${selected.size} together` : "Open selected";
  }

  function row(exp) {
    const id = exp.experiment_id;
    const deleted = exp.lifecycle_stage === "deleted";
    const box = h("input", { type: "checkbox", checked: selected.has(id), "aria-label": `Select ${exp.name}`,
      onchange: () => { if (box.checked) selected.add(id); else selected.delete(id); updateSelection(); } });
    return h("tr", { "data-testid": "experiment-row", dataset: { experimentId: id }, class: deleted ? "deleted" : null },
      h("td", { class: "select-col" }, box),
      h("td", null, link(`/experiments/${encodeURIComponent(id)}`, exp.name, { class: "experiment-link" }),
        deleted ? h("span", { class: "badge status-failed" }, "deleted") : null),
      h("td", { class: "mono" }, id),
      h("td", { title: formatTime(exp.last_update_time) }, formatAgo(exp.last_update_time)),
      h("td", null, formatTime(exp.creation_time)),
      h("td", { class: "row-actions" },
        deleted
          ? h("button", { type: "button", onclick: () => restore(exp) }, "Restore")
          : [h("button", { type: "button", onclick: () => rename(exp), "aria-label": `Rename ${exp.name}` }, "Rename"),
            h("button", { type: "button", class: "danger", onclick: () => remove(exp), "aria-label": `Delete ${exp.name}` }, "Delete")]));
  }

  function renderRows() {
    tbody.replaceChildren(...experiments.map(row));
    if (!experiments.length) {
      status.replaceChildren(emptyState(state.q ? `No experiment name contains “${state.q}”.` : "No experiments yet.",
        state.q ? null : h("button", { type: "button", class: "primary", onclick: createExperiment }, "Create one")));
    } else status.replaceChildren();
    more.replaceChildren(nextToken
      ? h("button", { type: "button", "data-testid": "load-more", onclick: () => load(true) }, "Load more") : "");
  }

  async function load(append = false) {
    const gen = ++generation;
    if (!append) status.replaceChildren(spinner());
    table.setAttribute("aria-busy", "true");
    try {
      const res = await mlflow.post("experiments/search", {
        max_results: PAGE_SIZE,
        filter: nameFilter(state.q) || undefined,
        order_by: state.sort ? [`${state.sort} ${state.dir.toUpperCase()}`] : undefined,
        view_type: state.deleted ? "ALL" : "ACTIVE_ONLY",
        page_token: append ? nextToken : undefined,
      }, { signal });
      if (gen !== generation) return;
      experiments = append ? [...experiments, ...(res.experiments || [])] : res.experiments || [];
      nextToken = res.next_page_token || null;
      renderRows();
    } catch (err) {
      if (err?.name === "AbortError" || gen !== generation) return;
      status.replaceChildren(errorBox(err, "Could not load experiments"));
    } finally {
      if (gen === generation) table.removeAttribute("aria-busy");
    }
  }

  async function createExperiment() {
    let created = null;
    const values = await promptDialog("New experiment", [
      { name: "name", label: "Name", required: true },
      { name: "artifact_location", label: "Artifact location (optional)", placeholder: "default: the server's artifact root" },
    ], {
      submitLabel: "Create",
      validate: async (v) => {
        if (!v.name.trim()) return "A name is required.";
        try {
          const res = await mlflow.post("experiments/create", { name: v.name.trim(),
            artifact_location: v.artifact_location.trim() || undefined });
          created = res.experiment_id;
          return null;
        } catch (err) {
          return err.message;
        }
      },
    });
    if (!values) return;
    toast(`Created experiment “${values.name.trim()}”`, "success");
    await load();
    if (created) {
      const el = tbody.querySelector(`[data-experiment-id="${CSS.escape(created)}"] a`);
      if (el) el.focus();
    }
  }
  async function rename(exp) {
    const values = await promptDialog(`Rename “${exp.name}”`, [{ name: "name", label: "New name", value: exp.name, required: true }], {
      submitLabel: "Rename",
      validate: async (v) => {
        if (!v.name.trim()) return "A name is required.";
        if (v.name.trim() === exp.name) return null;
        try {
          await mlflow.post("experiments/update", { experiment_id: exp.experiment_id, new_name: v.name.trim() });
          return null;
        } catch (err) {
          return err.message;
        }
      },
    });
    if (!values || values.name.trim() === exp.name) return;
    toast(`Renamed to “${values.name.trim()}”`, "success");
    await load();
  }

  async function remove(exp) {
    const ok = await confirmDialog(`Delete “${exp.name}”?`,
      "The experiment and its runs move to the deleted list; they can be restored until garbage collection.",
      { confirmLabel: "Delete", danger: true });
    if (!ok) return;
    try {
      await mlflow.post("experiments/delete", { experiment_id: exp.experiment_id }, { signal });
      selected.delete(exp.experiment_id);
      updateSelection();
      toast(`Deleted “${exp.name}”`, "success");
      await load();
    } catch (err) {
      if (err?.name !== "AbortError") toast(err.message, "error");
    }
  }

  async function restore(exp) {
    try {
      await mlflow.post("experiments/restore", { experiment_id: exp.experiment_id }, { signal });
      toast(`Restored “${exp.name}”`, "success");
      await load();
    } catch (err) {
      if (err?.name !== "AbortError") toast(err.message, "error");
    }
  }

  renderHead();
  updateSelection();
  await styles;
  await load();
}
