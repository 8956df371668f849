// The big screen: ECharts (vendored) drawing each snapshot the server streams (event "snapshot").
(function () {
  "use strict";
  var body = document.body;
  var en = body.dataset.lang === "en";
  var charts = {};
  var t = function (zh, e) { return en ? e : zh; };
  var pct = function (v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; };
  var num = function (v) { return v === null || v === undefined ? "—" : Number(v).toLocaleString("zh-CN"); };
  var axis = { axisLabel: { color: "#8fb4e8", fontSize: 14 }, axisLine: { lineStyle: { color: "#1e4b8f" } }, splitLine: { lineStyle: { color: "#12305c" } } };

  function chart(id) {
    if (!charts[id]) { charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" }); }
    return charts[id];
  }
  window.bigscreenCharts = charts; // for the browser test: the map's data is readable

  function text(id, value, bad) {
    var el = document.getElementById(id);
    el.textContent = value;
    el.parentNode.classList.toggle("bad", !!bad);
  }

  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } }

  function listItems(id, items, render, empty) {
    var el = document.getElementById(id);
    clear(el);
    if (!items.length) {
      var li = document.createElement("li"); li.className = "empty"; li.textContent = empty; el.appendChild(li); return;
    }
    items.forEach(function (item) {
      var li = document.createElement("li");
      var parts = render(item);
      var b = document.createElement("b"); b.textContent = parts[0];
      li.appendChild(b); li.appendChild(document.createTextNode(parts[1]));
      el.appendChild(li);
    });
  }

  function draw(s) {
    document.getElementById("clock").textContent = s.at.replace("T", " ").slice(0, 19);
    text("t-waiting", num(s.live.waiting), s.live.waiting > 20);
    text("t-talk", num(s.live.in_talk));
    text("t-offered", num(s.today.calls_offered));
    text("t-answered", num(s.today.calls_answered));
    text("t-sl", pct(s.today.answered_within_15s_rate), s.today.answered_within_15s_rate !== null && s.today.answered_within_15s_rate < 0.8);
    text("t-conn", pct(s.today.connection_rate), s.today.connection_rate !== null && s.today.connection_rate < 0.95);
    text("t-orders", num(s.today.orders_accepted));
    text("t-ontime", pct(s.today.on_time_response_rate));
    var pb = document.getElementById("playbook");
    pb.hidden = !s.playbook;
    if (s.playbook) { pb.textContent = t("预案启动：", "Playbook: ") + (en ? s.playbook.name_en || s.playbook.name : s.playbook.name); }

    chart("c-trend").setOption({
      animation: false,
      grid: { left: 56, right: 46, top: 30, bottom: 28 }, tooltip: { trigger: "axis" },
      legend: { textStyle: { color: "#8fb4e8" }, top: 0 },
      xAxis: Object.assign({ type: "category", data: s.trend.map(function (d) { return d.day.slice(5); }) }, axis),
      yAxis: [Object.assign({ type: "value" }, axis), Object.assign({ type: "value", min: 0, max: 1, axisLabel: { color: "#8fb4e8", formatter: function (v) { return v * 100 + "%"; } }, splitLine: { show: false } })],
      series: [
        { name: t("来电", "Calls"), type: "line", smooth: true, data: s.trend.map(function (d) { return d.calls; }), areaStyle: { opacity: 0.15 } },
        { name: t("工单", "Orders"), type: "line", smooth: true, data: s.trend.map(function (d) { return d.orders; }) },
        { name: t("15秒接通率", "In 15 s"), type: "line", yAxisIndex: 1, data: s.trend.map(function (d) { return d.service_level; }), lineStyle: { type: "dashed" } }
      ]
    });
    chart("c-hourly").setOption({
      animation: false,
      grid: { left: 44, right: 12, top: 30, bottom: 28 }, tooltip: { trigger: "axis" },
      legend: { textStyle: { color: "#8fb4e8" }, top: 0 },
      xAxis: Object.assign({ type: "category", data: s.hourly.map(function (h) { return h.hour; }) }, axis),
      yAxis: Object.assign({ type: "value" }, axis),
      series: [
        { name: t("今日", "Today"), type: "bar", data: s.hourly.map(function (h) { return h.today; }) },
        { name: t("昨日", "Yesterday"), type: "line", data: s.hourly.map(function (h) { return h.yesterday; }) }
      ]
    });
    chart("c-cats").setOption({
      animation: false,
      grid: { left: 120, right: 30, top: 6, bottom: 20 },
      xAxis: Object.assign({ type: "value" }, axis),
      yAxis: Object.assign({ type: "category", inverse: true, data: s.categories.map(function (c) { return c.name; }) }, axis),
      series: [{ type: "bar", data: s.categories.map(function (c) { return c.orders; }), itemStyle: { color: "#3fa7ff" }, label: { show: true, position: "right", color: "#dbe7ff" } }]
    });
    var max = Math.max.apply(null, s.districts.map(function (d) { return d.today; }).concat([1]));
    chart("c-map").setOption({
      animation: false,
      tooltip: { formatter: function (p) { var d = s.districts.filter(function (x) { return x.name === p.name; })[0] || { today: 0, week: 0 }; return p.name + "<br>" + t("今日 ", "today ") + d.today + "<br>" + t("近7天 ", "7 days ") + d.week; } },
      visualMap: { min: 0, max: max, calculable: true, left: 20, bottom: 20, textStyle: { color: "#8fb4e8" }, inRange: { color: ["#103a6e", "#1e88e5", "#ffb300", "#e53935"] } },
      series: [{
        type: "map", map: "haikou", roam: false, aspectScale: 0.9, layoutSize: "95%",
        label: { show: true, color: "#fff", fontSize: 20, formatter: function (p) { return p.name + "\n" + (p.value || 0); } },
        itemStyle: { borderColor: "#7fd3ff", borderWidth: 1.5 },
        data: s.districts.map(function (d) { return { name: d.name, value: d.today }; })
      }]
    });

    var table = document.getElementById("overdue");
    clear(table);
    var head = document.createElement("tr");
    [t("单位", "Unit"), t("在办", "Open"), t("签收超时", "Resp. late"), t("办结超时", "Resol. late")].forEach(function (h) { var th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
    table.appendChild(head);
    s.overdue_units.slice(0, 9).forEach(function (u) {
      var tr = document.createElement("tr");
      [[u.unit.replace("海口市", ""), ""], [u.open, "n"], [u.response_overdue, u.response_overdue ? "n bad" : "n"], [u.resolution_overdue, u.resolution_overdue ? "n bad" : "n"]].forEach(function (c) {
        var td = document.createElement("td"); td.textContent = c[0]; td.className = c[1]; tr.appendChild(td);
      });
      table.appendChild(tr);
    });
    listItems("alarms", s.alarms.slice(0, 12), function (a) { return [a.time, en ? a.message_en : a.message]; }, t("暂无告警", "No alarms"));
    listItems("hot", s.hot_events, function (h) { return [h.size + t("件", " orders"), " " + h.place + " · " + h.summary + " (" + h.since + ")"]; }, t("暂无热点事件", "No hot events"));
    body.dataset.snapshotAt = s.at;
  }

  function start() {
    fetch(body.dataset.geo).then(function (r) { return r.json(); }).then(function (geo) {
      echarts.registerMap("haikou", geo);
      var source = new EventSource(body.dataset.stream);
      source.addEventListener("snapshot", function (e) { draw(JSON.parse(e.data)); });
      source.addEventListener("open", function () { document.getElementById("live-dot").classList.add("on"); });
      source.addEventListener("error", function () { document.getElementById("live-dot").classList.remove("on"); });
    });
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
