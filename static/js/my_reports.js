/* "Mina sidor": each report's status follows its case live, over one socket.
   Reconnects with growing pauses, asking for the events it missed. */
(function () {
  "use strict";
  var list = document.getElementById("my-reports");
  if (!list || !window.WebSocket) { return; }
  var lang = (document.documentElement.lang || "sv").slice(0, 2);
  // The newest event the page reflects: the socket asks for what came after it.
  var lastId = parseInt(list.dataset.after, 10) || 0;
  var pause = 1000;

  function show(event) {
    lastId = Math.max(lastId, event.id);
    var row = list.querySelector('[data-report-id="' + event.report + '"]');
    if (!row) { return; }
    if (event.changes_status) {
      var status = row.querySelector(".status");
      status.textContent = event.status_display[lang] || event.status_display.sv;
      status.className = "status status-" + event.status;
    }
    var latest = row.querySelector(".latest");
    var holder = document.createElement("ol");
    holder.innerHTML = event.html[lang] || event.html.sv || "";
    latest.textContent = holder.textContent.trim();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + list.dataset.live + "?after=" + lastId);
    socket.onopen = function () { pause = 1000; list.dataset.liveState = "open"; };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.type === "event") { show(event); }
    };
    socket.onclose = function (close) {
      list.dataset.liveState = "closed";
      if (close.code === 4403) { return; }
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, 30000);
    };
  }
  connect();
})();
