// Move stops between the day's routes (drag, or the "move to" list for keyboards), show the
// server's warnings at once, send the arrangement with "re-optimise".
"use strict";
(function () {
  var editor = document.getElementById("editor");
  if (!editor) { return; }
  var day = editor.getAttribute("data-day");
  var url = editor.getAttribute("data-verify-url");
  var csrf = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var lists = Array.prototype.slice.call(editor.querySelectorAll("ol.stops[data-vehicle]"));
  var box = document.getElementById("warnings");
  var field = document.getElementById("arrangement");

  function arrangement() {
    var out = {};
    lists.forEach(function (list) {
      var vehicle = list.getAttribute("data-vehicle");
      if (!vehicle) { return; }  // "not planned"; "@thu" lists hold stops moved to thursday
      out[vehicle] = Array.prototype.map.call(list.querySelectorAll("li[data-site]"),
        function (li) { return li.getAttribute("data-site"); });
    });
    return out;
  }

  function show(warnings) {
    box.textContent = "";
    editor.setAttribute("data-warnings", String(warnings.length));
    warnings.forEach(function (w) {
      var p = document.createElement("p");
      p.className = "warning";
      p.setAttribute("data-kind", w.kind);
      p.textContent = w.message;
      box.appendChild(p);
    });
    if (!warnings.length) {
      var ok = document.createElement("p");
      ok.className = "ok";
      ok.textContent = "Aucune alerte pour ce jour.";
      box.appendChild(ok);
    }
  }

  function changed() {
    lists.forEach(function (list) {
      var vehicle = list.getAttribute("data-vehicle");
      list.querySelectorAll("li[data-site] select.move").forEach(function (s) { s.value = vehicle; });
    });
    var routes = arrangement();
    field.value = JSON.stringify(routes);
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ day: day, routes: routes })
    }).then(function (r) { return r.json(); }).then(function (b) { show(b.warnings || []); });
  }

  function moveTo(li, vehicle) {
    var target = lists.filter(function (l) { return l.getAttribute("data-vehicle") === vehicle; })[0];
    if (!target) { return; }
    var ends = target.querySelectorAll("li.fixed");
    var last = ends.length > 1 ? ends[ends.length - 1] : null;
    target.insertBefore(li, last);
    changed();
  }

  lists.forEach(function (list) {
    if (window.Sortable) {
      window.Sortable.create(list, { group: "stops-" + day, draggable: "li[data-site]", onEnd: changed });
    }
  });
  editor.addEventListener("change", function (e) {
    if (e.target.matches("select.move")) { moveTo(e.target.closest("li"), e.target.value); }
  });
})();
