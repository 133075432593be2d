// The run page (#/runs/:runId): overview, metric charts and artifacts, in tabs kept in the URL.
// A run that is still RUNNING is polled so its status, latest metrics and charts move on their own.
import { mlflow } from "../api.js";
import { h, replace, copyText } from "../dom.js";
import { breadcrumbs, errorBox, promptDialog, statusBadge, tabs, toast } from "../components/ui.js";
import { ensureStyles } from "../components/styles.js";
import { renderOverview } from "../run/overview.js";
import { renderMetricsTab } from "../run/metrics.js";
import { renderArtifactsTab } from "../run/artifacts.js";

const POLL_MS = 3000;
const TABS = ["overview", "metrics", "artifacts"];

/**
 * Shared state of the page: the run as last fetched, and listeners that redraw on a change.
 * Sections call `reload()` after an edit; the poller calls it while the run is running.
 */
function runModel(runId, signal) {
  const listeners = new Set();
  const model = {
    run: null,
    experiment: null,
    subscribe(fn) { listeners.add(fn); return () => listeners.delete(fn); },
    /** Tell every listener that the run (or the experiment) changed. */
    notify() {
      for (const fn of [...listeners]) fn(model.run);
    },
    async reload() {
      const { run } = await mlflow.get("runs/get", { run_id: runId }, { signal });
      model.run = run;
      model.notify();
      return run;
    },
  };
  return model;
}

export async function render(ctx) {
  const { root, params, query, signal } = ctx;
  const runId = params.runId;
  const model = runModel(runId, signal);
  let run;
  try {
    [run] = await Promise.all([model.reload(), ensureStyles("run")]);
  } catch (err) {
    if (err.name === "AbortError") return;
    document.title = "Run not found · mltrail";
    replace(root, breadcrumbs([["Experiments", "/experiments"], [runId, null]]),
      errorBox(err, err.status === 404 ? `No run ${runId}` : "Could not load this run"));
    return;
  }
  if (signal.aborted) return;

  const expId = run.info.experiment_id;
  const expName = () => model.experiment?.name || `Experiment ${expId}`;
  const crumbs = h("div");
  const title = h("h1", { "data-testid": "run-name" });
  const badge = h("span", { "data-testid": "run-status" });
  const drawHeader = (r) => {
    const name = r.info.run_name || r.info.run_id;
    document.title = `${name} · mltrail`;
    replace(crumbs, breadcrumbs([["Experiments", "/experiments"], [expName(), `/experiments/${expId}`], [name, null]]));
    title.textContent = name;
    replace(badge, statusBadge(r.info.status));
  };
  drawHeader(run);
  model.subscribe(drawHeader);

  const renameButton = h("button", { type: "button", onclick: () => rename(model) }, "Rename");
  const copyButton = h("button", { type: "button", class: "small", "aria-label": "Copy run ID",
    onclick: async () => toast((await copyText(runId)) ? "Run ID copied" : "Could not copy", "info", 2000) }, "Copy");
  const header = h("div", { class: "page-header run-header" },
    h("div", null,
      h("div", { class: "run-title" }, title, badge),
      h("div", { class: "muted run-id" }, "Run ID ", h("span", { class: "mono", "data-testid": "run-id" }, runId), " ", copyButton)),
    h("div", { class: "actions" }, renameButton));

  const initial = TABS.includes(query.get("tab")) ? query.get("tab") : "overview";
  let disposeTab = null;
  const view = tabs([
    { id: "overview", label: "Overview", render: (panel) => show(panel, renderOverview) },
    { id: "metrics", label: "Metrics", render: (panel) => show(panel, renderMetricsTab) },
    { id: "artifacts", label: "Artifacts", render: (panel) => show(panel, renderArtifactsTab) },
  ], initial, (id) => ctx.setQuery({ tab: id === "overview" ? null : id }));

  // A tab's renderer returns a dispose function; switching tabs drops the previous one's listeners.
  function show(panel, renderer) {
    if (disposeTab) disposeTab();
    disposeTab = renderer(panel, { ctx, model, runId }) || null;
  }
  ctx.onCleanup(() => { if (disposeTab) disposeTab(); });

  replace(root, h("div", { class: "run-page" }, crumbs, header, view.root));
  startPolling(ctx, model);
  loadExperiment(model, expId, signal);
}

/** The experiment's name is only shown in links: the page does not wait for it. */
async function loadExperiment(model, experimentId, signal) {
  try {
    const res = await mlflow.get("experiments/get", { experiment_id: experimentId }, { signal });
    model.experiment = res.experiment;
    model.notify();
  } catch {
    // Aborted, or the experiment cannot be read: the links fall back to its id.
  }
}

async function rename(model) {
  const values = await promptDialog("Rename run", [
    { name: "name", label: "Run name", value: model.run.info.run_name || "", required: true },
  ], { validate: (v) => (v.name.trim() ? null : "Enter a name") });
  if (!values) return;
  try {
    await mlflow.post("runs/update", { run_id: model.run.info.run_id, run_name: values.name.trim() });
    await model.reload();
    toast("Run renamed", "success");
  } catch (err) {
    toast(`Could not rename: ${err.message}`, "error");
  }
}

/** Poll a RUNNING run every few seconds until it ends or the user leaves the page. */
function startPolling(ctx, model) {
  let timer = null;
  const running = () => model.run?.info.status === "RUNNING";
  const tick = async () => {
    timer = null;
    if (ctx.signal.aborted) return;
    try {
      await model.reload();
    } catch (err) {
      if (err.name === "AbortError") return;
      // A transient failure: keep polling, the next tick may succeed.
    }
    schedule();
  };
  const schedule = () => {
    if (!ctx.signal.aborted && running() && timer === null) timer = setTimeout(tick, POLL_MS);
  };
  ctx.onCleanup(() => { if (timer !== null) clearTimeout(timer); timer = null; });
  schedule();
}
