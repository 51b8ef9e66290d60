// The day's routes over an offline vector basemap (communes, roads, sites); tiles only
// when the server is configured with a tile URL.
"use strict";
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var day = el.getAttribute("data-day");
  var colours = JSON.parse(el.getAttribute("data-colours") || "{}");
  var map = L.map(el, { preferCanvas: true, attributionControl: true });
  var tiles = el.getAttribute("data-tiles");
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 18, attribution: "© OpenStreetMap" }).addTo(map);
  }
  function get(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }
  Promise.all([get(el.getAttribute("data-basemap")), get(el.getAttribute("data-routes"))])
    .then(function (docs) {
      var base = docs[0], routes = docs[1];
      L.geoJSON(base, {
        filter: function (f) { return f.properties.layer !== "site"; },
        style: function (f) {
          if (f.properties.layer === "road") { return { color: "#9aa5ae", weight: 1 }; }
          return { color: "#6b7780", weight: 1, fillColor: "#e3e9ee", fillOpacity: 0.5 };
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 2, color: "#6b7780" })
            .bindTooltip(f.properties.name, { permanent: false });
        }
      }).addTo(map);
      L.geoJSON(base, {
        filter: function (f) { return f.properties.layer === "site"; },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 4, color: "#4a5560", weight: 1, fillOpacity: 0.6 });
        },
        onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); }
      }).addTo(map);
      var todays = L.geoJSON(routes, {
        filter: function (f) { return f.properties.day === day; },
        style: function (f) {
          return { color: colours[f.properties.vehicle_id] || "#000", weight: 4, opacity: 0.9 };
        },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {
            radius: 6, weight: 2, color: colours[f.properties.vehicle_id] || "#000",
            fillColor: "#fff", fillOpacity: 1
          });
        },
        onEachFeature: function (f, layer) {
          var p = f.properties;
          layer.bindTooltip(p.name ? (p.arrival + " " + p.name) : p.vehicle_id);
        }
      }).addTo(map);
      var bounds = todays.getBounds();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20] }); }
      else { map.setView([46.6, 2.4], 6); }
      el.setAttribute("data-features", String(todays.getLayers().length));
      el.setAttribute("data-ready-ms", String(performance.now()));
      el.setAttribute("data-ready", "1");
    });
})();
