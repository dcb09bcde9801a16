/* The dashboard's hot-spot map (Leaflet, from this site; core/townmap.js): one circle per
   square, sized by its count, each linking to the cases behind it. The same figures are in
   the table under the map, so without JavaScript nothing is missing. */
(function () {
  "use strict";
  var box = document.querySelector("[data-insights-map]");
  var data = document.getElementById("hotspot-data");
  if (!box || !data || !window.Townmap) { return; }
  var spots = JSON.parse(data.textContent);
  if (!spots.length) { return; }
  box.hidden = false;
  window.Townmap.load(box, function (L) {
    var map = L.map(box, { keyboard: false, scrollWheelZoom: false });
    window.Townmap.background(map, box, { quiet: true });
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
  });
}());
