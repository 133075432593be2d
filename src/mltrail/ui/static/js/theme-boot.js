// Loaded synchronously in <head>: apply the saved theme before the first paint.
(function () {
  var t = localStorage.getItem("mltrail.theme");
  if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
})();
