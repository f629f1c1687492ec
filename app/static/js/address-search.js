/* Address and intersection search: suggestions from the city's gazetteer as one types,
   chosen with the arrow keys and Enter or by a tap (the ARIA 1.2 combobox pattern). The
   chosen place sets the address field and the latitude/longitude, which move the pin. */
(function () {
  "use strict";

  var box = document.getElementById("address-search");
  var input = document.getElementById("address-q");
  var list = document.getElementById("address-options");
  var status = document.getElementById("address-q-status");
  if (!box || !input || !list || !window.fetch) return;
  box.hidden = false;

  var url = box.getAttribute("data-url");
  var places = [];
  var active = -1;
  var timer = null;
  var asked = 0;
  var t = window.city311T || function (key) { return key; };

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    var options = list.querySelectorAll("[role=option]");
    options.forEach(function (li, i) {
      li.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index >= 0 && options[index]) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(found) {
    places = found;
    list.textContent = "";
    found.forEach(function (place, i) {
      var li = document.createElement("li");
      li.id = "address-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = place.label;
      if (place.district) {
        var where = document.createElement("span");
        where.className = "hint";
        where.textContent = " · " + place.district;
        li.appendChild(where);
      }
      // mousedown, not click: it comes before the input's blur closes the list
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
      list.appendChild(li);
    });
    if (found.length) {
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = found.length === 1
        ? t("places_one")
        : t("places_many", { count: found.length });
    } else {
      close();
      status.textContent = t("no_place");
    }
    active = -1;
  }

  function choose(index) {
    var place = places[index];
    if (!place) return;
    input.value = place.label;
    close();
    var address = document.getElementById("address");
    if (address) address.value = place.label;
    var lat = document.getElementById("lat");
    var lng = document.getElementById("long");
    lat.value = place.lat.toFixed(6);
    lng.value = place.long.toFixed(6);
    // report.js moves the pin on this event, and tells whoever follows the location
    lat.dispatchEvent(new Event("change", { bubbles: true }));
    status.textContent = t("pin_placed", {
      place: place.label + (place.district ? " (" + place.district + ")" : "")
    });
  }

  function search() {
    var q = input.value.trim();
    if (q.replace(/\s/g, "").length < 3) { close(); status.textContent = ""; return; }
    var mine = ++asked;
    fetch(url + "?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (resp.status === 429) {
          status.textContent = t("search_busy");
          return null;
        }
        return resp.ok ? resp.json() : null;
      })
      .then(function (data) {
        if (data && mine === asked) show(data.results || []);
      })
      .catch(function () {
        status.textContent = t("search_down");
      });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  input.addEventListener("keydown", function (e) {
    var open = !list.hidden && places.length > 0;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (!open && places.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
      highlight(Math.min(active + 1, places.length - 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (e.key === "Enter") {
      // Enter chooses; it never sends the half-filled report
      e.preventDefault();
      if (open) choose(active >= 0 ? active : 0);
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
})();
