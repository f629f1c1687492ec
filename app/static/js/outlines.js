/* The city's district outlines as a vector layer: the city's shape shows on a map even when
   no map tile can be loaded, so a pin can still be placed in the right street grid. */
(function () {
  "use strict";
  window.city311Outlines = function (map, url) {
    if (!map || !url || !window.fetch) return;
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (!data) return;
        L.geoJSON(data, {
          interactive: false,
          style: { color: "#0b5cad", weight: 2, opacity: 0.8, fill: true, fillOpacity: 0.04 }
        }).addTo(map);
        // district names where the tiles would have printed them
        data.features.forEach(function (f) {
          var center = L.geoJSON(f).getBounds().getCenter();
          var label = document.createElement("span");
          label.textContent = f.properties.name;
          L.marker(center, {
            interactive: false,
            keyboard: false,
            icon: L.divIcon({ className: "district-label", html: label, iconSize: null })
          }).addTo(map);
        });
      })
      .catch(function () { /* outlines are a help, not a need */ });
  };
})();
