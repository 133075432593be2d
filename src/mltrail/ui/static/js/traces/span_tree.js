// The span tree of a trace with its timeline: one row per span, the name (indented by depth,
// collapsible) on the left and a waterfall bar on the right, positioned and sized relative to the
// whole trace, so each bar sits on the same line as its span.
// Keyboard (WAI-ARIA tree pattern): Up/Down move, Right expands or enters the first child, Left
// collapses or goes to the parent, Home/End jump; the focused span is the selected one.
import { h } from "../dom.js";
import { formatSpanDuration } from "./model.js";

const TICKS = [0, 0.25, 0.5, 0.75, 1];

function axis(totalMs) {
  return h("div", { class: "span-axis", "aria-hidden": "true" },
    TICKS.map((f) => h("span", { class: "span-axis-tick", style: { left: `${f * 100}%` } }, formatSpanDuration(totalMs * f))));
}

function bar(span, range) {
  const total = Math.max(range.endMs - range.startMs, 1e-6);
  const start = span.startMs === null ? 0 : (span.startMs - range.startMs) / total;
  const width = span.durationMs === null ? 0 : span.durationMs / total;
  const left = Math.min(Math.max(start, 0), 1);
  return h("div", { class: "span-track" },
    h("div", { class: `span-bar span-bar-${span.status.toLowerCase()}`, "data-testid": "span-bar",
      title: `starts at +${formatSpanDuration(Math.max(0, start * total))}, lasts ${formatSpanDuration(span.durationMs) || "?"}`,
      style: { left: `${left * 100}%`, width: `${Math.min(width, 1 - left) * 100}%` } }),
    h("span", { class: "span-bar-label", style: { left: `${Math.min(left + width, 1) * 100}%` } }, formatSpanDuration(span.durationMs)));
}

/**
 * Build the tree. `collapsed` is a Set of span ids whose children are hidden; `onSelect(span)`
 * runs when the selection changes and `onToggle(collapsed)` when a span is folded or unfolded.
 * Returns {el, select(id, {focus})}.
 */
export function spanTree(tree, { selectedId = null, collapsed = new Set(), onSelect, onToggle }) {
  const items = new Map(); // span id → <li role=treeitem>
  const range = { startMs: tree.startMs, endMs: tree.endMs };
  let selected = null;

  function item(span) {
    const hasChildren = span.children.length > 0;
    const open = !collapsed.has(span.id);
    const toggle = hasChildren
      ? h("button", { type: "button", class: "span-toggle", tabindex: -1, "aria-hidden": "true",
        onclick: (ev) => { ev.stopPropagation(); setExpanded(span, collapsed.has(span.id)); } }, "▸")
      : h("span", { class: "span-toggle-spacer", "aria-hidden": "true" });
    const group = hasChildren ? h("ul", { role: "group", hidden: !open }, span.children.map(item)) : null;
    const li = h("li", {
      role: "treeitem",
      tabindex: -1,
      "aria-level": span.depth + 1,
      "aria-expanded": hasChildren ? String(open) : null,
      "aria-selected": "false",
      "aria-label": `${span.name}, ${span.type}, ${formatSpanDuration(span.durationMs)}${span.status === "ERROR" ? ", error" : ""}`,
      "data-testid": "span-row",
      dataset: { spanId: span.id, spanName: span.name, status: span.status },
    },
    h("div", { class: "span-row", onclick: () => select(span.id, { focus: true }) },
      h("div", { class: "span-label", style: { paddingLeft: `${span.depth * 16 + 4}px` } },
        toggle,
        span.status === "ERROR" ? h("span", { class: "span-error-dot", title: "Error" }, "!") : null,
        h("span", { class: "span-name" }, span.name),
        h("span", { class: "span-type" }, span.type)),
      bar(span, range)),
    group);
    items.set(span.id, li);
    return li;
  }

  function setExpanded(span, open) {
    const li = items.get(span.id);
    if (!li || !span.children.length) return;
    li.setAttribute("aria-expanded", String(open));
    li.querySelector(":scope > ul[role=group]").hidden = !open;
    if (open) collapsed.delete(span.id);
    else collapsed.add(span.id);
    // A selection hidden inside a folded span moves to the span that was folded.
    if (!open && selected && selected !== span.id && li.contains(items.get(selected))) select(span.id, { focus: true });
    if (onToggle) onToggle(collapsed);
  }

  function visibleItems() {
    return [...list.querySelectorAll("[role=treeitem]")].filter((el) => !el.parentElement.closest("ul[role=group][hidden]"));
  }

  function select(id, { focus = false, notify = true } = {}) {
    const li = items.get(id);
    if (!li) return;
    // Unfold the ancestors so the selected span is visible.
    for (let p = li.parentElement.closest("[role=treeitem]"); p; p = p.parentElement.closest("[role=treeitem]")) {
      const span = tree.byId.get(p.dataset.spanId);
      if (p.getAttribute("aria-expanded") === "false") setExpanded(span, true);
    }
    if (selected && items.get(selected)) {
      const prev = items.get(selected);
      prev.setAttribute("aria-selected", "false");
      prev.tabIndex = -1;
    }
    selected = id;
    li.setAttribute("aria-selected", "true");
    li.tabIndex = 0;
    if (focus) {
      li.focus({ preventScroll: true });
      li.querySelector(".span-row").scrollIntoView({ block: "nearest" });
    }
    if (notify && onSelect) onSelect(tree.byId.get(id));
  }

  const list = h("ul", { role: "tree", class: "span-tree", "aria-label": "Spans", "data-testid": "span-tree" },
    tree.roots.map(item));

  list.addEventListener("keydown", (ev) => {
    const li = ev.target.closest("[role=treeitem]");
    if (!li) return;
    const span = tree.byId.get(li.dataset.spanId);
    const visible = visibleItems();
    const index = visible.indexOf(li);
    const go = (el) => el && select(el.dataset.spanId, { focus: true });
    switch (ev.key) {
      case "ArrowDown": go(visible[index + 1]); break;
      case "ArrowUp": go(visible[index - 1]); break;
      case "Home": go(visible[0]); break;
      case "End": go(visible[visible.length - 1]); break;
      case "ArrowRight":
        if (span.children.length && collapsed.has(span.id)) setExpanded(span, true);
        else if (span.children.length) go(items.get(span.children[0].id));
        break;
      case "ArrowLeft":
        if (span.children.length && !collapsed.has(span.id)) setExpanded(span, false);
        else go(li.parentElement.closest("[role=treeitem]"));
        break;
      case "Enter":
      case " ":
        if (span.children.length) setExpanded(span, collapsed.has(span.id));
        break;
      default: return;
    }
    ev.preventDefault();
  });

  const el = h("div", { class: "span-view" },
    h("div", { class: "span-head" },
      h("div", { class: "span-head-label" }, `Spans (${tree.order.length})`),
      axis(range.endMs - range.startMs)),
    list);

  const initial = (selectedId && items.has(selectedId)) ? selectedId : tree.order[0]?.id;
  if (initial) select(initial, { notify: false });
  return { el, select, selectedId: () => selected };
}
