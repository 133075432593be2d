// The datasets a run used (run inputs): name, digest, context, source, schema and profile.
import { h, replace, tagValue } from "../dom.js";

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A readable source: the URI/path inside the source JSON when there is one. */
function sourceText(dataset) {
  const parsed = parseJson(dataset.source);
  if (parsed && typeof parsed === "object") {
    return parsed.uri || parsed.url || parsed.path || parsed.table_name || JSON.stringify(parsed);
  }
  return dataset.source || "";
}

function schemaView(schemaText) {
  const schema = parseJson(schemaText);
  const cols = schema?.mlflow_colspec || schema?.mlflow_tensorspec;
  if (Array.isArray(cols)) {
    return h("ul", { class: "schema-list" }, cols.map((c) => h("li", null,
      h("span", { class: "mono" }, c.name ?? "(unnamed)"), ": ", h("span", { class: "muted" }, c.type || c.dtype || "?"))));
  }
  return schemaText ? h("pre", null, schema ? JSON.stringify(schema, null, 2) : schemaText) : null;
}

/** Fill `section` with the run's dataset inputs. */
export function renderDatasets(section, run) {
  const inputs = run.inputs?.dataset_inputs || [];
  const heading = h("h2", { id: "run-datasets-h" }, "Datasets ", h("span", { class: "muted" }, String(inputs.length)));
  if (!inputs.length) return replace(section, heading, h("p", { class: "muted" }, "No datasets."));
  replace(section, heading, h("ul", { class: "dataset-list", "data-testid": "datasets" }, inputs.map(({ dataset, tags }) => {
    const context = tagValue(tags, "mlflow.data.context");
    const profile = parseJson(dataset.profile);
    return h("li", { class: "dataset", dataset: { name: dataset.name } },
      h("div", { class: "dataset-head" },
        h("strong", null, dataset.name),
        context ? h("span", { class: "badge" }, context) : null,
        h("span", { class: "mono muted", title: "Digest" }, dataset.digest)),
      h("div", { class: "muted" }, dataset.source_type ? `${dataset.source_type}: ` : "", h("span", { class: "mono" }, sourceText(dataset))),
      dataset.schema || dataset.profile ? h("details", null, h("summary", null, "Schema and profile"),
        dataset.schema ? [h("h4", null, "Schema"), schemaView(dataset.schema)] : null,
        dataset.profile ? [h("h4", null, "Profile"), h("pre", null, profile ? JSON.stringify(profile, null, 2) : dataset.profile)] : null) : null);
  })));
}
