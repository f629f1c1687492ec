/* The resident form never loses a report: photos go up as soon as they are chosen (and come
   back as tokens), the typed draft is kept in this browser's localStorage until the report
   is sent, and the form is sent by fetch with its idempotency key, so a double tap, a retry
   or a connection that drops after the server got it still makes one request. Offline, the
   report waits and goes when the browser is back online. Without script the form posts as
   usual and the server keeps the key and the photos. */
(function () {
  "use strict";
  var t = window.city311T || function (key) { return key; };

  var form = document.getElementById("report-form");
  if (!form || form.hasAttribute("data-agent") || !window.fetch || !window.FormData) return;

  var DRAFT = "city311-report-draft";
  var button = document.getElementById("submit-button");
  var panel = document.getElementById("send-status");
  var message = document.getElementById("send-message");
  var retry = document.getElementById("send-retry");
  var clear = document.getElementById("draft-clear");
  var photo = document.getElementById("photo");
  var kept = document.getElementById("photo-kept");
  var photoCheck = document.getElementById("photo-check");
  var keyInput = document.getElementById("idempotency_key");
  var sending = false;
  var waiting = false;

  function show(state, reason) {
    panel.hidden = !state;
    if (!state) return;
    message.textContent = panel.getAttribute("data-" + state).replace("{reason}", reason || "");
    retry.hidden = state === "sending" || state === "draft";
    clear.hidden = state !== "draft";
  }

  // --- the draft ---------------------------------------------------------------------------
  var SKIP = { csrf_token: 1, photo: 1, category_choice: 1 };

  function saveDraft() {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "file" || el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      fields.push([el.name, el.value]);
    });
    var photos = Array.prototype.map.call(kept.querySelectorAll("li"), function (li) {
      return { token: li.querySelector("input").value, src: li.getAttribute("data-src") || "" };
    });
    try {
      localStorage.setItem(DRAFT, JSON.stringify({ fields: fields, photos: photos }));
    } catch (e) { /* private mode or full: the form still works */ }
  }

  function clearDraft() {
    try { localStorage.removeItem(DRAFT); } catch (e) { /* nothing kept */ }
  }

  function setField(name, value) {
    var els = form.querySelectorAll("[name='" + name.replace(/'/g, "\\'") + "']");
    els.forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.value === value) el.checked = true;
      } else if (el.type !== "file") {
        el.value = value;
      }
    });
  }

  function restoreDraft() {
    var raw = null;
    try { raw = localStorage.getItem(DRAFT); } catch (e) { return; }
    if (!raw) return;
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { clearDraft(); return; }
    var fields = draft.fields || [];
    // the category first: it shows its questions, which the answers then fill
    fields.forEach(function (f) { if (f[0] === "service_code") setField(f[0], f[1]); });
    document.getElementById("service_code").dispatchEvent(new Event("change"));
    fields.forEach(function (f) { if (f[0] !== "service_code") setField(f[0], f[1]); });
    ["lat", "description"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) el.dispatchEvent(new Event(id === "lat" ? "change" : "input"));
    });
    (draft.photos || []).forEach(function (p) { addKept(p.token, p.src); });
    show("draft");
  }

  // --- photos sent ahead --------------------------------------------------------------------
  function addKept(token, src) {
    var li = document.createElement("li");
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "photo_token";
    input.value = token;
    li.appendChild(input);
    if (src) {
      li.setAttribute("data-src", src);
      var img = document.createElement("img");
      img.src = src;
      img.alt = t("your_photo");
      img.width = 96;
      img.height = 96;
      li.appendChild(img);
    }
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = kept.getAttribute("data-remove");
    remove.addEventListener("click", function () { li.remove(); saveDraft(); });
    li.appendChild(remove);
    kept.appendChild(li);
  }

  function uploadPhotos() {
    var files = Array.prototype.slice.call(photo.files || []);
    if (!files.length || !navigator.onLine) return;
    var done = 0;
    var failed = false;
    files.forEach(function (file) {
      var body = new FormData();
      body.append("photo", file);
      fetch("/api/v1/photos", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (res) {
          return res.json().then(function (data) {
            if (!res.ok) {
              // refused (not a photo, too large): sending it with the form would fail too
              photo.value = "";
              throw new Error(data.message || t("photo_refused"));
            }
            addKept(data.token, data.thumbnail_url);
            var lat = document.getElementById("lat");
            if (data.location && lat && !lat.value) {
              lat.value = data.location.lat;
              document.getElementById("long").value = data.location.long;
              lat.dispatchEvent(new Event("change"));
            }
          });
        })
        .catch(function (err) {
          failed = true;
          // no connection: the file stays chosen and goes with the report
          photoCheck.textContent = err instanceof TypeError ? "" : err.message;
        })
        .then(function () {
          done += 1;
          // all up: the files need not go again with the form
          if (done === files.length && !failed) photo.value = "";
          saveDraft();
        });
    });
  }

  // --- sending ------------------------------------------------------------------------------
  function go(url) {
    // sent: the tracking page is the receipt (and shows the thank-you the server flashed);
    // replace, so that Back does not return to a form already sent
    window.location.replace(url);
  }

  function showErrors(html) {
    // the server's own form with every error, the photos kept as tokens: its <main> takes the
    // place of this one and the page's scripts run again over it. Parsed by DOMParser, which
    // runs nothing; the scripts are this origin's files, as the page named them (CSP: 'self')
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("main");
    if (!fresh) { failed("error 400"); return; }
    document.getElementById("main").replaceWith(document.adoptNode(fresh));
    document.title = doc.title;
    var sources = Array.prototype.map.call(doc.querySelectorAll("body > script[src]"),
      function (el) { return el.getAttribute("src"); });
    document.querySelectorAll("body > script[src]").forEach(function (el) { el.remove(); });
    sources.forEach(function (src) {
      var script = document.createElement("script");
      script.src = src;
      script.async = false;  // in the page's order, as the parser would run them
      document.body.appendChild(script);
    });
    var summary = document.getElementById("error-summary");
    window.scrollTo(0, 0);
    if (summary) {
      summary.setAttribute("tabindex", "-1");
      summary.focus();
    }
  }

  function send() {
    if (sending) return;
    if (!navigator.onLine) { wait(); return; }
    sending = true;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    show("sending");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      // JSON: the new request's address, to go to; the form with its errors comes as HTML
      headers: { "Idempotency-Key": keyInput.value, "Accept": "application/json, text/html;q=0.5" }
    }).then(function (res) {
      if (res.status === 201) {
        return res.json().then(function (sent) {
          clearDraft();
          go(sent.url);
        });
      }
      if (res.redirected && res.ok) {
        // the key's first answer was a form posted without script: its tracking page
        clearDraft();
        go(res.url);
        return null;
      }
      return res.text().then(function (html) {
        sending = false;
        if (res.status === 400) {
          saveDraft();
          showErrors(html);  // every error at once, the photos kept as tokens
        } else {
          failed(res.status === 429 ? "too many reports from this connection"
            : res.status === 413 ? "the photos are too large" : "error " + res.status);
        }
      });
    }).catch(function () {
      sending = false;
      wait();
    });
  }

  function failed(reason) {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    show("failed", reason);
  }

  function wait() {
    // the draft is kept; the same key goes again, so a report the server did get is not doubled
    saveDraft();
    waiting = true;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    show("offline");
  }

  window.addEventListener("online", function () {
    // a form replaced by the server's answer has its own listener
    if (waiting && form.isConnected) { waiting = false; send(); }
  });
  retry.addEventListener("click", function () { waiting = false; send(); });
  clear.addEventListener("click", function () {
    clearDraft();
    window.location.replace(window.location.pathname);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    send();
  });
  form.addEventListener("input", saveDraft);
  form.addEventListener("city311:location", saveDraft);
  form.addEventListener("change", function (e) {
    if (e.target === photo) uploadPhotos();
    saveDraft();
  });

  // a page the server filled (a failed submit) is newer than the draft
  if (document.getElementById("error-summary")) saveDraft();
  else restoreDraft();
})();
