/* The public reports map (Leaflet, from this site): a marker per report of the list's
   filters, each linking to its public page. The list has every report, so without
   JavaScript nothing is missing. */
(function () {
  "use strict";
  var box = document.querySelector("[data-reports-map]");
  var data = document.getElementById("reports-points");
  if (!box || !data) { return; }
  var points = JSON.parse(data.textContent);
  if (!points.length) { return; }
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
      }).catch(function () { /* the list has every report */ });
    }
    if (box.dataset.tiles) {
      L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution })
        .on("tileerror", drawStreets).addTo(map);
    } else {
      drawStreets();
    }
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
  };
  document.head.appendChild(js);
}());
