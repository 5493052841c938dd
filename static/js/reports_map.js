/* The public map of reports: fetches the reports (or, zoomed out, clusters of
   them) in the visible area from /api/v1/reports and draws them. The list below
   the map works without this script. The staff inbox's map uses it too, with
   its own endpoint (data-endpoint) and the inbox's filters (data-query). */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("reports-map");
    if (!el) { return; }
    var filters = document.getElementById("map-filters");
    var endpoint = el.dataset.endpoint || "/api/v1/reports";
    var map = L.map(el);
    if (el.dataset.view) {
      // The site's own start view ("lat,lon,zoom"), else the kommun's extent.
      var v = el.dataset.view.split(",").map(Number);
      map.setView([v[0], v[1]], v[2]);
    } else {
      var b = el.dataset.bounds.split(",").map(Number);
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    }
    var layer = L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 19 });
    layer.once("tileerror", function () {
      var note = document.createElement("p");
      note.className = "hint tiles-down";
      note.textContent = el.dataset.tilesDown || "";
      el.insertAdjacentElement("afterend", note);
    });
    layer.addTo(map);
    var reports = L.layerGroup().addTo(map);
    var pending = null;

    function query() {
      var bounds = map.getBounds();
      var params = new URLSearchParams(el.dataset.query || "");
      params.set("bbox", [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()]
        .map(function (n) { return Math.max(-180, Math.min(180, n)).toFixed(5); }).join(","));
      params.set("zoom", String(map.getZoom()));
      if (filters) {
        new FormData(filters).forEach(function (value, key) { if (value) { params.set(key, value); } });
      }
      return endpoint + "?" + params.toString();
    }

    function draw(data) {
      reports.clearLayers();
      data.features.forEach(function (feature) {
        var c = feature.geometry.coordinates;
        var p = feature.properties;
        var at = L.latLng(c[1], c[0]);
        if (p.cluster) {
          var size = p.count > 999 ? 48 : p.count > 99 ? 40 : 32;
          var label = (el.dataset.clusterTitle || "COUNT").replace("COUNT", String(p.count));
          var cluster = L.marker(at, {
            icon: L.divIcon({ className: "report-cluster", html: String(p.count), iconSize: [size, size] }),
            keyboard: true,
            title: label
          }).on("click", function () { map.setView(at, Math.min(map.getZoom() + 3, 19)); }).addTo(reports);
          // A button (Leaflet's role) named by what it holds and does, not the bare count.
          cluster.getElement().setAttribute("aria-label", label);
          return;
        }
        var marker = L.circleMarker(at, {
          radius: 9,
          className: "report-marker status-" + p.status,
          weight: 2
        });
        var link = document.createElement("a");
        link.href = p.url;
        link.textContent = p.title;
        var details = document.createElement("div");
        details.appendChild(link);
        details.appendChild(document.createTextNode(" · " + p.category.name + " · " + p.status_label));
        marker.bindPopup(details).addTo(reports);
      });
    }

    function refresh() {
      if (pending) { pending.abort(); }
      pending = new AbortController();
      fetch(query(), { headers: { Accept: "application/json" }, signal: pending.signal })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { draw(data); } })
        .catch(function () { /* aborted or offline: keep what is shown */ });
    }

    el.knutpunktMap = map;
    map.on("moveend", refresh);
    // "Watch the area" follows the map's centre.
    var watch = document.getElementById("watch-area");
    if (watch) {
      map.on("moveend", function () {
        var c = map.getCenter();
        watch.href = watch.href.split("?")[0] + "?lat=" + c.lat.toFixed(5) + "&lon=" + c.lng.toFixed(5);
      });
    }
    if (filters) { filters.addEventListener("change", refresh); }
    refresh();
  });
})();
