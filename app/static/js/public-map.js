/* The public map: recent reports as clustered markers, filtered by category and status,
   loaded a page at a time from the public GeoJSON endpoint. */
(function () {
  "use strict";

  var mapEl = document.getElementById("public-map");
  var filters = document.getElementById("map-filters");
  var note = document.getElementById("map-status-text");
  if (!mapEl || !window.L || !L.markerClusterGroup || !window.fetch) return;

  var t = window.city311T || function (key) { return key; };
  var map = L.map(mapEl, { zoomControl: false });
  L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(map);
  var bounds = mapEl.getAttribute("data-bounds");
  if (bounds) {
    map.fitBounds(JSON.parse(bounds), { animate: false });
  } else {
    map.setView([parseFloat(mapEl.getAttribute("data-lat")),
      parseFloat(mapEl.getAttribute("data-long"))],
    parseInt(mapEl.getAttribute("data-zoom"), 10), { animate: false });
  }
  L.tileLayer(mapEl.getAttribute("data-tile-url"), {
    attribution: mapEl.getAttribute("data-attribution"),
    maxZoom: 19
  }).addTo(map);
  if (window.city311Outlines) city311Outlines(map, mapEl.getAttribute("data-outlines-url"));

  var clusters = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  map.addLayer(clusters);
  var loading = 0;
  // at most this many pages: the map shows the recent picture, not the archive
  var MAX_PAGES = 10;

  function popup(props) {
    var div = document.createElement("div");
    var link = document.createElement("a");
    link.href = props.url;
    link.textContent = "#" + props.id + " " + props.service.name;
    var state = document.createElement("p");
    state.textContent = t("status:" + props.status) + " · " + t("reported_on", {
      date: new Date(props.requested_at).toLocaleDateString(window.city311Language)
    });
    div.append(link, state);
    return div;
  }

  function load(params, beforeId, page, shown, run) {
    var query = new URLSearchParams(params);
    if (beforeId) query.set("before_id", beforeId);
    fetch(filters.getAttribute("action") + "?" + query.toString(),
      { headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : Promise.reject(resp.status); })
      .then(function (data) {
        if (run !== loading) return;
        var layer = L.geoJSON(data, {
          pointToLayer: function (f, latlng) {
            return L.marker(latlng, { title: "#" + f.properties.id + " " + f.properties.service.name });
          },
          onEachFeature: function (f, marker) { marker.bindPopup(popup(f.properties)); }
        });
        clusters.addLayers(layer.getLayers());
        shown += data.features.length;
        if (data.next_before_id && page < MAX_PAGES) {
          load(params, data.next_before_id, page + 1, shown, run);
        } else {
          note.textContent = shown === 1 ? t("reports_one") : t("reports_many", { count: shown });
        }
      })
      .catch(function (status) {
        note.textContent = status === 429
          ? t("too_many")
          : t("reports_failed");
      });
  }

  function refresh() {
    clusters.clearLayers();
    note.textContent = t("reports_loading");
    var params = {};
    new FormData(filters).forEach(function (value, key) { if (value) params[key] = value; });
    loading += 1;
    load(params, null, 1, 0, loading);
  }

  filters.addEventListener("submit", function (e) { e.preventDefault(); refresh(); });
  filters.querySelectorAll("select").forEach(function (s) { s.addEventListener("change", refresh); });
  refresh();
})();
