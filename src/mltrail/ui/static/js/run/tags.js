// Run tags: user tags can be added, edited and deleted; system tags (mlflow.*) are read-only.
import { mlflow } from "../api.js";
import { h, replace } from "../dom.js";
import { confirmDialog, kvTable, promptDialog, toast } from "../components/ui.js";

const isSystem = (key) => key.startsWith("mlflow.");

async function editTag(run, model, tag) {
  const values = await promptDialog(tag ? `Edit tag ${tag.key}` : "Add tag", [
    { name: "key", label: "Key", value: tag?.key || "", required: true },
    { name: "value", label: "Value", value: tag?.value || "", multiline: true },
  ], {
    submitLabel: tag ? "Save" : "Add",
    validate: (v) => {
      const key = v.key.trim();
      if (!key) return "Enter a key";
      if (isSystem(key)) return "Keys starting with mlflow. are reserved for the system";
      if (!/^[/\w.\- :]+$/.test(key)) return "Keys may contain letters, digits, _ - . / : and spaces";
      return null;
    },
  });
  if (!values) return;
  const key = values.key.trim();
  try {
    await mlflow.post("runs/set-tag", { run_id: run.info.run_id, key, value: values.value });
    // Editing a tag's key renames it: the old key goes away.
    if (tag && tag.key !== key) await mlflow.post("runs/delete-tag", { run_id: run.info.run_id, key: tag.key });
    await model.reload();
    toast(tag ? `Tag ${key} saved` : `Tag ${key} added`, "success");
  } catch (err) {
    toast(`Could not save the tag: ${err.message}`, "error");
  }
}

async function deleteTag(run, model, tag) {
  if (!(await confirmDialog("Delete tag", `Delete the tag "${tag.key}"?`, { confirmLabel: "Delete", danger: true }))) return;
  try {
    await mlflow.post("runs/delete-tag", { run_id: run.info.run_id, key: tag.key });
    await model.reload();
    toast(`Tag ${tag.key} deleted`, "success");
  } catch (err) {
    toast(`Could not delete the tag: ${err.message}`, "error");
  }
}

/** Fill `section` with the run's tags. */
export function renderTags(section, run, model) {
  const all = [...(run.data?.tags || [])].sort((a, b) => a.key.localeCompare(b.key));
  const user = all.filter((t) => !isSystem(t.key));
  const system = all.filter((t) => isSystem(t.key));
  const add = h("button", { type: "button", class: "small", "data-testid": "add-tag", onclick: () => editTag(run, model, null) }, "Add tag");
  const table = user.length
    ? h("div", { class: "table-wrap compact" }, h("table", { class: "data", "data-testid": "tags-table" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "Value"),
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
      h("tbody", null, user.map((t) => h("tr", { dataset: { key: t.key } },
        h("td", { class: "mono" }, t.key),
        h("td", { class: "value-cell" }, t.value),
        h("td", { class: "row-actions" },
          h("button", { type: "button", class: "small", "aria-label": `Edit tag ${t.key}`, onclick: () => editTag(run, model, t) }, "Edit"),
          h("button", { type: "button", class: "small danger", "aria-label": `Delete tag ${t.key}`,
            onclick: () => deleteTag(run, model, t) }, "Delete")))))))
    : h("p", { class: "muted" }, "No tags.");
  replace(section,
    h("div", { class: "section-head" }, h("h2", { id: "run-tags-h" }, "Tags"), add),
    table,
    system.length ? h("details", { class: "system-tags", "data-testid": "system-tags" },
      h("summary", null, `System tags (${system.length})`),
      kvTable(system.map((t) => [h("span", { class: "mono" }, t.key), h("span", { class: "value-cell" }, t.value)]))) : null);
}
