// Shared widgets: toasts, dialogs, tabs, loading and error states, key/value tables.
import { h, replace } from "../dom.js";

/** Show a short message at the bottom of the screen. kind: "info" | "success" | "error". */
export function toast(message, kind = "info", ms = 4000) {
  const region = document.getElementById("toasts");
  const el = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, message);
  region.append(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

/** A loading placeholder. */
export function spinner(text = "Loading…") {
  return h("div", { class: "loading", "aria-busy": "true" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** An error box for a failed load (ApiError or Error). */
export function errorBox(err, title = "Something went wrong") {
  const code = err && err.code ? ` (${err.code})` : "";
  return h("div", { class: "error-box", role: "alert" }, h("strong", null, title + code), h("div", null, err?.message || String(err)));
}

/** An empty-state message. */
export function emptyState(text, ...actions) {
  return h("div", { class: "empty-state" }, h("p", null, text), actions);
}

/**
 * Open a modal dialog. `body` is a node; `actions` a list of {label, value, primary, danger}.
 * Resolves to the chosen action's value, or null when dismissed (Escape / close).
 */
export function openDialog({ title, body, actions = [{ label: "Close", value: null }], onSubmit }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog", "aria-label": title });
    const form = h("form", { method: "dialog" });
    const footer = h("div", { class: "dialog-actions" });
    for (const action of actions) {
      const cls = ["button", action.primary ? "primary" : "", action.danger ? "danger" : ""].join(" ").trim();
      footer.append(h("button", { type: action.primary ? "submit" : "button", class: cls, value: action.label,
        onclick: action.primary ? null : () => finish(action.value) }, action.label));
    }
    const primary = actions.find((a) => a.primary);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (onSubmit) {
        const ok = await onSubmit();
        if (ok === false) return;
      }
      finish(primary ? primary.value : null);
    });
    let done = false;
    function finish(value) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); finish(null); });
    replace(form, h("h2", { class: "dialog-title" }, title), h("div", { class: "dialog-body" }, body), footer);
    dialog.append(form);
    document.body.append(dialog);
    dialog.showModal();
    const focusable = dialog.querySelector("input, textarea, select") || dialog.querySelector("button.primary");
    if (focusable) focusable.focus();
  });
}

/** Ask for confirmation; resolves true/false. */
export async function confirmDialog(title, message, { confirmLabel = "Confirm", danger = false } = {}) {
  const result = await openDialog({
    title,
    body: h("p", null, message),
    actions: [{ label: "Cancel", value: false }, { label: confirmLabel, value: true, primary: true, danger }],
  });
  return result === true;
}

/**
 * Ask for one or more text values. fields: [{name, label, value, multiline, required, placeholder}].
 * `validate(values)` may return an error message (string) to keep the dialog open.
 * Resolves to {name: value} or null when cancelled.
 */
export async function promptDialog(title, fields, { submitLabel = "Save", validate } = {}) {
  const inputs = {};
  const errorEl = h("div", { class: "form-error", role: "alert" });
  const body = h("div", { class: "form" }, fields.map((f) => {
    const input = f.multiline
      ? h("textarea", { name: f.name, rows: 5, placeholder: f.placeholder || "" })
      : h("input", { name: f.name, type: "text", placeholder: f.placeholder || "", required: !!f.required, autocomplete: "off" });
    input.value = f.value ?? "";
    inputs[f.name] = input;
    return h("label", { class: "field" }, h("span", null, f.label), input);
  }), errorEl);
  const values = () => Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value]));
  const result = await openDialog({
    title,
    body,
    actions: [{ label: "Cancel", value: null }, { label: submitLabel, value: "ok", primary: true }],
    onSubmit: async () => {
      const message = validate ? await validate(values()) : null;
      if (message) {
        errorEl.textContent = message;
        return false;
      }
      return true;
    },
  });
  return result === "ok" ? values() : null;
}

/**
 * Tabs with keyboard support. tabs: [{id, label, render: (panel) => void}].
 * `active` is the initial tab id; `onChange(id)` is called on a switch (e.g. to store it in the URL).
 */
export function tabs(tabList, active, onChange) {
  const bar = h("div", { class: "tabs", role: "tablist" });
  const panel = h("div", { class: "tab-panel", role: "tabpanel" });
  const buttons = new Map();
  function select(id, focus = false) {
    const tab = tabList.find((t) => t.id === id) || tabList[0];
    for (const [tid, btn] of buttons) {
      const on = tid === tab.id;
      btn.setAttribute("aria-selected", String(on));
      btn.tabIndex = on ? 0 : -1;
      if (on && focus) btn.focus();
    }
    panel.setAttribute("aria-labelledby", `tab-${tab.id}`);
    panel.replaceChildren();
    tab.render(panel);
    if (onChange) onChange(tab.id);
  }
  for (const tab of tabList) {
    const btn = h("button", { type: "button", role: "tab", id: `tab-${tab.id}`, class: "tab", dataset: { tab: tab.id },
      onclick: () => select(tab.id) }, tab.label);
    buttons.set(tab.id, btn);
    bar.append(btn);
  }
  bar.addEventListener("keydown", (ev) => {
    const ids = tabList.map((t) => t.id);
    const current = ids.findIndex((id) => buttons.get(id).getAttribute("aria-selected") === "true");
    if (ev.key === "ArrowRight") select(ids[(current + 1) % ids.length], true);
    else if (ev.key === "ArrowLeft") select(ids[(current - 1 + ids.length) % ids.length], true);
    else return;
    ev.preventDefault();
  });
  const root = h("div", { class: "tabs-root" }, bar, panel);
  select(active || tabList[0].id);
  return { root, select };
}

/** A two-column table of key/value rows; values may be nodes. */
export function kvTable(rows, { caption } = {}) {
  return h("table", { class: "kv" }, caption ? h("caption", null, caption) : null,
    h("tbody", null, rows.map(([k, v]) => h("tr", null, h("th", { scope: "row" }, k), h("td", null, v)))));
}

/** A status badge for run / trace / version states. */
export function statusBadge(status) {
  const s = String(status || "").toUpperCase();
  return h("span", { class: `badge status-${s.toLowerCase()}` }, s || "—");
}

/** Breadcrumbs: items are [label, path] (path null for the current page). */
export function breadcrumbs(items) {
  return h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" },
    items.map(([label, path], i) => [i ? h("span", { class: "sep", "aria-hidden": "true" }, "/") : null,
      path ? h("a", { href: "#" + path }, label) : h("span", { "aria-current": "page" }, label)]));
}
