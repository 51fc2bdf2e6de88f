/* The league table of an assessment round as a bar chart (ECharts, vendored). Reads the data
   from the page's <script type="application/json" id="league-data">; no inline script. */
(function () {
  "use strict";

  function draw() {
    var el = document.getElementById("league-chart");
    var data = document.getElementById("league-data");
    if (!el || !data || typeof window.echarts === "undefined") return;
    var rows = JSON.parse(data.textContent);
    var unranked = el.getAttribute("data-unranked") || "";
    var chart = window.echarts.init(el);
    chart.setOption({
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (items) {
          var row = rows[items[0].dataIndex];
          var esc = window.echarts.format.encodeHTML;
          return esc(row.label) + "<br>" + row.score.toFixed(2) + (row.ranked ? "" : "（" + esc(unranked) + "）");
        }
      },
      xAxis: { type: "value", min: 0 },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.label; }) },
      series: [{
        type: "bar",
        data: rows.map(function (r) {
          return { value: r.score, itemStyle: { color: r.ranked ? "#b3261e" : "#9e9e9e" } };
        }),
        label: { show: true, position: "right", formatter: function (p) { return p.value.toFixed(2); } }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState !== "loading") draw();
  else document.addEventListener("DOMContentLoaded", draw);
})();
