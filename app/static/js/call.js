/* The call form, keyboard first: the fields in the order a call goes (category, address,
   description, caller), where the request will go once the type and place are set, the
   caller's earlier requests and open ones nearby (follow instead of logging again), and
   the shortcuts Alt+N (new call), Alt+S (address search) and Alt+C (caller's phone).
   Without it the form still logs calls. */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  if (!form || !form.hasAttribute("data-agent") || !window.fetch) return;

  var $ = function (id) { return document.getElementById(id); };
  var category = $("service_code");
  var search = $("address-q");
  var description = $("description");
  var phone = $("phone");
  var email = $("email");
  var lat = $("lat");
  var lng = $("long");
  var keys = $("call-keys");
  var preview = $("route-preview");
  var lookup = $("caller-lookup");
  var csrf = form.querySelector("input[name=csrf_token]");
  var JSON_HEADERS = { Accept: "application/json" };

  function section(el) { return el && el.closest("section"); }
  function after(anchor, el) {
    if (anchor && el && anchor.parentNode) anchor.parentNode.insertBefore(el, anchor.nextSibling);
  }

  // --- the order of a call: move the address search before the description, then the
  // route preview, the caller's details and the lookup right after the problem -------------
  var searchField = $("address-search");
  var descriptionField = description && description.closest(".field");
  if (searchField && descriptionField) {
    descriptionField.parentNode.insertBefore(searchField, descriptionField);
  }
  var problem = section(category);
  var caller = section(phone);
  after(problem, preview);
  after(preview, caller);
  after(caller, lookup);
  [keys, preview, lookup].forEach(function (el) { if (el) el.hidden = false; });
  if (search) search.setAttribute("aria-keyshortcuts", "Alt+S");
  if (phone) phone.setAttribute("aria-keyshortcuts", "Alt+C");

  // --- shortcuts: Alt+letter, by the key's place (Alt changes the letter on a Mac) ----------
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.code === "KeyN") {
      e.preventDefault();
      window.location.assign(form.getAttribute("action"));
    } else if (e.code === "KeyS" && search) {
      e.preventDefault();
      search.focus();
      search.select();
    } else if (e.code === "KeyC" && phone) {
      e.preventDefault();
      phone.focus();
    }
  });
  // a new call starts at the category, unless the form came back with errors to fix
  if (!document.getElementById("error-summary") && category) category.focus();

  // choosing an address moves on to the description, the next thing the caller says
  if (lat && search) {
    lat.addEventListener("change", function () {
      if (document.activeElement === search && description) description.focus();
    });
  }

  function place() {
    var la = parseFloat(lat.value);
    var lo = parseFloat(lng.value);
    return isFinite(la) && isFinite(lo) ? { lat: la, long: lo } : null;
  }

  // --- where it will go ----------------------------------------------------------------
  var previewStatus = $("route-preview-status");
  var facts = $("route-preview-facts");
  var previewAsked = 0;
  function showRoute() {
    if (!preview) return;
    var where = place();
    if (!category.value || !where) {
      facts.hidden = true;
      previewStatus.textContent = "Choose the category and the address to see the department, district and due date.";
      return;
    }
    var mine = ++previewAsked;
    var query = "?service_code=" + encodeURIComponent(category.value) +
      "&lat=" + where.lat + "&long=" + where.long;
    fetch(preview.getAttribute("data-url") + query, { headers: JSON_HEADERS, credentials: "same-origin" })
      .then(function (resp) { return resp.json().then(function (body) { return { ok: resp.ok, body: body }; }); })
      .then(function (answer) {
        if (mine !== previewAsked) return;
        if (!answer.ok) {
          facts.hidden = true;
          previewStatus.textContent = answer.body.message || "This place cannot be routed.";
          return;
        }
        var route = answer.body;
        $("route-department").textContent = route.department.name;
        $("route-district").textContent = route.district.name;
        $("route-due").textContent = route.due_text;
        facts.hidden = false;
        previewStatus.textContent = route.service.name + " goes to " + route.department.name +
          ", " + route.district.name + ", due " + route.due_text + ".";
      })
      .catch(function () {
        if (mine === previewAsked) previewStatus.textContent = "The route cannot be shown just now; the request can still be logged.";
      });
  }

  // --- who is calling ------------------------------------------------------------------
  var lookupStatus = $("caller-lookup-status");
  var followStatus = $("caller-follow-status");
  var lists = { earlier: $("caller-earlier"), nearby: $("caller-nearby") };
  var lookupAsked = 0;
  var timer = null;

  function item(found, nearby) {
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = found.staff_url;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = "#" + found.id + " " + found.service.name;
    var newTab = document.createElement("span");
    newTab.className = "hint";
    newTab.textContent = " (opens a new tab)";
    link.appendChild(newTab);
    li.appendChild(link);
    var facts = document.createElement("p");
    facts.className = "hint";
    facts.textContent = [
      found.status_text,
      found.address,
      "reported " + new Date(found.requested_at).toLocaleDateString(),
      nearby ? Math.round(found.distance_m) + " m away" : "",
    ].filter(Boolean).join(" · ");
    li.appendChild(facts);
    var text = document.createElement("p");
    text.textContent = found.description;
    li.appendChild(text);
    if (found.open) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Add this caller as a follower of #" + found.id;
      button.addEventListener("click", function () { follow(found.id, button); });
      li.appendChild(button);
    }
    return li;
  }

  function show(body) {
    var count = 0;
    Object.keys(lists).forEach(function (name) {
      var list = lists[name];
      list.textContent = "";
      (body[name] || []).forEach(function (found) { list.appendChild(item(found, name === "nearby")); });
      $("caller-" + name + "-title").hidden = !(body[name] || []).length;
      count += (body[name] || []).length;
    });
    var earlier = (body.earlier || []).length;
    var nearby = (body.nearby || []).length;
    lookupStatus.textContent = count
      ? earlier + (earlier === 1 ? " earlier request" : " earlier requests") + " of this caller, " +
        nearby + " open nearby: follow one instead of logging it again."
      : "No earlier request of this caller, and none open nearby.";
  }

  function findCaller() {
    if (!lookup) return;
    var digits = (phone.value || "").replace(/\D/g, "");
    var mail = (email.value || "").trim();
    var where = place();
    var query = [];
    if (digits.length >= 7) query.push("phone=" + encodeURIComponent(phone.value));
    if (mail.indexOf("@") > 0) query.push("email=" + encodeURIComponent(mail));
    if (category.value && where) {
      query.push("service_code=" + encodeURIComponent(category.value), "lat=" + where.lat, "long=" + where.long);
    }
    if (!query.length) return;
    var mine = ++lookupAsked;
    fetch(lookup.getAttribute("data-url") + "?" + query.join("&"), { headers: JSON_HEADERS, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (body) { if (body && mine === lookupAsked) show(body); })
      .catch(function () {
        if (mine === lookupAsked) lookupStatus.textContent = "The lookup cannot be reached just now.";
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(findCaller, 300);
  }

  function follow(requestId, button) {
    var mail = (email.value || "").trim();
    if (!mail) {
      followStatus.textContent = "Type the caller's email first: the updates go there.";
      email.focus();
      return;
    }
    button.disabled = true;
    var url = lookup.getAttribute("data-follow-url").replace("/0/", "/" + requestId + "/");
    var language = $("language");
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf.value },
      body: JSON.stringify({ email: mail, language: language ? language.value : "" }),
    })
      .then(function (resp) { return resp.json().then(function (body) { return { ok: resp.ok, body: body }; }); })
      .then(function (answer) {
        button.disabled = false;
        followStatus.textContent = answer.ok
          ? answer.body.message + " Nothing to log: Alt+N starts the next call."
          : answer.body.message || "The caller could not be added; try again.";
      })
      .catch(function () {
        button.disabled = false;
        followStatus.textContent = "The caller could not be added: the connection failed. Try again.";
      });
  }

  category.addEventListener("change", function () { showRoute(); later(); });
  form.addEventListener("city311:location", function () { showRoute(); later(); });
  [phone, email].forEach(function (input) { if (input) input.addEventListener("input", later); });
  showRoute();
  later();
})();
