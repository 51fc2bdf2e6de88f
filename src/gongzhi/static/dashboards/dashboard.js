/* The dashboard's charts (ECharts), drawn from the data the page embeds (#dashboard-data). */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

  function chart(id, option, onClick) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) { return null; }
    var c = window.echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option);
    if (onClick) { c.on("click", onClick); }
    window.addEventListener("resize", function () { c.resize(); });
    return c;
  }

  function periodPicker() {
    var select = document.getElementById("period-kind");
    if (!select) { return; }
    function sync() {
      document.querySelectorAll(".dash-period label[data-for]").forEach(function (label) {
        label.hidden = label.getAttribute("data-for") !== select.value;
      });
    }
    select.addEventListener("change", sync);
    sync();
  }

  ready(function () {
    periodPicker();
    var node = document.getElementById("dashboard-data");
    if (!node) { return; }
    var d = JSON.parse(node.textContent);
    var L = d.labels;
    var grid = { left: 48, right: 24, top: 40, bottom: 40, containLabel: true };

    chart("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { data: [L.received, L.closed] },
      grid: grid,
      xAxis: { type: "category", data: d.trend.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.received, type: "bar", data: d.trend.received },
        { name: L.closed, type: "line", data: d.trend.closed }
      ]
    });

    var s = d.satisfaction;
    chart("chart-satisfaction", {
      tooltip: { trigger: "item" },
      legend: { bottom: 0 },
      series: [{
        type: "pie", radius: ["40%", "65%"],
        data: [
          { name: L.satisfied, value: s.satisfied },
          { name: L.basic, value: s.basic },
          { name: L.dissatisfied, value: s.dissatisfied },
          { name: L.no_answer, value: s.no_answer }
        ]
      }],
      title: { text: s.display, subtext: L.satisfaction_rate, left: "center", top: "38%" }
    });

    function pie(id, rows) {
      chart(id, {
        tooltip: { trigger: "item" },
        legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: "60%",
                   data: rows.map(function (r) { return { name: r.label, value: r.received }; }) }]
      });
    }
    pie("chart-category", d.categories);
    pie("chart-channel", d.channels);

    chart("chart-funnel", {
      tooltip: { trigger: "item" },
      series: [{
        type: "funnel", sort: "none", left: "10%", width: "80%",
        label: { formatter: "{b} {c}" },
        data: d.funnel.map(function (r) { return { name: r.label, value: r.open }; })
      }]
    });

    function drill(params) {
      var row = d.children[params.dataIndex];
      if (row && row.url) { window.location.href = row.url; }
    }
    var units = d.children.concat(d.departments.map(function (r) { return r; }));
    chart("chart-overdue", {
      tooltip: { trigger: "axis" },
      legend: { data: [L.open, L.overdue] },
      grid: grid,
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: units.map(function (r) { return r.label; }) },
      series: [
        { name: L.open, type: "bar", data: units.map(function (r) { return r.open; }) },
        { name: L.overdue, type: "bar", data: units.map(function (r) { return r.overdue; }) }
      ]
    }, drill);

    chart("chart-children", {
      tooltip: {
        trigger: "axis",
        formatter: function (ps) {
          var r = d.children[ps[0].dataIndex];
          return r.label + "<br>" + L.received + " " + r.received + "<br>" + L.completion_rate +
            " " + pct(r.completion_rate) + "<br>" + L.satisfaction_rate + " " +
            pct(r.satisfaction_rate) + "<br>" + L.overdue + " " + r.overdue;
        }
      },
      grid: grid,
      xAxis: { type: "category", data: d.children.map(function (r) { return r.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ name: L.received, type: "bar", cursor: "pointer",
                 data: d.children.map(function (r) { return r.received; }) }]
    }, drill);

    var h = d.heat;
    chart("chart-heat", {
      tooltip: {
        position: "top",
        formatter: function (p) {
          var key = h.figures[p.data[0]].key, raw = p.data[3];
          var shown = /rate$/.test(key) ? pct(raw) : (raw === null ? "—" : raw);
          return h.rows[p.data[1]] + " · " + h.figures[p.data[0]].label + " " + shown;
        }
      },
      grid: { left: 8, right: 24, top: 24, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: h.figures.map(function (f) { return f.label; }) },
      yAxis: { type: "category", data: h.rows },
      visualMap: { min: 0, max: 1, calculable: false, orient: "horizontal", left: "center",
                   bottom: 0, show: false },
      dataZoom: h.rows.length > 30 ? [{ type: "slider", yAxisIndex: 0, start: 0, end: 100 * 30 / h.rows.length }] : [],
      series: [{ type: "heatmap", data: h.cells.filter(function (c) { return c[2] !== null; }),
                 label: { show: h.rows.length <= 30, formatter: function (p) {
                   var key = h.figures[p.data[0]].key;
                   return /rate$/.test(key) ? pct(p.data[3]) : p.data[3];
                 } } }]
    });
  });
})();
