// Draws every chart on the page (crm/core/charts.py, templates core/chart.html): each
// <figure data-chart="ID"> names the json_script element that holds its ECharts option.
// The table under each chart holds the same numbers, so nothing depends on this script.
(function () {
  "use strict";
  function draw() {
    if (!window.echarts) { return; }
    var charts = [];
    document.querySelectorAll("figure[data-chart]").forEach(function (figure) {
      var source = document.getElementById(figure.dataset.chart);
      var target = figure.querySelector(".chart-canvas");
      if (!source || !target) { return; }
      var chart = window.echarts.init(target, null, { renderer: "canvas" });
      chart.setOption(JSON.parse(source.textContent));
      figure.classList.add("chart-drawn");
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { charts.forEach(function (c) { c.resize(); }); }, 150);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
