/* The staff form for a caller's report: a map to put the pin on, which fills in
   the latitude and longitude fields (and follows them when they are typed).
   The fields and the address search work without this script. */
(function () {
  "use strict";
  var mapEl = document.getElementById("caller-map");
  if (!mapEl || typeof L === "undefined") { return; }
  var form = mapEl.closest("form") || document;
  var lat = form.querySelector("input[name=lat]");
  var lon = form.querySelector("input[name=lon]");
  if (!lat || !lon) { return; }
  mapEl.hidden = false;
  var hint = document.getElementById("caller-map-hint");
  if (hint) { hint.hidden = false; }
  var b = mapEl.dataset.bounds.split(",").map(Number);
  var map = L.map(mapEl).fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  L.tileLayer(mapEl.dataset.tiles, { attribution: mapEl.dataset.attribution, maxZoom: 19 }).addTo(map);
  var marker = null;

  function put(latlng, pan) {
    if (marker) { marker.setLatLng(latlng); }
    else {
      marker = L.marker(latlng, { draggable: true, keyboard: false, alt: "" }).addTo(map);
      marker.on("dragend", function () { fill(marker.getLatLng()); });
    }
    if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
  }
  function fill(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
  }
  function fromFields() {
    var la = Number(lat.value), lo = Number(lon.value);
    if (lat.value.trim() && lon.value.trim() && isFinite(la) && isFinite(lo)) {
      put(L.latLng(la, lo), true);
    }
  }
  map.on("click", function (event) { put(event.latlng, false); fill(event.latlng); });
  lat.addEventListener("change", fromFields);
  lon.addEventListener("change", fromFields);
  fromFields();
}());
