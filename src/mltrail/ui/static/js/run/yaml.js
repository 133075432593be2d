// Just enough YAML to summarise an MLmodel file: nested mappings by indentation, plain and
// quoted scalars (including quoted scalars folded over several lines), and "- item" lists.
// Anything fancier (anchors, flow collections, block scalars) is kept as raw text.

function unquote(raw) {
  const v = raw.trim();
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1).replace(/''/g, "'");
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    try {
      return JSON.parse(v);
    } catch {
      return v.slice(1, -1);
    }
  }
  if (v === "null" || v === "~" || v === "") return null;
  if (v === "true") return true;
  if (v === "false") return false;
  return v;
}

/** Whether a scalar that opens a quote has not closed it on this line. */
function openQuote(v) {
  if (v.startsWith("'")) {
    const inner = v.slice(1).replace(/''/g, "");
    return !inner.includes("'");
  }
  if (v.startsWith('"')) return !/(^|[^\\])"/.test(v.slice(1));
  return false;
}

/** Parse `text` into nested objects; returns null when it is not a mapping at the top. */
export function parseSimpleYaml(text) {
  const lines = text.split(/\r?\n/);
  const root = {};
  const stack = [{ indent: -1, value: root }];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    const indent = line.length - line.trimStart().length;
    line = line.trim();
    while (stack.length > 1 && indent <= stack[stack.length - 1].indent) stack.pop();
    // A list written at its key's indent ends at the next line that is not an item.
    const top = stack[stack.length - 1];
    if (stack.length > 1 && Array.isArray(top.value) && !line.startsWith("- ") && indent <= top.indent + 1) stack.pop();
    const parent = stack[stack.length - 1];
    if (line.startsWith("- ")) {
      // List items under the last key: kept as strings.
      if (Array.isArray(parent.value)) parent.value.push(unquote(line.slice(2)));
      continue;
    }
    const m = line.match(/^("[^"]*"|'[^']*'|[^:]+):(?:\s+(.*))?$/);
    if (!m || Array.isArray(parent.value) || typeof parent.value !== "object" || parent.value === null) continue;
    const key = String(unquote(m[1]));
    let rest = m[2] === undefined ? "" : m[2];
    if (openQuote(rest)) {
      // A folded quoted scalar: following lines are joined with spaces until the quote closes.
      while (i + 1 < lines.length) {
        i++;
        rest += " " + lines[i].trim();
        if (!openQuote(rest)) break;
      }
    }
    if (rest === "") {
      const next = lines.slice(i + 1).find((l) => l.trim() && !l.trimStart().startsWith("#"));
      const child = next && next.trim().startsWith("- ") ? [] : {};
      parent.value[key] = child;
      stack.push({ indent: Array.isArray(child) ? indent - 1 : indent, value: child });
    } else {
      parent.value[key] = unquote(rest);
    }
  }
  return root;
}
