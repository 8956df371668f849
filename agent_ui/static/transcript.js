// The desk's live transcript: one line per utterance, updated in place (a partial grows, its final replaces
// it), speaker and call time on each line. Lines arrive as "transcript" events of the desk's stream (app.js
// re-dispatches them as "hotline:transcript"); each one touches one <li>, so a 20-minute call costs one
// element per utterance and constant work per event. The list follows the newest line unless the agent
// scrolled up, in which case a "new lines" button appears. A final's button appends it to the order's
// description, marked as taken from the transcript.
(function () {
  "use strict";

  var box, list, hint, T;
  var byKey = {};           // key -> <li>
  var syncing = false;      // a resync is in flight: events wait in `pending`, then are applied
  var pending = [];
  var again = false;        // another resync was asked for while one was in flight
  var NEAR_BOTTOM_PX = 24;

  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function mmss(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    return pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }
  function atBottom() { return box.scrollHeight - box.scrollTop - box.clientHeight <= NEAR_BOTTOM_PX; }
  function toBottom() { box.scrollTop = box.scrollHeight; hint.hidden = true; }

  function index() {
    byKey = {};
    list = box.querySelector("ol.lines");
    Array.prototype.forEach.call(list.children, function (li) { byKey[li.dataset.key] = li; });
  }

  // The same markup as _desk_transcript.html.
  function fill(li, line) {
    li.className = "line " + line.speaker + " " + (line.final ? "final" : line.placeholder ? "partial speaking" : "partial");
    li.dataset.key = line.key;
    li.dataset.start = String(line.start_ms);
    li.dataset.testid = "line";
    li.textContent = "";
    var when = document.createElement("span");
    when.className = "when"; when.textContent = mmss(line.start_ms);
    var who = document.createElement("b");
    who.className = "who"; who.textContent = line.speaker === "caller" ? T.caller : T.agent;
    var text = document.createElement("span");
    text.className = "text";
    if (line.placeholder) {
      var dots = document.createElement("span");
      dots.className = "dots"; dots.textContent = T.speaking;
      text.appendChild(dots);
    } else {
      text.textContent = line.text;
    }
    li.appendChild(when); li.appendChild(who); li.appendChild(text);
    if (line.final) {
      var copy = document.createElement("button");
      copy.type = "button"; copy.className = "copy"; copy.textContent = T.copy; copy.title = T.copyTitle;
      copy.setAttribute("data-copy-line", ""); copy.dataset.testid = "copy-line";
      li.appendChild(copy);
    }
  }

  function apply(line) {
    if (!line || !line.key) { return; }
    if (syncing) { pending.push(line); return; }
    place(line);
    // Every event handled counts, placed or ignored (a partial late for its final): tests and benches wait
    // on this count, and events held during a resync are counted when they are replayed.
    box.dataset.applied = String(parseInt(box.dataset.applied || "0", 10) + 1);
  }

  function place(line) {
    if (list.dataset.call !== line.call_id) {  // a new call: the last one's lines go
      list.textContent = ""; byKey = {}; list.dataset.call = line.call_id;
    }
    var empty = box.querySelector(".empty");
    if (empty) { empty.remove(); }
    var follow = atBottom();
    var li = byKey[line.key];
    if (li) {
      if (li.classList.contains("final") && !line.final) { return; }  // a partial late for its final
      fill(li, line);
    } else {
      li = document.createElement("li");
      fill(li, line);
      var before = line.before ? byKey[line.before] : null;
      list.insertBefore(li, before || null);
      byKey[line.key] = li;
      if (!follow) { hint.hidden = false; }
    }
    if (follow) { toBottom(); }
  }

  // After the stream (re)connects, or the call changed: the lines so far, from whichever process serves us.
  function resync() {
    if (syncing) { again = true; return; }  // the fetch in flight may predate what asked for this one
    syncing = true;
    again = false;
    var follow = atBottom(), top = box.scrollTop;
    fetch(box.dataset.url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        box.innerHTML = html;
        index();
        if (follow) { toBottom(); } else { box.scrollTop = top; }
      })
      .catch(function () { /* keep what is shown; the next line updates it */ })
      .then(function () {
        syncing = false;
        if (again) { resync(); return; }  // the events wait for the newer picture
        var waiting = pending; pending = [];
        waiting.forEach(apply);
      });
  }

  function copyLine(li) {
    var desc = document.getElementById("description");
    if (!desc) { return; }
    var text = li.querySelector(".text").textContent.trim();
    if (!text) { return; }
    var mark = "[" + T.from + " " + li.querySelector(".when").textContent + " " + li.querySelector(".who").textContent + "] ";
    var value = desc.value.replace(/\s+$/, "");
    desc.value = (value ? value + "\n" : "") + mark + text;
    li.classList.add("copied");
    var button = li.querySelector("[data-copy-line]");
    if (button) { button.textContent = T.copied; }
    // The agent chose this text: the autofill treats the description as theirs; the routing box follows.
    document.dispatchEvent(new CustomEvent("hotline:agent-edit", { detail: { field: "description" } }));
    desc.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function start() {
    box = document.getElementById("transcript");
    hint = document.getElementById("transcript-new");
    if (!box || !hint) { return; }
    T = box.dataset;
    index();
    toBottom();
    box.addEventListener("scroll", function () { if (atBottom()) { hint.hidden = true; } });
    hint.addEventListener("click", toBottom);
    box.addEventListener("click", function (e) {
      var button = e.target.closest ? e.target.closest("[data-copy-line]") : null;
      if (button) { e.preventDefault(); copyLine(button.closest("li")); }
    });
    document.addEventListener("hotline:transcript", function (e) { apply(e.detail); });
    // Lines published between this page's rendering and its stream's connection are fetched, too.
    document.addEventListener("hotline:stream-open", resync);
    document.addEventListener("hotline:refresh", resync);
  }
  document.addEventListener("DOMContentLoaded", start);
})();
