// Page-specific stylesheets are loaded on first use, so the first page paints without them.
const loaded = new Set();

/** Add css/<name>.css to the document once. Resolves when it has loaded. */
export function ensureStyles(name) {
  if (loaded.has(name)) return Promise.resolve();
  loaded.add(name);
  return new Promise((resolve) => {
    const el = document.createElement("link");
    el.rel = "stylesheet";
    el.href = `static-files/css/${name}.css`;
    el.onload = () => resolve();
    el.onerror = () => resolve();
    document.head.append(el);
  });
}
