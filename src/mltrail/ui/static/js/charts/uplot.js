// uPlot (about 50 KB) draws the metric line charts. It is loaded when a page first draws one: a
// classic <script> defines window.uPlot and a <link> adds its stylesheet, both from the copy the
// package ships under static-files/vendor/uplot/ (see its README.md).

const BASE = "static-files/vendor/uplot/";
let loading = null;

function addStylesheet() {
  return new Promise((resolve) => {
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = `${BASE}uPlot.min.css`;
    link.dataset.uplot = "";
    // A chart without the stylesheet still works (sizes are set by script): never block on it.
    link.onload = () => resolve();
    link.onerror = () => resolve();
    document.head.append(link);
  });
}

function addScript() {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${BASE}uPlot.iife.min.js`;
    script.async = true;
    script.onload = () => (window.uPlot ? resolve(window.uPlot) : reject(new Error("uPlot did not load")));
    script.onerror = () => {
      script.remove();
      reject(new Error(`Could not load the charting library (${BASE}uPlot.iife.min.js)`));
    };
    document.head.append(script);
  });
}

/** Resolve to the uPlot constructor, adding its script and stylesheet on the first call. */
export function loadUPlot() {
  if (window.uPlot && document.querySelector("link[data-uplot]")) return Promise.resolve(window.uPlot);
  if (!loading) {
    const css = document.querySelector("link[data-uplot]") ? Promise.resolve() : addStylesheet();
    const js = window.uPlot ? Promise.resolve(window.uPlot) : addScript();
    loading = Promise.all([js, css]).then(([uPlot]) => uPlot);
    loading.catch(() => { loading = null; });
  }
  return loading;
}
