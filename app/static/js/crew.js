/* The crew's phone page: sort the list nearest first from the phone's position.

   The server sorts: this script only asks the phone where it is and reloads the list with
   ?lat=&long=. Without JavaScript or a position the list keeps its default order (priority,
   planned day, age), and every link and form works the same. */
(function () {
  "use strict";
  var list = document.getElementById("crew-orders");
  if (!list) return;

  // iOS opens no app for geo: links; Apple Maps' https link opens navigation in its Maps app.
  var apple = /iPad|iPhone|iPod/.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  if (apple) {
    Array.prototype.forEach.call(document.querySelectorAll("a.navigate"), function (a) {
      a.href = "https://maps.apple.com/?daddr=" + a.getAttribute("data-lat") + "," +
        a.getAttribute("data-long");
    });
  }

  if (!navigator.geolocation) return;
  var status = document.getElementById("sort-status");
  var button = document.getElementById("sort-nearest");

  function sortFromHere() {
    if (status) status.textContent = "Finding where you are…";
    navigator.geolocation.getCurrentPosition(function (pos) {
      var url = new URL(window.location.href);
      url.searchParams.set("lat", pos.coords.latitude.toFixed(6));
      url.searchParams.set("long", pos.coords.longitude.toFixed(6));
      window.location.replace(url.toString());
    }, function () {
      if (status) {
        status.textContent = "Your position is not available, so the list is by priority, " +
          "planned day, then the oldest.";
      }
    }, { enableHighAccuracy: false, maximumAge: 120000, timeout: 15000 });
  }

  if (button) {
    // the crew moves on during the day: sort again from where they are now
    button.hidden = false;
    button.addEventListener("click", sortFromHere);
  }
  // a message from the last action would be lost in a reload: sort only when there is none
  var sorted = list.getAttribute("data-sorted") === "near";
  if (!sorted && !document.querySelector(".flash")) sortFromHere();
})();
