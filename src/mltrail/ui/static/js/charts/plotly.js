// plotly.js is large (several MB), so it is loaded only when a page first draws a chart.
// The server ships it at static-files/vendor/plotly.min.js; a classic <script> defines window.Plotly.

let loading = null;

/** Resolve to the Plotly global, adding its <script> to the document on the first call. */
export function loadPlotly() {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "static-files/vendor/plotly.min.js";
      script.async = true;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => {
        loading = null;
        script.remove();
        reject(new Error("Could not load the charting library (static-files/vendor/plotly.min.js)"));
      };
      document.head.append(script);
    });
  }
  return loading;
}

/** Remove a plot's listeners and WebGL/SVG state when its element leaves the page. */
export function purge(el) {
  if (window.Plotly && el) window.Plotly.purge(el);
}
