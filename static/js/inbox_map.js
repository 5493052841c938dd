/* The inbox map's "Filter to the map's area": the inbox's list with its
   filters and the visible box as the area (workspace.areas). The map itself is
   drawn by reports_map.js. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("inbox-map-area");
    var el = document.getElementById("reports-map");
    if (!button || !el) { return; }
    button.addEventListener("click", function () {
      var map = el.knutpunktMap;
      if (!map) { return; }
      var b = map.getBounds();
      var params = new URLSearchParams(button.dataset.query || "");
      params.set("area", [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
        .map(function (n) { return Math.max(-180, Math.min(180, n)).toFixed(5); }).join(","));
      window.location.href = button.dataset.listUrl + "?" + params.toString();
    });
  });
})();
