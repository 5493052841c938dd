/* Knutpunkt citizen pages: the report form's map, place search, categories,
   nearby reports and upload with progress; the report page's small map.
   Everything works without this script too (search → pick a place → form). */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function tileLayer(map, el) {
    var layer = L.tileLayer(el.dataset.tiles, { attribution: el.dataset.attribution, maxZoom: 19 });
    var warned = false;
    layer.on("tileerror", function () {
      if (warned) { return; }
      warned = true;
      var note = document.createElement("p");
      note.className = "hint tiles-down";
      note.textContent = el.dataset.tilesDown || "";
      el.insertAdjacentElement("afterend", note);
    });
    layer.addTo(map);
  }

  // The site's own start view ("lat,lon,zoom"), else the kommun's extent.
  function startView(map, el) {
    if (el.dataset.view) {
      var v = el.dataset.view.split(",").map(Number);
      map.setView([v[0], v[1]], v[2]);
      return;
    }
    var b = el.dataset.bounds.split(",").map(Number);
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  }

  function reportForm(form) {
    var mapEl = $("#map");
    var lat = $("input[name=lat]", form);
    var lon = $("input[name=lon]", form);
    var categories = $("#categories");
    var nearby = $("#nearby");
    var marker = null;
    // The map and its hint are for this script only: hidden without it.
    mapEl.hidden = false;
    $("#map-hint").hidden = false;
    var map = L.map(mapEl, { tap: true });
    startView(map, mapEl);
    tileLayer(map, mapEl);

    function selectedCategory() {
      var checked = $("input[name=category]:checked", form);
      return checked ? checked.value : "";
    }

    function showQuestions() {
      var slug = selectedCategory();
      $all(".questions", form).forEach(function (q) { q.hidden = q.dataset.category !== slug; });
      // The service promise of the chosen category only (all show without the script).
      $all(".promise[data-category]", form).forEach(function (p) { p.hidden = p.dataset.category !== slug; });
    }

    function loadNearby() {
      var slug = selectedCategory();
      if (!slug || !lat.value) { nearby.hidden = true; return; }
      var url = "/api/v1/reports/nearby?lat=" + lat.value + "&lon=" + lon.value + "&category=" + encodeURIComponent(slug);
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { reports: [] }; })
        .then(function (data) {
          nearby.textContent = "";
          if (!data.reports.length) { nearby.hidden = true; return; }
          var heading = document.createElement("p");
          heading.textContent = nearby.dataset.heading;
          nearby.appendChild(heading);
          var list = document.createElement("ul");
          data.reports.forEach(function (report) {
            var item = document.createElement("li");
            var link = document.createElement("a");
            link.href = report.url;
            link.textContent = report.title + " (" + report.status + ", " + report.distance_m + " m)";
            item.appendChild(link);
            var follow = document.createElement("button");
            follow.type = "button";
            follow.className = "secondary follow-instead";
            follow.textContent = nearby.dataset.follow;
            follow.addEventListener("click", function () { followInstead(report, item); });
            item.appendChild(follow);
            list.appendChild(item);
          });
          nearby.appendChild(list);
          nearby.hidden = false;
        })
        .catch(function () { nearby.hidden = true; });
    }

    function followInstead(report, item) {
      var email = $("input[name=email]", form).value;
      var body = new FormData();
      body.append("csrfmiddlewaretoken", $("input[name=csrfmiddlewaretoken]", form).value);
      body.append("email", email);
      fetch(report.url + "folj/", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) {
          if (r.ok || r.redirected) { window.location.href = report.url; return; }
          item.appendChild(document.createTextNode(" " + nearby.dataset.followEmail));
        });
    }

    function bindCategories() {
      $all("input[name=category]", form).forEach(function (input) {
        input.addEventListener("change", function () { showQuestions(); loadNearby(); });
      });
      showQuestions();
    }

    // A place is chosen: the error asking for one no longer applies.
    function placeChosen() {
      var search = $("#id_q");
      $("#place-error").textContent = "";
      search.removeAttribute("aria-invalid");
      if (search.getAttribute("aria-describedby") === "place-error") { search.removeAttribute("aria-describedby"); }
    }

    // The person chose a place (not the page restoring one it was sent back with).
    function choosePoint(latlng, pan, label) {
      placeChosen();
      return setPoint(latlng, pan, label);
    }

    var placeStatus = $("#place-status");
    var placeInput = $("input[name=place]", form);
    var pointRequest = 0;

    // Puts the pin at a point and loads the kommun and categories there. The
    // promise settles once they are on the page, and the place is announced.
    function setPoint(latlng, pan, label) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      placeInput.value = label || "";
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: true, title: mapEl.dataset.pinTitle, alt: mapEl.dataset.pinTitle }).addTo(map);
        marker.on("dragend", function () { choosePoint(marker.getLatLng(), false); });
      } else {
        marker.setLatLng(latlng);
      }
      if (pan) { map.setView(latlng, Math.max(map.getZoom(), 16)); }
      var previous = selectedCategory();
      var request = ++pointRequest;
      var url = categories.dataset.url + "?lat=" + lat.value + "&lon=" + lon.value +
        (label ? "&place=" + encodeURIComponent(label) : "");
      return fetch(url)
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (request !== pointRequest) { return false; }  // a newer point came
          categories.innerHTML = html;
          var same = previous && $("input[name=category][value='" + previous + "']", categories);
          if (same) { same.checked = true; }
          bindCategories();
          loadNearby();
          var summary = $("#responsibility", categories);
          placeStatus.textContent = summary ? summary.dataset.announce : "";
          return true;
        });
    }

    // The first category choice (the chosen one if any), else the area.
    function focusCategories() {
      var target = $("input[name=category]:checked", form) || $("input[name=category]", form) || categories;
      target.focus();
    }

    map.on("click", function (e) { choosePoint(e.latlng, false); });
    if (lat.value && lon.value) {
      setPoint(L.latLng(Number(lat.value), Number(lon.value)), true, placeInput.value);
    }
    bindCategories();

    // By keyboard: Leaflet pans the focused map with the arrow keys (and zooms
    // with + and -); Enter or Space puts the pin at the cross in the middle.
    // Only on the map itself: on the pin or a control the keys keep their use.
    mapEl.addEventListener("keydown", function (e) {
      if (e.target !== mapEl || e.altKey || e.ctrlKey || e.metaKey) { return; }
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        choosePoint(map.getCenter(), false);
      }
    });
    var locate = $("#locate-me");
    if (navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(
          function (pos) { choosePoint(L.latLng(pos.coords.latitude, pos.coords.longitude), true); },
          function () { $("#search-error").textContent = locate.dataset.failed; },
          { enableHighAccuracy: true, timeout: 10000 }
        );
      });
    }

    var search = $("#place-search");
    search.addEventListener("submit", function (e) {
      e.preventDefault();
      var q = $("input[name=q]", search).value.trim();
      var results = $("#place-results");
      var error = $("#search-error");
      if (!q) { return; }
      results.textContent = "";
      error.textContent = "";
      fetch("/api/v1/geocode?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (res) {
          if (!res.ok) { error.textContent = res.data.detail || search.dataset.failed; return; }
          if (!res.data.places.length) { error.textContent = search.dataset.none; return; }
          res.data.places.forEach(function (place) {
            var item = document.createElement("li");
            var button = document.createElement("button");
            button.type = "button";
            button.className = "link";
            button.textContent = place.label;
            button.addEventListener("click", function () {
              // Focus goes on once the choices for this place are there.
              choosePoint(L.latLng(place.lat, place.lon), true, place.label)
                .then(function (current) { if (current) { focusCategories(); } })
                .catch(function () { categories.focus(); });
            });
            item.appendChild(button);
            results.appendChild(item);
          });
          $("button", results).focus();
        })
        .catch(function () { error.textContent = search.dataset.failed; });
    });

    var errorSummary = $("#error-summary");
    var titlePrefix = errorSummary.dataset.titlePrefix + " ";

    function clearErrors() {
      $all("[aria-invalid]").forEach(function (el) {
        el.removeAttribute("aria-invalid");
        var ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
          return id && !/(_error|^place-error)$/.test(id);
        });
        if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); }
        else { el.removeAttribute("aria-describedby"); }
      });
      $all(".field-error[id$='_error'], #place-error").forEach(function (p) { p.textContent = ""; });
      errorSummary.hidden = true;
      document.title = document.title.replace(titlePrefix, "");
    }

    // The server's list of errors: each shown at its field (which is marked
    // invalid and described by it) and, linked, in the summary, which takes focus.
    function showErrors(summary) {
      var list = $("ul", errorSummary);
      list.textContent = "";
      summary.forEach(function (error) {
        var at = document.getElementById(error.error_id);
        if (at) { at.textContent = (at.textContent ? at.textContent + " " : "") + error.message; }
        var fields = error.field === "__all__" ? [$("#id_q")] : $all("[name='" + error.field + "']", form);
        fields.forEach(function (el) {
          if (!el || !at) { return; }
          el.setAttribute("aria-invalid", "true");
          var ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
          if (ids.indexOf(error.error_id) < 0) { ids.push(error.error_id); }
          el.setAttribute("aria-describedby", ids.join(" "));
        });
        var item = document.createElement("li");
        var link = document.createElement("a");
        link.href = error.href;
        link.textContent = error.text;
        item.appendChild(link);
        list.appendChild(item);
      });
      errorSummary.hidden = false;
      // As a page reload would say it: the title starts with "Error:".
      if (document.title.indexOf(titlePrefix) !== 0) { document.title = titlePrefix + document.title; }
      errorSummary.focus();
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var progress = $("#upload-progress");
      var submit = $("button[type=submit]", form);
      clearErrors();
      var top = $("#form-errors");
      top.textContent = "";
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.pathname);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) { progress.hidden = false; progress.value = Math.round((ev.loaded / ev.total) * 100); }
      });
      xhr.onload = function () {
        submit.disabled = false;
        progress.hidden = true;
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
        if (xhr.status === 201 && data) { window.location.href = data.redirect; return; }
        if (xhr.status === 400 && data && data.summary) { showErrors(data.summary); return; }
        top.textContent = form.dataset.failed;
      };
      xhr.onerror = function () { submit.disabled = false; progress.hidden = true; top.textContent = form.dataset.failed; };
      submit.disabled = true;
      xhr.send(new FormData(form));
    });
    if (!errorSummary.hidden) { errorSummary.focus(); }
  }

  function reportPage(mapEl) {
    var p = mapEl.dataset.point.split(",").map(Number);
    var map = L.map(mapEl, { scrollWheelZoom: false }).setView(p, 16);
    tileLayer(map, mapEl);
    L.marker(p, { keyboard: false, alt: "" }).addTo(map);  // the map's label says what it shows
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("#report-form");
    var mapEl = $("#map");
    if (form && mapEl) { reportForm(form); }
    else if (mapEl && mapEl.dataset.point) { reportPage(mapEl); }
  });
})();
