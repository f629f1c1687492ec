/* "Is it one of these?": once the category and the pin are set, open reports of that
   category close by are listed, each of which can be followed instead of reported again. */
(function () {
  "use strict";

  var form = document.getElementById("report-form");
  var panel = document.getElementById("nearby");
  if (!form || !panel || !window.fetch) return;
  var list = document.getElementById("nearby-list");
  var email = document.getElementById("follow-email");
  var status = document.getElementById("follow-status");
  var select = document.getElementById("service_code");
  var lat = document.getElementById("lat");
  var lng = document.getElementById("long");
  var asked = 0;
  var timer = null;
  var t = window.city311T || function (key) { return key; };

  function when(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleDateString(window.city311Language, { month: "short", day: "numeric" });
  }

  function follow(item, button) {
    var address = email.value.trim();
    if (!address || address.indexOf("@") < 1) {
      status.textContent = t("follow_email_first");
      email.focus();
      return;
    }
    button.disabled = true;
    var url = panel.getAttribute("data-follow-url").replace("/0/", "/" + item.id + "/");
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ email: address })
    })
      .then(function (resp) {
        return { ok: resp.ok, status: resp.status };
      })
      .then(function (answer) {
        button.disabled = false;
        // the API answers in English: the page says what went wrong in its own language
        status.textContent = answer.ok
          ? t("follow_sent", { id: item.id })
          : t(answer.status === 429 ? "too_many" : "follow_failed");
      })
      .catch(function () {
        button.disabled = false;
        status.textContent = t("offline");
      });
  }

  function show(items) {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var title = document.createElement("a");
      title.href = item.tracking_url;
      title.textContent = "#" + item.id + " " + item.service.name;
      var about = document.createElement("p");
      about.className = "hint";
      about.textContent = t("distance_reported", {
        metres: Math.round(item.distance_m), date: when(item.requested_at)
      }) + (item.address ? " · " + item.address : "") + " · " + t("status:" + item.status);
      var text = document.createElement("p");
      text.textContent = item.description;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = t("follow_instead");
      button.setAttribute("aria-label", t("follow_instead_label", { id: item.id }));
      button.addEventListener("click", function () { follow(item, button); });
      li.append(title, about, text, button);
      list.appendChild(li);
    });
    panel.hidden = items.length === 0;
  }

  function look() {
    var code = select.value;
    if (!code || !lat.value || !lng.value) { panel.hidden = true; return; }
    var mine = ++asked;
    var query = "?service_code=" + encodeURIComponent(code) +
      "&lat=" + encodeURIComponent(lat.value) + "&long=" + encodeURIComponent(lng.value);
    fetch(panel.getAttribute("data-url") + query, { headers: { Accept: "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (items) { if (items && mine === asked) show(items); })
      .catch(function () { /* the report can be sent without it */ });
  }

  function soon() { clearTimeout(timer); timer = setTimeout(look, 250); }
  form.addEventListener("city311:location", soon);
  select.addEventListener("change", soon);
  look();
})();
