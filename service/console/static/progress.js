// The progress page's charts (ECharts, vendored): drawn from the figures the page carries in
// <script type="application/json" id="progress-charts">; the tables below them hold the same.
(function () {
  "use strict";
  var source = document.getElementById("progress-charts");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var figures = JSON.parse(source.textContent);
  var drawn = [];
  figures.charts.forEach(function (chart) {
    var box = document.getElementById("chart-" + chart.id);
    if (!box) {
      return;
    }
    var instance = echarts.init(box, null, { renderer: "canvas" });
    // many categories: bars laid sideways, so that their names can be read
    var sideways = chart.kind === "bar" && chart.categories.length > 3;
    var categories = {
      type: "category",
      data: chart.categories,
      inverse: sideways,
      axisLabel: sideways ? { width: 150, overflow: "break" } : { interval: 0, width: 90, overflow: "break" },
    };
    var values = { type: "value", name: chart.unit };
    instance.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 16, right: 32, top: 56, bottom: 16, containLabel: true },
      xAxis: sideways ? values : categories,
      yAxis: sideways ? categories : values,
      series: chart.series.map(function (series) {
        return {
          name: series.name,
          type: chart.kind,
          data: series.data,
          connectNulls: false,
          label: {
            show: chart.kind === "bar" && chart.series.length <= 3,
            position: sideways ? "right" : "top",
          },
        };
      }),
    });
    drawn.push(instance);
  });
  window.addEventListener("resize", function () {
    drawn.forEach(function (instance) {
      instance.resize();
    });
  });
})();
