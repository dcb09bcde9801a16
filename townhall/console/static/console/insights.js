/* The dashboard's hot-spot map (Leaflet, from this site): one circle per square, sized by
   its count, each linking to the cases behind it. The same figures are in the table under
   the map, so without JavaScript nothing is missing. */
(function () {
  "use strict";
  var box = document.querySelector("[data-insights-map]");
  var data = document.getElementById("hotspot-data");
  if (!box || !data) { return; }
  var spots = JSON.parse(data.textContent);
  if (!spots.length) { return; }
  box.hidden = false;
  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = box.dataset.leafletCss;
  document.head.appendChild(css);
  var js = document.createElement("script");
  js.src = box.dataset.leafletJs;
  js.onload = function () {
    var L = window.L;
    var map = L.map(box, { keyboard: false, scrollWheelZoom: false });
    var drawn = false;
    function drawStreets() {
      if (drawn || !box.dataset.streets) { return; }
      drawn = true;
      window.fetch(box.dataset.streets, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (geo) {
        if (!geo) { return; }
        L.geoJSON(geo, {
          attribution: box.dataset.streetsAttribution,
          interactive: false,
          style: function (feature) {
            return feature.properties.kind === "boundary"
              ? { color: "#1d4e89", weight: 2, dashArray: "6 4", fill: false }
              : { color: "#6f777b", weight: 3, opacity: 0.6 };
          }
        }).addTo(map);
      }).catch(function () { /* the figures are in the table */ });
    }
    if (box.dataset.tiles) {
      L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution })
        .on("tileerror", drawStreets).addTo(map);
    } else {
      drawStreets();
    }
    var top = spots.reduce(function (m, s) { return Math.max(m, s.volume); }, 1);
    var bounds = [];
    spots.forEach(function (spot) {
      var point = [spot.lat, spot.long];
      bounds.push(point);
      var circle = L.circleMarker(point, {
        radius: 6 + 18 * Math.sqrt(spot.volume / top),
        color: "#b10e1e", weight: 1, fillColor: "#d4351c", fillOpacity: 0.45
      }).addTo(map);
      var link = document.createElement("a");
      link.href = spot.url;
      link.className = "govuk-link";
      link.textContent = String(spot.volume);
      circle.bindPopup(link);
    });
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  };
  document.head.appendChild(js);
}());
