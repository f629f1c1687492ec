/* The resident's category picker: a search box over grouped radio buttons. It stands in for
   the category select, which stays in the form as the posted value (and is the whole picker
   when scripts do not run). Matching ignores case and accents; every word typed must appear
   in the type's name or keywords ("pot" finds "Request for Pothole Repair"). */
(function () {
  "use strict";

  var picker = document.getElementById("category-picker");
  var select = document.getElementById("service_code");
  if (!picker || !select) return;

  var search = document.getElementById("category-search");
  var count = document.getElementById("category-count");
  var popular = picker.querySelector("[data-popular]");
  var groups = picker.querySelectorAll("[data-group]");
  var radios = picker.querySelectorAll("input[name=category_choice]");

  function fold(text) {
    return (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  // the radios replace the select; its errors and its value stay where the server put them
  document.getElementById("category-select").querySelector("label").hidden = true;
  select.hidden = true;
  picker.hidden = false;
  // the error summary's link to the category goes to the picker's search box
  document.querySelectorAll("a[href='#service_code']").forEach(function (a) {
    a.setAttribute("href", "#category-search");
  });
  if (select.getAttribute("aria-invalid")) {
    search.setAttribute("aria-invalid", "true");
    search.setAttribute("aria-describedby", "category-count service_code-error");
  }

  function choose(code) {
    if (select.value !== code) {
      select.value = code;
      select.dispatchEvent(new Event("change"));
    }
    radios.forEach(function (r) { r.checked = r.value === code; });
    // the choice stays in sight: its group opens (a restored draft, a page with errors)
    var mine = picker.querySelector("[data-group] input:checked");
    if (mine) mine.closest("details").open = true;
  }

  radios.forEach(function (radio) {
    radio.addEventListener("change", function () { if (radio.checked) choose(radio.value); });
  });
  // the draft (or the browser) may set the select: show it as chosen
  select.addEventListener("change", function () { choose(select.value); });
  if (select.value) choose(select.value);

  function filter() {
    var words = fold(search.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    if (popular) popular.hidden = words.length > 0;
    groups.forEach(function (group) {
      var any = false;
      group.querySelectorAll("label[data-search]").forEach(function (label) {
        var text = label.getAttribute("data-search");
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        label.hidden = !match;
        if (match) { any = true; shown += 1; }
      });
      group.hidden = !any;
      // while searching, every group with a match is open
      if (words.length) group.open = any;
    });
    if (!words.length) {
      count.textContent = "";
      return;
    }
    count.textContent = shown === 0
      ? picker.getAttribute("data-none").replace("{q}", search.value.trim())
      : shown === 1 ? count.getAttribute("data-one")
      : count.getAttribute("data-count").replace("{n}", shown);
  }
  search.addEventListener("input", filter);
  // Enter in the box chooses the first match rather than sending the form
  search.addEventListener("keydown", function (e) {
    if (e.key !== "Enter") return;
    e.preventDefault();
    var first = Array.prototype.find.call(picker.querySelectorAll("[data-group] input"),
      function (r) { return !r.closest("label").hidden && !r.closest("details").hidden; });
    if (first) { first.checked = true; choose(first.value); first.focus(); }
  });
})();
