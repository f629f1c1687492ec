/* The intake form: per-category questions, description counter, map pin, device location,
   and an early warning for photos over the size limit. The form works without any of it. */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form) return;
  var t = window.city311T || function (key) { return key; };

  // --- category: show only the chosen category's questions --------------------------------
  var select = document.getElementById("service_code");
  var hint = document.getElementById("service-hint");
  var groups = form.querySelectorAll("fieldset.questions[data-service]");

  function showQuestions() {
    var code = select.value;
    groups.forEach(function (fs) {
      var mine = fs.getAttribute("data-service") === code;
      fs.hidden = !mine;
      // a disabled fieldset posts nothing, so other categories' answers are not sent
      fs.disabled = !mine;
    });
    var option = select.options[select.selectedIndex];
    hint.textContent = (option && option.getAttribute("data-description")) || "";
    showEmergency(code);
  }

  // --- emergency types: the notice ("call 911") instead of the form -----------------------
  // Agents keep the form (they may still log the call); residents see only the notice.
  var notices = form.querySelectorAll("[data-emergency-for]");
  var rest = form.querySelectorAll("[data-emergency-hide]");
  var agent = form.hasAttribute("data-agent");
  function showEmergency(code) {
    var emergency = false;
    notices.forEach(function (el) {
      var mine = el.getAttribute("data-emergency-for") === code;
      el.hidden = !mine;
      emergency = emergency || mine;
    });
    if (agent) return;
    rest.forEach(function (el) { el.hidden = emergency; });
  }
  select.addEventListener("change", showQuestions);
  showQuestions();

  // --- description counter --------------------------------------------------------------
  var description = document.getElementById("description");
  var counter = document.getElementById("description-count");
  var max = parseInt(counter.getAttribute("data-max"), 10);
  function count() {
    var left = max - description.value.length;
    counter.textContent = t("chars_left", { left: left, max: max });
  }
  description.addEventListener("input", count);
  count();

  // --- location: map pin synced with the latitude/longitude inputs ------------------------
  var latInput = document.getElementById("lat");
  var longInput = document.getElementById("long");
  var status = document.getElementById("locate-status");
  var mapEl = document.getElementById("map");
  var map = null;
  var marker = null;

  function setInputs(latlng) {
    latInput.value = latlng.lat.toFixed(6);
    longInput.value = latlng.lng.toFixed(6);
    // others (the nearby reports) follow the pin
    form.dispatchEvent(new CustomEvent("city311:location"));
  }

  function placePin(latlng, zoom) {
    if (!map) return;
    if (marker) {
      marker.setLatLng(latlng);
    } else {
      marker = L.marker(latlng, { draggable: true, keyboard: true, title: t("pin_title") })
        .addTo(map);
      marker.on("dragend", function () { setInputs(marker.getLatLng()); });
    }
    if (zoom) map.setView(latlng, Math.max(map.getZoom(), zoom));
  }

  function inputsLatLng() {
    var lat = parseFloat(latInput.value);
    var lng = parseFloat(longInput.value);
    if (isFinite(lat) && isFinite(lng) && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
      return L.latLng(lat, lng);
    }
    return null;
  }

  if (window.L && mapEl) {
    mapEl.hidden = false;
    map = L.map(mapEl, { zoomControl: false });
    L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(map);
    var bounds = mapEl.getAttribute("data-bounds");
    // One first view, without animation: a zoom still running would swallow the setView
    // of a quick "Use my location" tap.
    if (bounds) {
      map.fitBounds(JSON.parse(bounds), { animate: false });
    } else {
      map.setView(
        [parseFloat(mapEl.getAttribute("data-lat")), parseFloat(mapEl.getAttribute("data-long"))],
        parseInt(mapEl.getAttribute("data-zoom"), 10),
        { animate: false }
      );
    }
    var tiles = L.tileLayer(mapEl.getAttribute("data-tile-url"), {
      attribution: mapEl.getAttribute("data-attribution"),
      maxZoom: 19
    }).addTo(map);
    if (window.city311Outlines) city311Outlines(map, mapEl.getAttribute("data-outlines-url"));
    var tileFailures = 0;
    tiles.on("tileerror", function () {
      tileFailures += 1;
      if (tileFailures === 3) {
        status.textContent = t("map_unavailable");
      }
    });
    map.on("click", function (e) {
      placePin(e.latlng);
      setInputs(e.latlng);
    });
    var initial = inputsLatLng();
    if (initial) placePin(initial, 16);
    [latInput, longInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var ll = inputsLatLng();
        if (ll) placePin(ll, 17);
        form.dispatchEvent(new CustomEvent("city311:location"));
      });
    });
  }

  // --- "Use my location" -------------------------------------------------------------------
  var locate = document.getElementById("locate");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = t("locating");
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          var ll = { lat: pos.coords.latitude, lng: pos.coords.longitude };
          setInputs(ll);
          if (map) placePin(L.latLng(ll.lat, ll.lng), 17);
          status.textContent = t("located", { metres: Math.round(pos.coords.accuracy) });
        },
        function (err) {
          status.textContent = t(
            err.code === err.PERMISSION_DENIED ? "location_blocked" : "location_failed"
          );
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  // --- photo size: warn before a long upload that would be refused ----------------------
  var photo = document.getElementById("photo");
  var photoCheck = document.getElementById("photo-check");
  if (photo && window.FileReader !== undefined) {
    photo.addEventListener("change", function () {
      var limit = parseInt(photo.getAttribute("data-max-bytes"), 10);
      var file = photo.files && photo.files[0];
      if (file && limit && file.size > limit) {
        photoCheck.textContent = t("photo_too_large", {
          size: (file.size / 1048576).toFixed(1), max: (limit / 1048576).toFixed(0)
        });
        photo.setAttribute("aria-invalid", "true");
      } else {
        photoCheck.textContent = "";
        photo.removeAttribute("aria-invalid");
      }
    });
  }

  // --- updates by text: the phone number becomes required, and says what it is for -------
  var phone = document.getElementById("phone");
  var email = document.getElementById("email");
  var channels = form.querySelectorAll("input[name=notify]");
  function requireContacts() {
    var chosen = form.querySelector("input[name=notify]:checked");
    var value = chosen ? chosen.value : "";
    phone.required = value === "sms" || value === "both";
    email.required = value === "email" || value === "both";
  }
  if (phone && email) {
    channels.forEach(function (input) { input.addEventListener("change", requireContacts); });
    requireContacts();
  }
})();
