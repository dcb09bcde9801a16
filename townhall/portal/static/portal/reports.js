/* The public reports map (Leaflet, from this site; core/townmap.js): a marker per report of
   the list's filters, each linking to its public page. The list has every report, so
   without JavaScript nothing is missing. */
(function () {
  "use strict";
  var box = document.querySelector("[data-reports-map]");
  var data = document.getElementById("reports-points");
  if (!box || !data || !window.Townmap) { return; }
  var points = JSON.parse(data.textContent);
  if (!points.length) { return; }
  box.hidden = false;
  window.Townmap.load(box, function (L) {
    var map = L.map(box, { keyboard: false, scrollWheelZoom: false });
    window.Townmap.background(map, box, { quiet: true });
    var bounds = [];
    points.forEach(function (point) {
      var where = [point.lat, point.long];
      bounds.push(where);
      var marker = L.circleMarker(where, {
        radius: 7, color: "#0b0c0c", weight: 1, fillColor: "#1d70b8", fillOpacity: 0.8
      }).addTo(map);
      var link = document.createElement("a");
      link.href = point.url;
      link.className = "govuk-link";
      link.textContent = point.service + " · " + point.reference + " (" + point.status + ")";
      marker.bindPopup(link);
    });
    map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 });
  });
}());
