// The run page's overview tab: details, description, params, latest metrics, tags, datasets
// and logged models. Sections redraw in place when the run changes (edits, live polling).
import { mlflow } from "../api.js";
import { h, replace, link, viewPath, formatTime, formatDuration, formatNumber, tagValue, debounce } from "../dom.js";
import { errorBox, kvTable, promptDialog, statusBadge, toast } from "../components/ui.js";
import { renderTags } from "./tags.js";
import { renderDatasets } from "./datasets.js";

const NOTE = "mlflow.note.content";

/** Fill `panel` with the overview; returns a dispose function. */
export function renderOverview(panel, { ctx, model, runId }) {
  const details = h("section", { class: "card run-details", "aria-labelledby": "run-details-h" });
  const description = h("section", { class: "card run-description", "aria-labelledby": "run-description-h" });
  const params = h("section", { class: "card", "aria-labelledby": "run-params-h" });
  const metrics = h("section", { class: "card", "aria-labelledby": "run-metrics-h" });
  const tags = h("section", { class: "card", "aria-labelledby": "run-tags-h" });
  const datasets = h("section", { class: "card", "aria-labelledby": "run-datasets-h" });
  const models = h("section", { class: "card", "aria-labelledby": "run-models-h" });

  const paramsView = paramsSection(params, ctx);
  const draw = (run) => {
    drawDetails(details, run, model.experiment);
    drawDescription(description, run, model);
    paramsView.update(run);
    drawMetrics(metrics, run, runId);
    renderTags(tags, run, model);
    renderDatasets(datasets, run);
  };
  draw(model.run);
  drawModels(models, model.run, ctx.signal);
  const unsubscribe = model.subscribe(draw);

  replace(panel, h("div", { class: "run-overview" },
    h("div", { class: "run-overview-col" }, details, description, tags),
    h("div", { class: "run-overview-col" }, params, metrics, datasets, models)));
  return unsubscribe;
}

function drawDetails(section, run, experiment) {
  const info = run.info;
  const tags = run.data?.tags || [];
  const parent = tagValue(tags, "mlflow.parentRunId");
  const commit = tagValue(tags, "mlflow.source.git.commit");
  const sourceName = tagValue(tags, "mlflow.source.name");
  const sourceType = tagValue(tags, "mlflow.source.type");
  const end = info.end_time ? Number(info.end_time) : null;
  const duration = info.start_time ? (end ?? Date.now()) - Number(info.start_time) : null;
  const rows = [
    ["Status", statusBadge(info.status)],
    ["Experiment", link(`/experiments/${info.experiment_id}`, experiment?.name || info.experiment_id, { "data-testid": "run-experiment-link" })],
    ["Started", h("span", { "data-testid": "run-start" }, formatTime(info.start_time))],
    ["Ended", h("span", { "data-testid": "run-end" }, end ? formatTime(end) : "—")],
    ["Duration", h("span", { "data-testid": "run-duration" }, duration === null ? "—" : formatDuration(duration) + (end ? "" : " (running)"))],
    ["User", h("span", { "data-testid": "run-user" }, info.user_id || tagValue(tags, "mlflow.user") || "—")],
    ["Source", sourceName ? h("span", { "data-testid": "run-source" }, h("span", { class: "mono" }, sourceName),
      sourceType ? h("span", { class: "badge source-type" }, sourceType) : null) : "—"],
    commit ? ["Git commit", h("span", { class: "mono", "data-testid": "run-commit", title: commit }, commit.slice(0, 12))] : null,
    parent ? ["Parent run", link(`/runs/${parent}`, parent, { class: "mono", "data-testid": "run-parent-link" })] : null,
    info.lifecycle_stage === "deleted" ? ["Lifecycle", h("span", { class: "badge status-failed" }, "deleted")] : null,
    ["Artifact URI", h("span", { class: "mono" }, info.artifact_uri || "")],
  ].filter(Boolean);
  replace(section, h("h2", { id: "run-details-h" }, "Details"), kvTable(rows));
}

function drawDescription(section, run, model) {
  const text = tagValue(run.data?.tags, NOTE) || "";
  const edit = h("button", { type: "button", class: "small", "data-testid": "edit-description", onclick: async () => {
    const values = await promptDialog("Edit description", [{ name: "text", label: "Description", value: text, multiline: true }]);
    if (!values) return;
    try {
      if (values.text.trim()) await mlflow.post("runs/set-tag", { run_id: run.info.run_id, key: NOTE, value: values.text });
      else if (text) await mlflow.post("runs/delete-tag", { run_id: run.info.run_id, key: NOTE });
      await model.reload();
      toast("Description saved", "success");
    } catch (err) {
      toast(`Could not save the description: ${err.message}`, "error");
    }
  } }, text ? "Edit" : "Add");
  replace(section,
    h("div", { class: "section-head" }, h("h2", { id: "run-description-h" }, "Description"), edit),
    text ? h("div", { class: "description-text", "data-testid": "run-description" }, text)
      : h("p", { class: "muted", "data-testid": "run-description" }, "No description."));
}

/** Params with a search box; the filter is kept in the URL (?pfilter=). */
function paramsSection(section, ctx) {
  let current = [];
  const input = h("input", { type: "search", placeholder: "Search params", "aria-label": "Search params",
    value: ctx.query.get("pfilter") || "", "data-testid": "params-search" });
  const body = h("div");
  const count = h("span", { class: "muted" });
  const draw = () => {
    const q = input.value.trim().toLowerCase();
    const rows = current.filter((p) => !q || p.key.toLowerCase().includes(q) || String(p.value).toLowerCase().includes(q));
    count.textContent = q ? `${rows.length} of ${current.length}` : String(current.length);
    if (!current.length) return replace(body, h("p", { class: "muted" }, "No params."));
    if (!rows.length) return replace(body, h("p", { class: "muted" }, "No params match."));
    replace(body, h("div", { class: "table-wrap compact" }, h("table", { class: "data", "data-testid": "params-table" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Value"))),
      h("tbody", null, rows.map((p) => h("tr", { dataset: { key: p.key } },
        h("td", { class: "mono" }, p.key), h("td", { class: "mono value-cell" }, p.value)))))));
  };
  const store = debounce(() => ctx.setQuery({ pfilter: input.value.trim() }), 300);
  input.addEventListener("input", () => { draw(); store(); });
  replace(section, h("div", { class: "section-head" }, h("h2", { id: "run-params-h" }, "Parameters ", count), input), body);
  return {
    update(run) {
      current = [...(run.data?.params || [])].sort((a, b) => a.key.localeCompare(b.key));
      draw();
    },
  };
}

function drawMetrics(section, run, runId) {
  const metrics = [...(run.data?.metrics || [])].sort((a, b) => a.key.localeCompare(b.key));
  const body = metrics.length
    ? h("div", { class: "table-wrap compact" }, h("table", { class: "data", "data-testid": "latest-metrics" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Metric"), h("th", { scope: "col", class: "num" }, "Latest"),
        h("th", { scope: "col", class: "num" }, "Step"), h("th", { scope: "col" }, "Logged"))),
      h("tbody", null, metrics.map((m) => h("tr", { dataset: { key: m.key } },
        h("td", null, link(viewPath(`/runs/${runId}`, { tab: "metrics", metrics: m.key }), m.key, { class: "mono", title: `Chart of ${m.key}` })),
        h("td", { class: "num mono", "data-testid": "metric-value" }, formatNumber(m.value)),
        h("td", { class: "num" }, String(m.step ?? 0)),
        h("td", { class: "muted nowrap" }, formatTime(m.timestamp)))))))
    : h("p", { class: "muted" }, "No metrics.");
  replace(section, h("h2", { id: "run-metrics-h" }, "Metrics ", h("span", { class: "muted" }, String(metrics.length))), body);
}

/** Models the run produced: its outputs plus logged models whose source run it is. */
async function drawModels(section, run, signal) {
  const heading = h("h2", { id: "run-models-h" }, "Logged models");
  replace(section, heading, h("p", { class: "muted" }, "Loading…"));
  const ids = new Set((run.outputs?.model_outputs || []).map((m) => m.model_id));
  let models = [];
  try {
    const res = await mlflow.post("logged-models/search", {
      experiment_ids: [run.info.experiment_id],
      filter: `source_run_id = '${run.info.run_id}'`,
      max_results: 100,
    }, { signal });
    models = res.models || [];
  } catch (err) {
    if (err.name === "AbortError") return;
    replace(section, heading, errorBox(err, "Could not load logged models"));
    return;
  }
  const known = new Set(models.map((m) => m.info?.model_id));
  const extra = [...ids].filter((id) => !known.has(id));
  if (!models.length && !extra.length) {
    replace(section, heading, h("p", { class: "muted" }, "No logged models."));
    return;
  }
  replace(section, heading, h("div", { class: "table-wrap compact" }, h("table", { class: "data", "data-testid": "logged-models" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Model ID"),
      h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Created"))),
    h("tbody", null,
      models.map((m) => h("tr", null,
        h("td", null, link(`/logged-models/${m.info.model_id}`, m.info.name || m.info.model_id)),
        h("td", { class: "mono" }, m.info.model_id),
        h("td", null, statusBadge(String(m.info.status || "").replace(/^LOGGED_MODEL_/, ""))),
        h("td", { class: "muted nowrap" }, formatTime(m.info.creation_timestamp_ms)))),
      extra.map((id) => h("tr", null, h("td", null, link(`/logged-models/${id}`, id)), h("td", { class: "mono" }, id),
        h("td", null, "—"), h("td", null, "")))))));
}
