/* The districts upload preview: draw the uploaded boundaries, coloured by what changes. */
(function () {
  "use strict";
  var el = document.getElementById("districts-map");
  if (!el || !window.L) return;
  var status = JSON.parse(el.getAttribute("data-status") || "{}");
  var codeProperty = el.getAttribute("data-code-property");
  var colours = { added: "#1a7f37", changed: "#bc4c00", unchanged: "#0969da" };
  el.hidden = false;
  var map = L.map(el, { scrollWheelZoom: false }).setView([0, 0], 2);
  L.tileLayer(el.getAttribute("data-tile-url"), {
    attribution: el.getAttribute("data-attribution"),
    maxZoom: 19
  }).addTo(map);
  function codeOf(feature) {
    var value = (feature.properties || {})[codeProperty];
    if (typeof value === "number" && Math.floor(value) === value) return String(value);
    return value === undefined || value === null ? "" : String(value).trim();
  }
  fetch(el.getAttribute("data-url"), { credentials: "same-origin" })
    .then(function (resp) { return resp.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: function (feature) {
          var colour = colours[status[codeOf(feature)]] || "#57606a";
          return { color: colour, weight: 2, fillOpacity: 0.15 };
        },
        onEachFeature: function (feature, shape) {
          var code = codeOf(feature);
          shape.bindTooltip(code + " (" + (status[code] || "?") + ")");
        }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds);
      el.setAttribute("data-drawn", String(layer.getLayers().length));
    });
})();
