/* The service-type edit page: re-render the preview (resident form, Open311 definition)
   as the admin edits. The server renders both with the real renderers; nothing is saved. */
(function () {
  "use strict";

  var panel = document.getElementById("preview");
  var form = document.getElementById("service-type-form");
  if (!panel || !form) return;
  var url = panel.getAttribute("data-preview-url");
  var formBox = document.getElementById("preview-form");
  var definitionBox = document.getElementById("preview-definition");
  var errorBox = document.getElementById("preview-error");
  var timer = null;
  var sent = 0;

  function refresh() {
    var mine = ++sent;
    var body = new FormData(form);
    var code = document.getElementById("code");
    if (code && !body.has("code")) body.set("code", code.value); // read-only once saved
    fetch(url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (resp) { return resp.json(); })
      .then(function (data) {
        if (mine !== sent) return; // an older answer arriving late
        if (data.error) {
          errorBox.textContent = data.error;
          return;
        }
        errorBox.textContent = "";
        // server-rendered from the resident form's own template, its text escaped there
        formBox.innerHTML = data.form_html;
        definitionBox.textContent = JSON.stringify(data.definition, null, 2);
        panel.setAttribute("data-updated", String(mine));
      })
      .catch(function () {
        if (mine === sent) errorBox.textContent = "The preview could not be updated.";
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
