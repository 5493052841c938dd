/* The inbox map's area filters: "Filter to the map's area" sends the visible
   box, "Draw an area" a polygon drawn corner by corner (Leaflet.draw, shipped
   with django-leaflet), both as the inbox list's ``area`` with its other
   filters (workspace.areas). The map itself is drawn by reports_map.js. A
   kommun's districts are the way to an area without a pointer. */
(function () {
  "use strict";

  function clamp(n, low, high) { return Math.max(low, Math.min(high, n)); }

  function goToList(button, area) {
    var params = new URLSearchParams(button.dataset.query || "");
    params.set("area", area);
    window.location.href = button.dataset.listUrl + "?" + params.toString();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("reports-map");
    var boxButton = document.getElementById("inbox-map-area");
    var drawButton = document.getElementById("inbox-map-draw");
    if (!el) { return; }
    if (boxButton) {
      boxButton.addEventListener("click", function () {
        var map = el.knutpunktMap;
        if (!map) { return; }
        var b = map.getBounds();
        goToList(boxButton, [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
          .map(function (n) { return clamp(n, -180, 180).toFixed(5); }).join(","));
      });
    }
    if (!drawButton) { return; }
    if (!window.L || !L.Draw || !L.Draw.Polygon) { drawButton.hidden = true; return; }
    var status = document.getElementById("inbox-map-draw-status");
    var tooltip = L.drawLocal.draw.handlers.polygon.tooltip;
    tooltip.start = drawButton.dataset.start;
    tooltip.cont = drawButton.dataset.cont;
    tooltip.end = drawButton.dataset.end;
    var drawing = null;
    drawButton.addEventListener("click", function () {
      var map = el.knutpunktMap;
      if (!map || drawing) { return; }
      drawing = new L.Draw.Polygon(map, {
        allowIntersection: false,
        showArea: false,
        shapeOptions: { color: "#005a9c", weight: 3 }
      });
      map.once(L.Draw.Event.CREATED, function (event) {
        var geometry = event.layer.toGeoJSON().geometry;
        geometry.coordinates = geometry.coordinates.map(function (ring) {
          return ring.map(function (point) {
            return [Number(clamp(point[0], -180, 180).toFixed(6)),
                    Number(clamp(point[1], -90, 90).toFixed(6))];
          });
        });
        goToList(drawButton, JSON.stringify(geometry));
      });
      drawing.enable();
      if (status) { status.textContent = drawButton.dataset.start; }
      el.focus();
    });
  });
})();
