/* Live updates on the report page: new events arrive over a websocket and are
   shown as a reload would show them, and announced politely to screen readers.
   Reconnects with growing pauses. */
(function () {
  "use strict";
  var article = document.querySelector("article.report[data-live]");
  if (!article || !window.WebSocket) { return; }
  var lang = (document.documentElement.lang || "sv").slice(0, 2);
  var timeline = document.getElementById("timeline");
  var pause = 1000;

  function lastId() {
    var ids = Array.prototype.map.call(
      document.querySelectorAll("#timeline [data-event-id]"),
      function (item) { return parseInt(item.dataset.eventId, 10) || 0; });
    return Math.max.apply(null, [0].concat(ids));
  }

  var live = document.getElementById("report-live");

  // Says a new event politely, as the timeline shows it (status, note, case).
  function announce(html) {
    if (!live) { return; }
    var holder = document.createElement("ol");
    holder.innerHTML = html;
    Array.prototype.forEach.call(holder.querySelectorAll("time"), function (t) { t.remove(); });
    Array.prototype.forEach.call(holder.querySelectorAll("p"), function (p) { p.before(" "); });
    var text = holder.textContent.replace(/\s+/g, " ").trim();
    if (text) { live.textContent = live.dataset.prefix + " " + text; }
  }

  function show(event) {
    var html = event.html[lang] || event.html.sv || "";
    if (timeline && !timeline.querySelector('[data-event-id="' + event.id + '"]')) {
      timeline.insertAdjacentHTML("beforeend", html);
      announce(html);
    }
    if (event.changes_status) {
      var status = document.getElementById("report-status");
      if (status) {
        status.textContent = event.status_display[lang] || event.status_display.sv;
        status.className = "status status-" + event.status;
      }
    }
    if (event.kind === "sent") {
      var sent = document.getElementById("report-sent");
      var item = timeline && timeline.querySelector('[data-event-id="' + event.id + '"] .sent');
      if (sent && item) { sent.textContent = item.textContent; }
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    // Always say what the page has (0: no event yet), so that an event that
    // came between rendering the page and opening the socket is sent too.
    var socket = new WebSocket(scheme + location.host + article.dataset.live + "?after=" + lastId());
    socket.onopen = function () { pause = 1000; article.dataset.liveState = "open"; };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "event") { show(event); }
    };
    socket.onclose = function (close) {
      article.dataset.liveState = "closed";
      if (close.code === 4403) { return; }  // not allowed to watch: do not retry
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 30000);
    };
  }
  connect();
})();
