/* What every map on the site shares: Leaflet loaded from this site only when a map is
   shown, our own marker icon, and the background: the council's tile server, or the
   town's streets from the gazetteer (served by this site) when none is set or it cannot
   be reached. Each page's script draws its own markers on top. */
window.Townmap = (function () {
  "use strict";

  // Load Leaflet's stylesheet and script (their addresses are on the map's box), then
  // call ready(L).
  function load(box, ready) {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = box.dataset.leafletCss;
    document.head.appendChild(css);
    var js = document.createElement("script");
    js.src = box.dataset.leafletJs;
    js.onload = function () { ready(window.L); };
    document.head.appendChild(js);
  }

  // Leaflet guesses its image folder from the CSS, which fails once the static files
  // carry hashed names in production: the icon's images are named on the box.
  function pin(box) {
    return window.L.icon({
      iconUrl: box.dataset.marker, iconRetinaUrl: box.dataset.markerRetina, shadowUrl: box.dataset.markerShadow,
      iconSize: [25, 41], iconAnchor: [12, 41], shadowSize: [41, 41]
    });
  }

  // Tiles, falling back to the streets. options.quiet: an overview map whose streets are
  // scenery (thinner, no street names, not clickable) under many markers.
  function background(map, box, options) {
    var quiet = Boolean(options && options.quiet);
    var drawn = false;
    function drawStreets() {
      if (drawn || !box.dataset.streets) { return; }
      drawn = true;
      window.fetch(box.dataset.streets, { credentials: "same-origin" }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (geo) {
        if (!geo) { return; }
        window.L.geoJSON(geo, {
          attribution: box.dataset.streetsAttribution,
          interactive: !quiet,
          style: function (feature) {
            return feature.properties.kind === "boundary"
              ? { className: "th-map-boundary", color: "#1d4e89", weight: 2, dashArray: "6 4", fill: false, interactive: false }
              : { className: "th-map-street", color: "#6f777b", weight: quiet ? 3 : 5, opacity: quiet ? 0.6 : 0.8 };
          },
          onEachFeature: function (feature, layer) {
            if (!quiet && feature.properties.kind === "street") { layer.bindTooltip(feature.properties.name, { sticky: true }); }
          }
        }).addTo(map);
      }).catch(function () { /* each page says in text what its map shows */ });
    }
    if (box.dataset.tiles) {
      window.L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution })
        .on("tileerror", drawStreets).addTo(map);
    } else {
      drawStreets();
    }
  }

  return { load: load, pin: pin, background: background };
}());
