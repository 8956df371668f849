// The staffing page's chart: forecast calls, agents needed (Erlang C) and the roster per 30 minutes.
(function () {
  var rows = JSON.parse(document.getElementById("staffing-data").textContent);
  var el = document.getElementById("staffing-chart");
  var chart = echarts.init(el);
  chart.setOption({
    animation: false, tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 50, right: 50, top: 30, bottom: 60 },
    dataZoom: [{ type: "slider", start: 0, end: 15 }],
    xAxis: { type: "category", data: rows.map(function (r) { return r.start.slice(5, 16).replace("T", " "); }) },
    yAxis: [{ type: "value", name: el.dataset.agents }, { type: "value", name: el.dataset.calls }],
    series: [
      { name: el.dataset.needed, type: "line", step: "middle", data: rows.map(function (r) { return r.agents_needed; }) },
      { name: el.dataset.rostered, type: "line", step: "middle", data: rows.map(function (r) { return r.scheduled; }) },
      { name: el.dataset.forecast, type: "bar", yAxisIndex: 1, data: rows.map(function (r) { return r.calls; }), itemStyle: { opacity: 0.35 } }
    ]
  });
})();
