/* Console pages: move focus to the error summary when a form comes back with errors. */
(function () {
  "use strict";
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
}());
/* The case timer: counts while the caseworker works, then fills "Minutes spent".
   Kept per case in localStorage so a reload does not lose it. Without JavaScript the
   minutes are typed in. */
(function () {
  "use strict";
  var box = document.querySelector(".th-timer");
  var minutes = document.querySelector(".th-time-form input[name=minutes]");
  if (!box || !minutes || !window.localStorage) { return; }
  var key = "townhall-timer-" + box.getAttribute("data-case");
  var button = box.querySelector(".th-timer__toggle");
  var clock = box.querySelector(".th-timer__clock");
  var startLabel = button.textContent;
  var stopLabel = box.getAttribute("data-stop") || "Stop timer";
  var tick = null;
  function started() { return parseInt(localStorage.getItem(key) || "0", 10); }
  function show() {
    var s = Math.max(0, Math.floor((Date.now() - started()) / 1000));
    clock.textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }
  function run() {
    button.textContent = stopLabel;
    button.setAttribute("aria-pressed", "true");
    show();
    tick = window.setInterval(show, 1000);
  }
  box.hidden = false;
  if (started()) { run(); }
  button.addEventListener("click", function () {
    if (started()) {
      var spent = Math.max(1, Math.round((Date.now() - started()) / 60000));
      localStorage.removeItem(key);
      window.clearInterval(tick);
      button.textContent = startLabel;
      button.setAttribute("aria-pressed", "false");
      minutes.value = String(spent);
      minutes.focus();
    } else {
      localStorage.setItem(key, String(Date.now()));
      run();
    }
  });
}());
/* The case's place on a map (Leaflet, from this site; core/townmap.js). The address and
   coordinates are on the page as text, so without JavaScript nothing is missing. */
(function () {
  "use strict";
  var box = document.querySelector("[data-case-map]");
  if (!box || !window.Townmap) { return; }
  box.hidden = false;
  window.Townmap.load(box, function (L) {
    var point = [parseFloat(box.dataset.lat), parseFloat(box.dataset.long)];
    var map = L.map(box, { keyboard: false, scrollWheelZoom: false }).setView(point, 16);
    window.Townmap.background(map, box);
    L.marker(point, { keyboard: false, icon: window.Townmap.pin(box) }).addTo(map);
  });
}());
/* The queue table refreshes itself every 30 seconds (htmx), but not while a row is ticked
   for a bulk action nor while keyboard focus is in it: a refresh would lose either. Here
   rather than in an hx-trigger filter, which htmx would run through eval (refused by the
   Content-Security-Policy). */
document.addEventListener("htmx:beforeRequest", function (event) {
  "use strict";
  var table = document.getElementById("queue-table");
  if (!table || event.detail.elt !== table) { return; }
  if (table.querySelector("input:checked") || table.contains(document.activeElement)) {
    event.preventDefault();
  }
});
