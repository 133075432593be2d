// The header shared by an experiment's views (runs, traces): breadcrumbs, name(s) and view tabs.
import { mlflow } from "../api.js";
import { h, tagValue } from "../dom.js";
import { breadcrumbs } from "./ui.js";

/**
 * Load the experiments named by `idsParam` ("1" or "1,2,3") and build their header.
 * `active` is "runs" or "traces". Resolves to {el, experiments, ids}.
 */
export async function experimentHeader(idsParam, active, { signal, actions = null } = {}) {
  const ids = String(idsParam).split(",").map((s) => s.trim()).filter(Boolean);
  const experiments = await Promise.all(
    ids.map((id) => mlflow.get("experiments/get", { experiment_id: id }, { signal }).then((r) => r.experiment)),
  );
  const names = experiments.map((e) => e.name);
  const title = names.length === 1 ? names[0] : `${names.length} experiments`;
  document.title = `${title} · mltrail`;
  const description = experiments.length === 1 ? tagValue(experiments[0].tags, "mlflow.note.content") : null;
  const base = `/experiments/${ids.join(",")}`;
  const tab = (id, label, path) => h("a", { href: "#" + path, dataset: { tab: id },
    "aria-current": active === id ? "page" : null }, label);
  const el = h("div", { class: "experiment-header" },
    breadcrumbs([["Experiments", "/experiments"], [title, null]]),
    h("div", { class: "page-header" },
      h("div", null,
        h("h1", { "data-testid": "experiment-title" }, title),
        names.length > 1 ? h("div", { class: "muted" }, names.join(" · ")) : null,
        experiments.length === 1 ? h("div", { class: "muted" },
          `ID ${experiments[0].experiment_id}`,
          experiments[0].lifecycle_stage === "deleted" ? h("span", { class: "badge status-failed" }, "deleted") : null,
          experiments[0].artifact_location ? h("span", { class: "mono" }, ` · ${experiments[0].artifact_location}`) : null) : null,
        description ? h("p", { class: "experiment-description" }, description) : null),
      actions ? h("div", { class: "actions" }, actions) : null),
    h("nav", { class: "tabs", "aria-label": "Experiment views" },
      tab("runs", "Runs", base), tab("traces", "Traces", `${base}/traces`)));
  return { el, experiments, ids };
}
