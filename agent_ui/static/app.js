// The web desk's own script: response countdowns, live streams (server-sent events), the category picker.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : "" + n; }

  // Countdowns: <span class="countdown" data-due="ISO" data-now="ISO server time">.
  function tickCountdowns() {
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var skew = el._skew;
      if (skew === undefined) {
        skew = el.dataset.now ? Date.parse(el.dataset.now) - Date.now() : 0;
        el._skew = skew;
      }
      var left = Math.round((Date.parse(el.dataset.due) - (Date.now() + skew)) / 1000);
      if (el.dataset.format === "seconds") {
        // The wrap-up after a call: seconds until app_queue rings the agent again; then the panel reloads.
        el.textContent = Math.max(left, 0) + " s";
        if (left <= 0 && el.dataset.refreshOnEnd && !el._ended && window.htmx) {
          el._ended = true;
          var panel = document.querySelector(el.dataset.refreshOnEnd);
          var url = document.querySelector("[data-status-url]");
          if (panel && url) { window.htmx.ajax("GET", url.dataset.statusUrl, { target: panel, swap: "innerHTML" }); }
        }
        return;
      }
      var sign = left < 0 ? "-" : "";
      var s = Math.abs(left);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = sign + (h >= 48 ? Math.floor(h / 24) + "d " + (h % 24) + "h" : h + ":" + pad(m) + ":" + pad(sec));
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 600);
    });
  }
  setInterval(tickCountdowns, 1000);
  document.addEventListener("DOMContentLoaded", tickCountdowns);
  document.addEventListener("htmx:afterSwap", tickCountdowns);

  // Live streams: <div data-stream="/url" data-refresh="#target" data-refresh-url="/fragment">.
  function connect(el) {
    var source = new EventSource(el.dataset.stream);
    var target = el.dataset.refresh;
    var url = el.dataset.refreshUrl;
    var refresh = function () {
      if (window.htmx && target && url) { window.htmx.ajax("GET", url, { target: target, swap: "innerHTML" }); }
    };
    var live = function () {
      if (window.htmx && el.dataset.live && el.dataset.liveUrl) {
        window.htmx.ajax("GET", el.dataset.liveUrl, { target: el.dataset.live, swap: "innerHTML" });
      }
    };
    var status = function () {
      if (window.htmx && el.dataset.status && el.dataset.statusUrl) {
        window.htmx.ajax("GET", el.dataset.statusUrl, { target: el.dataset.status, swap: "innerHTML" });
      }
    };
    source.addEventListener("refresh", function () {
      refresh(); live(); status();
      document.dispatchEvent(new CustomEvent("hotline:refresh"));
    });
    source.addEventListener("transcript", function (e) {
      document.dispatchEvent(new CustomEvent("hotline:transcript", { detail: JSON.parse(e.data) }));
    });
    source.addEventListener("autofill", function (e) {
      document.dispatchEvent(new CustomEvent("hotline:autofill", { detail: JSON.parse(e.data) }));
    });
    source.addEventListener("live", live);
    source.addEventListener("alarm", function (e) {
      var list = document.querySelector(el.dataset.alarms || "#alarm-feed");
      if (list) {
        var data = JSON.parse(e.data);
        var li = document.createElement("li");
        li.className = "fresh";
        li.textContent = data.time + "  " + data.message;
        list.insertBefore(li, list.firstChild);
        var none = document.getElementById("no-alarms");
        if (none) { none.remove(); }
      }
      refresh();
    });
    source.addEventListener("open", function () {
      document.body.dataset.live = "1";
      document.dispatchEvent(new CustomEvent("hotline:stream-open"));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-stream]").forEach(connect);
  });

  // Three-level category picker over the JSON in <script id="categories-data">.
  function picker() {
    var data = document.getElementById("categories-data");
    if (!data) { return; }
    var cats = JSON.parse(data.textContent);
    var l1 = document.getElementById("cat-l1"), l2 = document.getElementById("cat-l2"), l3 = document.getElementById("category_id");
    function fill(select, values, placeholder) {
      select.innerHTML = "";
      var first = document.createElement("option");
      first.value = ""; first.textContent = placeholder;
      select.appendChild(first);
      values.forEach(function (v) {
        var o = document.createElement("option");
        o.value = v[0]; o.textContent = v[1];
        select.appendChild(o);
      });
    }
    function uniq(arr) { return arr.filter(function (v, i) { return arr.indexOf(v) === i; }); }
    var chosen = l3.dataset.selected;
    fill(l1, uniq(cats.map(function (c) { return c[1]; })).map(function (v) { return [v, v]; }), l1.dataset.placeholder);
    function onL1() {
      fill(l2, uniq(cats.filter(function (c) { return c[1] === l1.value; }).map(function (c) { return c[2]; }))
        .map(function (v) { return [v, v]; }), l2.dataset.placeholder);
      fill(l3, [], l3.dataset.placeholder);
    }
    function onL2() {
      fill(l3, cats.filter(function (c) { return c[1] === l1.value && c[2] === l2.value; })
        .map(function (c) { return [String(c[0]), c[3]]; }), l3.dataset.placeholder);
    }
    l1.addEventListener("change", onL1);
    l2.addEventListener("change", onL2);
    if (chosen) {
      var c = cats.filter(function (x) { return String(x[0]) === chosen; })[0];
      if (c) { l1.value = c[1]; onL1(); l2.value = c[2]; onL2(); l3.value = chosen; }
    }
  }
  document.addEventListener("DOMContentLoaded", picker);

  // Recording player: a click on a transcript line seeks the <audio> there (a Range request fetches the
  // bytes); while it plays, the line being spoken is highlighted.
  function player() {
    document.querySelectorAll("ol.segments[data-player]").forEach(function (list) {
      var audio = document.querySelector(list.dataset.player);
      if (!audio) { return; }
      var lines = Array.prototype.slice.call(list.querySelectorAll("li.seg"));
      function seek(li) {
        audio.currentTime = parseInt(li.dataset.start, 10) / 1000;
        var played = audio.play();
        if (played && played.catch) { played.catch(function () {}); }
      }
      lines.forEach(function (li) {
        li.addEventListener("click", function () { seek(li); });
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") { seek(li); } });
      });
      audio.addEventListener("timeupdate", function () {
        var ms = audio.currentTime * 1000;
        lines.forEach(function (li) {
          var on = ms >= parseInt(li.dataset.start, 10) && ms < parseInt(li.dataset.end, 10);
          li.classList.toggle("current", on);
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", player);

  // Emergency lines (110/119/120/122) on the desk: Alt+1..4 transfers the caller, Alt+Shift+1..4 opens a
  // three-way call: one key presses the button of the live call's screen pop.
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey) { return; }
    var m = /^Digit([1-9])$/.exec(e.code || "");
    if (!m) { return; }
    var key = (e.shiftKey ? "shift+" : "") + m[1];
    var button = document.querySelector('[data-emergency-key="' + key + '"]');
    if (!button || button.disabled) { return; }
    e.preventDefault();
    button.click();
  });

  // Suggestions panel: "use" puts the suggested category into the work-order form's picker.
  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("[data-use-category]") : null;
    if (!button) { return; }
    e.preventDefault();
    var l3 = document.getElementById("category_id");
    var data = document.getElementById("categories-data");
    if (!l3 || !data) { return; }
    var id = button.dataset.useCategory;
    var c = JSON.parse(data.textContent).filter(function (x) { return String(x[0]) === id; })[0];
    if (!c) { return; }
    var l1 = document.getElementById("cat-l1"), l2 = document.getElementById("cat-l2");
    l1.value = c[1]; l1.dispatchEvent(new Event("change"));
    l2.value = c[2]; l2.dispatchEvent(new Event("change"));
    l3.value = id; l3.dispatchEvent(new Event("change", { bubbles: true }));
    document.querySelectorAll("[data-use-category]").forEach(function (b) { b.classList.remove("chosen"); });
    button.classList.add("chosen");
  });

  // The order form fills itself (智能填单): values from the call arrive as "autofill" events. A value is
  // marked suggested (yellow) until the agent accepts it (green) or edits it; a field the agent edited is
  // never overwritten. What happened to each suggested value travels with the form in #assist_state.
  function categorySelect(id) {
    var data = document.getElementById("categories-data");
    var l3 = document.getElementById("category_id");
    if (!data || !l3) { return false; }
    var c = JSON.parse(data.textContent).filter(function (x) { return String(x[0]) === String(id); })[0];
    if (!c) { return false; }
    var l1 = document.getElementById("cat-l1"), l2 = document.getElementById("cat-l2");
    l1.value = c[1]; l1.dispatchEvent(new Event("change"));
    l2.value = c[2]; l2.dispatchEvent(new Event("change"));
    l3.value = String(id);
    return true;
  }

  function assist() {
    var form = document.getElementById("intake-form");
    var stateInput = document.getElementById("assist_state");
    if (!form || !stateInput) { return; }
    var INPUT = { citizen_phone: "citizen_phone", district: "district", location_text: "location_text",
      case_type: "case_type", category: "category_id", unit: "unit_code", description: "description" };
    var state = {};
    try { state = JSON.parse(stateInput.value || "{}") || {}; } catch (err) { state = {}; }
    var T = form.dataset;
    function el(name) { return document.getElementById(INPUT[name]); }
    // Does the form hold this suggested value? (The category's picker holds the id of its path.)
    function holds(name, value, id) {
      var e = el(name);
      return name === "category" ? !!id && e.value === String(id) : e.value === value;
    }
    function save() { stateInput.value = JSON.stringify(state); }
    function note(name) {
      var box = document.querySelector('[data-af-for="' + name + '"]');
      var st = state[name], e = el(name);
      if (!box || !e) { return; }
      box.innerHTML = "";
      e.classList.toggle("af-suggested", !!st && st.state === "suggested" && !!st.suggested);
      e.classList.toggle("af-accepted", !!st && st.state === "accepted");
      if (!st) { return; }
      if (st.suggested || st.offers.length) {
        var badge = document.createElement("span");
        badge.className = "af-badge " + st.state;
        badge.textContent = st.state === "accepted" ? T.afAccepted : st.state === "edited" ? T.afEdited : T.afSuggested;
        box.appendChild(badge);
      }
      if (st.state === "suggested" && st.suggested) {
        var ok = document.createElement("button");
        ok.type = "button"; ok.className = "btn small"; ok.textContent = T.afAccept;
        ok.dataset.afAccept = name;
        box.appendChild(ok);
      }
      (st.offers || []).forEach(function (value, i) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "btn small secondary";
        b.textContent = (st.suggested ? T.afUse + " " : "") + ((st.offerLabels || [])[i] || value);
        b.dataset.afOffer = name; b.dataset.value = value;
        if (st.offerIds) { b.dataset.id = st.offerIds[i] || ""; }
        box.appendChild(b);
      });
      var why = document.createElement("span");
      why.className = "af-why"; why.textContent = st.why || "";
      box.appendChild(why);
    }
    function apply(data) {
      if (!data || !data.fields) { return; }
      var callInput = document.getElementById("call_id");
      if (callInput && data.call_id && callInput.value !== data.call_id) {
        callInput.value = data.call_id;  // a new call: what the last one suggested no longer counts
        state = {};
      }
      Object.keys(data.fields).forEach(function (name) {
        var f = data.fields[name], e = el(name);
        if (!e) { return; }
        var st = state[name];
        var untouched = !st || st.state === "suggested";
        var previous = !!st && holds(name, st.suggested, st.id);
        var mine = e.value !== "" && !previous && !holds(name, f.value, f.id);
        if (untouched && !mine) {
          if (f.value && name === "category") { if (!categorySelect(f.id)) { return; } }
          else if (name === "category" && previous) { categorySelect(""); }
          else if (f.value || previous) { e.value = f.value; }
          state[name] = { suggested: f.value, source: f.source, state: "suggested", id: f.id || null };
        } else if (!st) {
          state[name] = { suggested: f.value, source: f.source, state: "edited", id: f.id || null };
        }
        state[name].why = f.why;
        state[name].offers = f.offers || [];
        state[name].offerIds = f.offer_ids || null;
        note(name);
      });
      save();
      var legend = document.getElementById("af-legend"), all = document.getElementById("af-accept-all");
      if (legend) { legend.hidden = false; }
      if (all) { all.hidden = false; }
      form.dispatchEvent(new Event("change"));  // the routing suggestion box follows the new values
      form.dataset.afSeq = String(parseInt(form.dataset.afSeq || "0", 10) + 1);  // autofills applied
    }
    function accept(name) {
      var st = state[name];
      if (!st || !st.suggested) { return; }
      st.state = "accepted";
      note(name); save();
    }
    form.addEventListener("click", function (e) {
      var t = e.target;
      if (t.dataset && t.dataset.afAccept) { e.preventDefault(); accept(t.dataset.afAccept); }
      if (t.dataset && t.dataset.afOffer) {
        e.preventDefault();
        var name = t.dataset.afOffer, st = state[name];
        if (name === "category") { categorySelect(t.dataset.id); } else { el(name).value = t.dataset.value; }
        if (st) { st.state = t.dataset.value === st.suggested ? "accepted" : "edited"; }
        note(name); save();
        form.dispatchEvent(new Event("change"));
      }
    });
    document.addEventListener("click", function (e) {
      if (e.target && e.target.id === "af-accept-all") {
        Object.keys(state).forEach(function (name) { if (state[name].state === "suggested") { accept(name); } });
      }
    });
    // The agent's own typing or choosing (trusted events only: our own updates are not edits).
    function edited(e) {
      if (!e.isTrusted) { return; }
      Object.keys(INPUT).forEach(function (name) {
        var input = el(name), st = state[name];
        var mine = input && (e.target === input || (name === "category" && /^cat-l[12]$/.test(e.target.id)));
        if (!mine || !st) { return; }
        st.state = st.suggested && holds(name, st.suggested, st.id) ? "accepted" : "edited";
        note(name); save();
      });
    }
    form.addEventListener("input", edited);
    form.addEventListener("change", edited);
    document.addEventListener("hotline:autofill", function (e) { apply(e.detail); });
    // The agent changed a field by a click elsewhere on the desk (a transcript line into the description).
    document.addEventListener("hotline:agent-edit", function (e) {
      var name = e.detail && e.detail.field, st = state[name];
      if (!st) { return; }
      st.state = st.suggested && holds(name, st.suggested, st.id) ? "accepted" : "edited";
      note(name); save();
    });
    Object.keys(state).forEach(note);
    var initial = document.getElementById("autofill-data");
    if (initial && initial.textContent.trim() !== "null") {
      try { apply(JSON.parse(initial.textContent)); } catch (err) { /* a malformed page keeps its form */ }
    }
  }
  document.addEventListener("DOMContentLoaded", assist);
})();
