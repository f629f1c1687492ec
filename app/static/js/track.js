/* The tracking page's map: one fixed pin at the reported location. */
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var latlng = [parseFloat(el.getAttribute("data-lat")), parseFloat(el.getAttribute("data-long"))];
  el.hidden = false;
  var t = window.city311T || function (key) { return key; };
  var map = L.map(el, { scrollWheelZoom: false, zoomControl: false }).setView(latlng, 17);
  L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(map);
  L.tileLayer(el.getAttribute("data-tile-url"), {
    attribution: el.getAttribute("data-attribution"),
    maxZoom: 19
  }).addTo(map);
  L.marker(latlng, { keyboard: false }).addTo(map);
})();
