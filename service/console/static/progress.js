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
    var wrap = chart.kind === "bar" && chart.categories.length > 3;
    instance.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 16, top: 48, bottom: wrap ? 72 : 40, containLabel: true },
      xAxis: {
        type: "category",
        data: chart.categories,
        axisLabel: { interval: 0, width: 90, overflow: "break", rotate: wrap ? 20 : 0 },
      },
      yAxis: { type: "value", name: chart.unit },
      series: chart.series.map(function (series) {
        return {
          name: series.name,
          type: chart.kind,
          data: series.data,
          connectNulls: false,
          label: { show: chart.kind === "bar" && chart.series.length <= 3, position: "top" },
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
