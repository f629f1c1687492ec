/* The words the scripts show, in the page's language. The page carries them as JSON in the
   data-messages attribute of #i18n (the CSP allows no inline script); placeholders are
   written %(name)s, as in the server's catalogs. */
(function () {
  "use strict";

  var messages = {};
  var holder = document.getElementById("i18n");
  if (holder) {
    try {
      messages = JSON.parse(holder.getAttribute("data-messages") || "{}");
    } catch (e) {
      messages = {};
    }
  }

  // t("located", {metres: 12}) → "Location set (within about 12 m)."
  window.city311T = function (key, values) {
    var text = Object.prototype.hasOwnProperty.call(messages, key) ? messages[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name)
        ? String(values[name])
        : whole;
    });
  };
  window.city311Language = document.documentElement.getAttribute("lang") || "en";
})();
