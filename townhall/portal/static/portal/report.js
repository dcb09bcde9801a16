/* The optional map and "use my location" on the report's "where" step.
   Without JavaScript the address search does the same job; this file only fills the
   lat/long fields of a GET form. Leaflet is loaded from this site when the map is shown. */
(function () {
  "use strict";
  var box = document.querySelector("[data-map]");
  if (!box) { return; }
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
      if (marker) { marker.setLatLng([lat, long]); } else { marker = window.L.marker([lat, long], { icon: pin(), keyboard: false }).addTo(map); }
      if (pan) { map.setView([lat, long], 17); }
    }
  }

  // Our own icon: Leaflet guesses its image folder from the CSS, which fails once the
  // static files carry hashed names in production.
  function pin() {
    return window.L.icon({
      iconUrl: box.dataset.marker, iconRetinaUrl: box.dataset.markerRetina, shadowUrl: box.dataset.markerShadow,
      iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41]
    });
  }

  function load(src, tag, done) {
    var el = document.createElement(tag);
    if (tag === "link") { el.rel = "stylesheet"; el.href = src; } else { el.src = src; el.onload = done; }
    document.head.appendChild(el);
    if (tag === "link" && done) { done(); }
  }

  // The town's streets from the gazetteer, served by this site: the map's background when
  // no tile server is set, and its fallback when the tile server cannot be reached.
  function drawStreets() {
    if (!box.dataset.streets || drawStreets.done) { return; }
    drawStreets.done = true;
    window.fetch(box.dataset.streets, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data || !map) { return; }
      window.L.geoJSON(data, {
        attribution: box.dataset.streetsAttribution,
        style: function (feature) {
          return feature.properties.kind === "boundary"
            ? { className: "th-map-boundary", color: "#1d4e89", weight: 2, dashArray: "6 4", fill: false, interactive: false }
            : { className: "th-map-street", color: "#6f777b", weight: 5, opacity: 0.8 };
        },
        onEachFeature: function (feature, layer) {
          if (feature.properties.kind === "street") { layer.bindTooltip(feature.properties.name, { sticky: true }); }
        }
      }).addTo(map);
    }).catch(function () { /* the address search still works */ });
  }

  function showMap() {
    var centre = [parseFloat(box.dataset.lat) || 0, parseFloat(box.dataset.long) || 0];
    map = window.L.map("map").setView(centre, 15);
    if (box.dataset.tiles) {
      window.L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution })
        .on("tileerror", drawStreets).addTo(map);
    } else {
      drawStreets();
    }
    map.on("click", function (event) { choose(event.latlng.lat, event.latlng.lng, false); });
  }

  load(box.dataset.leafletCss, "link");
  load(box.dataset.leafletJs, "script", showMap);

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
