/* The optional map and "use my location" on the report's "where" step.
   Without JavaScript the address search does the same job; this file only fills the
   lat/long fields of a GET form. Leaflet is loaded from this site when the map is shown
   (core/townmap.js, which also draws the background). */
(function () {
  "use strict";
  var box = document.querySelector("[data-map]");
  if (!box || !window.Townmap) { return; }
  box.classList.add("th-js-shown");
  var form = box.querySelector("[data-point-form]");
  var latInput = box.querySelector("[data-lat-input]");
  var longInput = box.querySelector("[data-long-input]");
  var useButton = box.querySelector("[data-use-point]");
  var status = box.querySelector("[data-locate-status]");
  var map = null;
  var marker = null;

  function choose(lat, long, pan) {
    latInput.value = lat.toFixed(6);
    longInput.value = long.toFixed(6);
    useButton.disabled = false;
    if (map) {
      if (marker) { marker.setLatLng([lat, long]); } else { marker = window.L.marker([lat, long], { icon: window.Townmap.pin(box), keyboard: false }).addTo(map); }
      if (pan) { map.setView([lat, long], 17); }
    }
  }

  function showMap() {
    var centre = [parseFloat(box.dataset.lat) || 0, parseFloat(box.dataset.long) || 0];
    map = window.L.map("map").setView(centre, 15);
    window.Townmap.background(map, box);
    map.on("click", function (event) { choose(event.latlng.lat, event.latlng.lng, false); });
  }

  window.Townmap.load(box, showMap);

  var locate = box.querySelector("[data-locate]");
  if (!("geolocation" in navigator)) { locate.hidden = true; }
  locate.addEventListener("click", function () {
    status.textContent = box.dataset.finding || "…";
    navigator.geolocation.getCurrentPosition(function (position) {
      status.textContent = "";
      choose(position.coords.latitude, position.coords.longitude, true);
    }, function () {
      status.textContent = box.dataset.locateFailed || "We could not get your location. Search for the address or use the map.";
    }, { enableHighAccuracy: true, timeout: 10000 });
  });
  form.addEventListener("submit", function (event) {
    if (!latInput.value) { event.preventDefault(); }
  });
}());
