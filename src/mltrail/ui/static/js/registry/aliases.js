// Aliases of a registered model: the current ones (set, move, delete) and their recorded
// history with rollback, through mltrail's alias-history routes.
import { http, mlflow } from "../api.js";
import { formatAgo, formatTime, h } from "../dom.js";
import { confirmDialog, toast } from "../components/ui.js";
import { aliasBadge, reportError, versionLink } from "./common.js";

const HISTORY = "ajax-api/2.0/mltrail/registered-models/alias/history";
const ROLLBACK = "ajax-api/2.0/mltrail/registered-models/alias/rollback";

/** Every recorded alias event of a model, oldest first. */
export async function loadAliasHistory(name, { signal } = {}) {
  return (await http.get(HISTORY, { name }, { signal })).events || [];
}

/** Point `alias` at `version` of model `name` (recorded with `reason`). */
export async function setAlias(name, alias, version, reason) {
  const body = { name, alias, version: String(version) };
  if (reason) body.reason = reason;
  await mlflow.post("registered-models/alias", body);
}

/** Remove an alias of a model. */
export async function deleteAlias(name, alias) {
  await mlflow.delete("registered-models/alias", { name, alias });
}

/** Roll an alias back (to `toVersion`, or to the server's default earlier target). */
export async function rollbackAlias(name, alias, toVersion, reason) {
  const body = { name, alias };
  if (toVersion) body.to_version = String(toVersion);
  if (reason) body.reason = reason;
  return (await http.post(ROLLBACK, body)).event;
}

/**
 * The card of a model's current aliases with a form to set one.
 * `versions` are the known version numbers (for suggestions); `onChange()` refreshes the page.
 */
export function aliasesCard({ name, aliases, versions, onChange }) {
  const sorted = [...(aliases || [])].sort((a, b) => a.alias.localeCompare(b.alias));
  const listId = "alias-version-options";
  const aliasInput = h("input", { type: "text", name: "alias", placeholder: "alias, e.g. champion", "aria-label": "Alias name", required: true, autocomplete: "off" });
  const versionInput = h("input", { type: "text", name: "version", placeholder: "version", "aria-label": "Version for the alias", required: true,
    list: listId, inputmode: "numeric", autocomplete: "off", size: 8 });
  const reasonInput = h("input", { type: "text", name: "reason", placeholder: "reason (optional)", "aria-label": "Reason for the alias change", autocomplete: "off" });
  const form = h("form", { class: "inline-form", "aria-label": "Set alias", onsubmit: async (ev) => {
    ev.preventDefault();
    const alias = aliasInput.value.trim();
    const version = versionInput.value.trim().replace(/^v/i, "");
    if (!alias || !version) return;
    const existing = sorted.find((a) => a.alias === alias);
    if (existing && existing.version !== version) {
      const ok = await confirmDialog("Move alias", `Move @${alias} from version ${existing.version} to version ${version}?`, { confirmLabel: "Move alias" });
      if (!ok) return;
    }
    try {
      await setAlias(name, alias, version, reasonInput.value.trim());
      toast(`@${alias} now points at version ${version}`, "success");
      await onChange();
    } catch (err) {
      reportError(err, `Could not set @${alias}`);
    }
  } }, aliasInput, versionInput, reasonInput, h("button", { type: "submit", class: "primary" }, "Set alias"),
  h("datalist", { id: listId }, versions.map((v) => h("option", { value: v }))));

  return h("section", { class: "card", "aria-label": "Aliases", "data-testid": "aliases" },
    h("div", { class: "card-head" }, h("h2", null, "Aliases")),
    sorted.length ? h("table", { class: "kv alias-table" }, h("tbody", null, sorted.map((a) =>
      h("tr", { "data-testid": "alias-row", dataset: { alias: a.alias, version: a.version } },
        h("th", { scope: "row" }, aliasBadge(a.alias)),
        h("td", null, versionLink(name, a.version)),
        h("td", { class: "row-actions" }, h("button", { type: "button", class: "link danger-link", "aria-label": `Delete alias ${a.alias}`,
          onclick: async () => {
            const ok = await confirmDialog("Delete alias", `Delete the alias @${a.alias} (now on version ${a.version})?`, { confirmLabel: "Delete", danger: true });
            if (!ok) return;
            try {
              await deleteAlias(name, a.alias);
              toast(`@${a.alias} deleted`, "success");
              await onChange();
            } catch (err) {
              reportError(err, `Could not delete @${a.alias}`);
            }
          } }, "Delete"))))))
      : h("p", { class: "muted" }, "No aliases. Point an alias such as @champion at a version to deploy by name."),
    form);
}

function describe(event) {
  const from = event.from_version ? `v${event.from_version}` : null;
  const to = event.to_version ? `v${event.to_version}` : null;
  if (event.action === "DELETE") return `removed${from ? ` (was ${from})` : ""}`;
  if (event.action === "VERSION_DELETED") return `${from || "version"} deleted`;
  if (from && to) return `${from} → ${to}`;
  return to ? `→ ${to}` : "";
}

/**
 * The alias history card: one group per alias (current or removed), newest event first, with
 * "Roll back" (to the target before the latest move) and "Roll back to vN" per earlier target.
 * `liveVersions` is the set of version numbers that still exist.
 */
export function aliasHistoryCard({ name, events, aliases, liveVersions, onChange }) {
  const current = new Map((aliases || []).map((a) => [a.alias, a.version]));
  const byAlias = new Map();
  for (const e of events) {
    if (!byAlias.has(e.alias)) byAlias.set(e.alias, []);
    byAlias.get(e.alias).push(e);
  }
  const root = h("section", { class: "card", "aria-label": "Alias history", "data-testid": "alias-history" },
    h("div", { class: "card-head" }, h("h2", null, "Alias history")));
  if (!byAlias.size) {
    root.append(h("p", { class: "muted" }, "No alias has been set yet."));
    return root;
  }

  async function rollback(alias, toVersion) {
    const where = toVersion ? `version ${toVersion}` : "the version it pointed at before its latest move";
    const ok = await confirmDialog("Roll back alias", `Point @${alias} back at ${where}? The rollback is recorded in the history.`,
      { confirmLabel: "Roll back" });
    if (!ok) return;
    try {
      const event = await rollbackAlias(name, alias, toVersion);
      toast(`@${alias} rolled back to version ${event?.to_version ?? toVersion}`, "success");
      await onChange();
    } catch (err) {
      reportError(err, `Could not roll back @${alias}`);
    }
  }

  for (const alias of [...byAlias.keys()].sort()) {
    const list = byAlias.get(alias);
    const now = current.get(alias);
    const offered = new Set();
    const rows = [...list].reverse().map((e) => {
      // Offer each earlier target once, on its most recent event, if it still exists.
      const target = e.to_version;
      let action = null;
      if (target && target !== now && !offered.has(target) && liveVersions.has(target)) {
        offered.add(target);
        action = h("button", { type: "button", class: "link", "aria-label": `Roll back @${alias} to version ${target}`,
          onclick: () => rollback(alias, target) }, `Roll back to v${target}`);
      }
      return h("tr", { "data-testid": "alias-event", dataset: { action: e.action, to: e.to_version || "", from: e.from_version || "" } },
        h("td", { class: "nowrap", title: formatTime(e.timestamp) }, formatAgo(e.timestamp)),
        h("td", null, h("span", { class: `badge event-${e.action.toLowerCase()}` }, e.action.replace("_", " ").toLowerCase())),
        h("td", { class: "mono" }, describe(e)),
        h("td", null, e.user_id || h("span", { class: "muted" }, "—")),
        h("td", null, e.reason || ""),
        h("td", { class: "row-actions" }, action));
    });
    const canRollBack = list.some((e) => e.from_version && e.from_version !== now && liveVersions.has(e.from_version));
    root.append(h("div", { class: "alias-history-group", "data-testid": "alias-history-group", dataset: { alias } },
      h("div", { class: "group-head" },
        h("h3", null, aliasBadge(alias), " ", now ? h("span", null, "on ", versionLink(name, now)) : h("span", { class: "muted" }, "(not set)")),
        canRollBack ? h("button", { type: "button", onclick: () => rollback(alias, null), "aria-label": `Roll back @${alias}` }, "Roll back") : null),
      h("div", { class: "table-wrap" }, h("table", { class: "data compact" },
        h("thead", null, h("tr", null, ["When", "Action", "Change", "By", "Reason"].map((t) => h("th", { scope: "col" }, t)),
          h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
        h("tbody", null, rows)))));
  }
  return root;
}

