/* The dashboard's "today so far" panel: polls the admin's JSON view and fills the figures.
 * The interval is the panel's data-interval (ms), read on every tick, so it can be changed
 * while the page is open; a hidden tab does not poll and catches up when shown again. */
(function () {
  "use strict";
  var TICK = 250;

  function start(panel) {
    var last = Date.now();
    var busy = false;

    function fill(data) {
      panel.querySelectorAll("[data-live]").forEach(function (node) {
        var name = node.getAttribute("data-live");
        if (!(name in data)) return;
        if (name === "as_of") {
          var when = new Date(data.as_of);
          node.setAttribute("datetime", data.as_of);
          node.textContent = when.toLocaleTimeString("en-GB", {
            timeZone: panel.dataset.timeZone || "UTC", hour12: false
          });
        } else {
          node.textContent = data[name];
        }
      });
      panel.dataset.updates = String(Number(panel.dataset.updates || 0) + 1);
      panel.removeAttribute("data-error");
    }

    function refresh() {
      busy = true;
      last = Date.now();
      fetch(panel.dataset.liveUrl, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(fill)
        .catch(function (error) { panel.setAttribute("data-error", String(error)); })
        .then(function () { busy = false; });
    }

    setInterval(function () {
      var interval = Number(panel.dataset.interval) || 30000;
      if (busy || document.visibilityState === "hidden") return;
      if (Date.now() - last >= interval) refresh();
    }, TICK);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-url]").forEach(start);
  });
})();
