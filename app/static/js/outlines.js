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
          style: { color: "#0b5cad", weight: 2, opacity: 0.8, fill: true, fillOpacity: 0.04 },
          // district names where the tiles would have printed them (a tooltip, not a
          // marker: the pin stays the map's one marker)
          onEachFeature: function (feature, layer) {
            layer.bindTooltip(feature.properties.name, {
              permanent: true, direction: "center", className: "district-label"
            });
          }
        }).addTo(map);
      })
      .catch(function () { /* outlines are a help, not a need */ });
  };
})();
