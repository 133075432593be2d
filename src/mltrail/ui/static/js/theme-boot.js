// Loaded synchronously in <head>: set the theme before the first paint, so the page never flashes
// the wrong colours. The user's saved choice wins; otherwise the system's preference, followed live.
(function () {
  var root = document.documentElement;
  var system = window.matchMedia("(prefers-color-scheme: dark)");
  function apply() {
    var saved = localStorage.getItem("mltrail.theme");
    root.dataset.theme = saved === "light" || saved === "dark" ? saved : system.matches ? "dark" : "light";
  }
  apply();
  system.addEventListener("change", function () {
    apply();
    window.dispatchEvent(new CustomEvent("mltrail:theme", { detail: root.dataset.theme }));
  });
})();
