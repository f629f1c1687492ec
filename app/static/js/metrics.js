/* The KPI pages' charts and map. Data comes from the metrics API (data-url) or from a
   data-series attribute; every figure drawn here is also in a table on the page. */
(function () {
  "use strict";
  if (!window.Chart) return;

  var BLUE = "#0b5cad", GREEN = "#1a7f37", RED = "#cf222e", GREY = "#8c959f";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status + " for " + url);
        return resp.json();
      });
  }

  function noData(canvas, message) {
    var p = document.createElement("p");
    p.className = "muted";
    p.textContent = message;
    canvas.parentNode.insertBefore(p, canvas.nextSibling);
  }

  function twoAxes(leftTitle, rightTitle, rightMax) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        y: { beginAtZero: true, title: { display: true, text: leftTitle } },
        y1: { beginAtZero: true, max: rightMax, position: "right",
          grid: { drawOnChartArea: false }, title: { display: true, text: rightTitle } }
      }
    };
  }

  function trend(canvas) {
    getJSON(canvas.dataset.url).then(function (data) {
      var rows = data.rows;
      if (!rows.length) { noData(canvas, "No requests in this range."); }
      var config = {
        data: {
          labels: rows.map(function (r) { return r.key; }),
          datasets: [
            { type: "bar", label: "Requests", data: rows.map(function (r) { return r.volume; }),
              backgroundColor: GREY, yAxisID: "y" },
            { type: "line", label: "Median hours to close",
              data: rows.map(function (r) { return r.median_hours_to_close; }),
              borderColor: BLUE, backgroundColor: BLUE, yAxisID: "y1", spanGaps: true },
            { type: "line", label: "p90 hours to close",
              data: rows.map(function (r) { return r.p90_hours_to_close; }),
              borderColor: RED, backgroundColor: RED, yAxisID: "y1", spanGaps: true }
          ]
        },
        options: twoAxes("requests", "hours", undefined)
      };
      // satisfaction where asked: the share of answers saying fixed, on an axis of its own
      var asked = rows.some(function (r) { return r.satisfaction_responses > 0; });
      if (asked) {
        config.data.datasets.push({ type: "line", label: "% saying fixed (survey)",
          data: rows.map(function (r) { return r.pct_fixed; }),
          borderColor: GREEN, backgroundColor: GREEN, borderDash: [4, 3], yAxisID: "y2",
          spanGaps: true });
        config.options.scales.y2 = { beginAtZero: true, max: 100, position: "right",
          grid: { drawOnChartArea: false }, title: { display: true, text: "% fixed" } };
      }
      new Chart(canvas, config);
    }).catch(function (err) { noData(canvas, "The trend could not load (" + err.message + ")."); });
  }

  function departments(canvas) {
    getJSON(canvas.dataset.url).then(function (data) {
      var rows = data.rows;
      new Chart(canvas, {
        data: {
          labels: rows.map(function (r) { return r.name; }),
          datasets: [
            { type: "bar", label: "Requests", data: rows.map(function (r) { return r.volume; }),
              backgroundColor: BLUE, yAxisID: "y" },
            { type: "bar", label: "% within SLA",
              data: rows.map(function (r) { return r.pct_within_sla; }),
              backgroundColor: GREEN, yAxisID: "y1" }
          ]
        },
        options: twoAxes("requests", "% within SLA", 100)
      });
    }).catch(function (err) { noData(canvas, "The chart could not load (" + err.message + ")."); });
  }

  function aging(canvas) {
    getJSON(canvas.dataset.url).then(function (data) {
      var b = data.buckets;
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: b.map(function (x) { return x.label; }),
          datasets: [
            { label: "Open, on time", data: b.map(function (x) { return x.open - x.overdue; }),
              backgroundColor: BLUE },
            { label: "Overdue", data: b.map(function (x) { return x.overdue; }),
              backgroundColor: RED }
          ]
        },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
      });
    }).catch(function (err) { noData(canvas, "The chart could not load (" + err.message + ")."); });
  }

  function publicTrend(canvas) {
    // the public page gives its words in its language (js/i18n.js)
    var t = window.city311T || function (key) { return key; };
    var s = JSON.parse(canvas.dataset.series);
    new Chart(canvas, {
      data: {
        labels: s.labels,
        datasets: [
          { type: "bar", label: t("chart_reports"), data: s.requests, backgroundColor: GREY,
            yAxisID: "y" },
          { type: "line", label: t("chart_on_time"), data: s.within_sla, borderColor: GREEN,
            backgroundColor: GREEN, yAxisID: "y1", spanGaps: true }
        ]
      },
      options: twoAxes(t("axis_reports"), t("axis_on_time"), 100)
    });
  }

  function map(el) {
    if (!window.L || !L.markerClusterGroup) return;
    var m = L.map(el, { scrollWheelZoom: false });
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.attribution, maxZoom: 19 }).addTo(m);
    getJSON(el.dataset.url).then(function (data) {
      var cluster = L.markerClusterGroup();
      var bounds = [];
      data.points.forEach(function (p) {
        var marker = L.circleMarker([p.lat, p.long], {
          radius: 6, color: p.overdue ? RED : BLUE, fillOpacity: 0.8
        });
        marker.bindPopup(document.createTextNode(
          "#" + p.id + " " + p.service_type + (p.overdue ? " (overdue)" : "")));
        cluster.addLayer(marker);
        bounds.push([p.lat, p.long]);
      });
      // the view first: the cluster layer reads the map's zoom when it is added
      if (bounds.length) m.fitBounds(bounds, { maxZoom: 15 });
      else m.setView([0, 0], 1);
      m.addLayer(cluster);
      var note = document.getElementById("map-note");
      if (note && data.total_open > data.points.length) {
        note.insertBefore(document.createTextNode(
          "Showing the " + data.points.length + " most overdue of " + data.total_open +
          " open requests. "), note.firstChild);
      }
    }).catch(function (err) { noData(el, "The map could not load (" + err.message + ")."); });
  }

  var el;
  if ((el = document.getElementById("chart-trend"))) trend(el);
  if ((el = document.getElementById("chart-departments"))) departments(el);
  if ((el = document.getElementById("chart-aging"))) aging(el);
  if ((el = document.getElementById("chart-public-trend"))) publicTrend(el);
  if ((el = document.getElementById("metrics-map"))) map(el);
})();
