/* Draws the dashboard's plotly figures from the JSON blocks the server rendered.
   No inline script (CSP): each chart element names its figure's JSON block. */
(function () {
  "use strict";
  if (!window.Plotly) { return; }
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var block = document.getElementById(el.getAttribute("data-figure"));
    if (!block) { return; }
    var figure = JSON.parse(block.textContent);
    Plotly.newPlot(el, figure.data, figure.layout, figure.config || {}).then(function () {
      el.setAttribute("data-drawn", "true");
    });
    var link = el.getAttribute("data-link");
    if (link) {
      // A click on a municipality's marker opens its page.
      el.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) { window.location.href = link.replace("000000", point.customdata); }
      });
    }
  });
}());
