/* The dispatch queue: the listed requests on a map with clustered markers, a count of the
   ticked requests, and "Nearest to me". The list, its filters and its form work without it. */
(function () {
  "use strict";

  // --- how many requests are ticked ---------------------------------------------------------
  var boxes = document.querySelectorAll("input[name=request_id]");
  var picked = document.getElementById("picked-count");
  function countPicked() {
    if (!picked) return;
    var n = 0;
    boxes.forEach(function (box) { if (box.checked) n += 1; });
    picked.textContent = n ? "(" + n + " ticked)" : "";
  }
  boxes.forEach(function (box) { box.addEventListener("change", countPicked); });
  countPicked();

  // --- "Nearest to me": sort by distance from the device ------------------------------------
  var locate = document.getElementById("filter-locate");
  var locateStatus = document.getElementById("filter-locate-status");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      locateStatus.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          document.getElementById("filter-lat").value = pos.coords.latitude.toFixed(6);
          document.getElementById("filter-long").value = pos.coords.longitude.toFixed(6);
          document.getElementById("filter-sort").value = "distance";
          locate.form.submit();
        },
        function () {
          locateStatus.textContent = "Your location could not be found; type the latitude " +
            "and longitude instead.";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- the map --------------------------------------------------------------------------------
  var mapEl = document.getElementById("queue-map");
  if (!mapEl || !window.L || !L.markerClusterGroup) return;
  var panel = document.getElementById("map-panel");
  panel.hidden = false;
  document.getElementById("dispatch").classList.add("with-map");

  var map = L.map(mapEl, { scrollWheelZoom: false });
  var tiles = L.tileLayer(mapEl.getAttribute("data-tile-url"), {
    attribution: mapEl.getAttribute("data-attribution"),
    maxZoom: 19
  }).addTo(map);
  // the wards' outlines: the queue's shape shows even without tiles
  if (window.city311Outlines) city311Outlines(map, mapEl.getAttribute("data-outlines-url"));
  var tileFailures = 0;
  tiles.on("tileerror", function () {
    tileFailures += 1;
    if (tileFailures === 3) {
      var note = document.createElement("p");
      note.className = "hint";
      note.textContent = "The map tiles could not load; the markers are still placed right.";
      panel.appendChild(note);
    }
  });

  var clusters = L.markerClusterGroup({
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    // a group holding any overdue request is red, so nothing late hides inside a green one
    iconCreateFunction: function (cluster) {
      var late = cluster.getAllChildMarkers().some(function (m) { return m.options.overdue; });
      var count = cluster.getChildCount();
      return L.divIcon({
        html: "<div><span>" + count + "</span></div>",
        className: "marker-cluster " + (late ? "marker-cluster-late" : "marker-cluster-ok"),
        iconSize: L.point(40, 40)
      });
    }
  });

  function popupFor(cell, overdue) {
    var id = cell.getAttribute("data-id");
    var box = document.querySelector("input[name=request_id][value='" + id + "']");
    var root = document.createElement("div");
    root.className = "queue-popup";
    var title = document.createElement("strong");
    var link = document.createElement("a");
    link.href = cell.getAttribute("data-url");
    link.textContent = "#" + id;
    title.appendChild(link);
    title.appendChild(document.createTextNode(" " + cell.getAttribute("data-type")));
    root.appendChild(title);
    var address = document.createElement("div");
    address.textContent = cell.getAttribute("data-address");
    root.appendChild(address);
    var due = document.createElement("div");
    due.textContent = (overdue ? "Overdue: was due " : "Due ") + cell.getAttribute("data-due");
    if (overdue) due.className = "late";
    root.appendChild(due);
    if (box) {
      var tick = document.createElement("button");
      tick.type = "button";
      tick.className = "secondary";
      var label = function () {
        tick.textContent = box.checked ? "Untick #" + id : "Tick #" + id + " to assign";
      };
      label();
      tick.addEventListener("click", function () {
        box.checked = !box.checked;
        countPicked();
        label();
      });
      root.appendChild(tick);
    }
    return root;
  }

  document.querySelectorAll("td.queue-req").forEach(function (cell) {
    var lat = parseFloat(cell.getAttribute("data-lat"));
    var lng = parseFloat(cell.getAttribute("data-long"));
    if (!isFinite(lat) || !isFinite(lng)) return;
    var overdue = cell.getAttribute("data-overdue") === "true";
    var marker = L.marker([lat, lng], {
      icon: L.divIcon({
        className: "queue-pin" + (overdue ? " overdue" : ""),
        html: overdue ? "!" : "",
        iconSize: [26, 26]
      }),
      title: "#" + cell.getAttribute("data-id") + " " + cell.getAttribute("data-type") +
        (overdue ? ", overdue" : ""),
      overdue: overdue,
      keyboard: true
    });
    marker.bindPopup(function () { return popupFor(cell, overdue); });
    clusters.addLayer(marker);
  });
  map.addLayer(clusters);

  if (clusters.getLayers().length) {
    map.fitBounds(clusters.getBounds(), { padding: [24, 24], maxZoom: 16, animate: false });
  } else {
    map.setView(
      [parseFloat(mapEl.getAttribute("data-lat")), parseFloat(mapEl.getAttribute("data-long"))],
      parseInt(mapEl.getAttribute("data-zoom"), 10),
      { animate: false }
    );
  }
})();
