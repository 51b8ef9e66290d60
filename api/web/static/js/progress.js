// Live progress of a running job: poll its state every second, reload once it is done.
"use strict";
(function () {
  var box = document.getElementById("job");
  if (!box) { return; }
  var initial = box.getAttribute("data-status");
  if (initial !== "queued" && initial !== "running") { return; }  // finished: nothing to follow
  var url = box.getAttribute("data-state-url");
  var status = document.getElementById("job-status");
  var bar = document.getElementById("job-progress");
  function poll() {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var pct = Math.round(s.progress * 100);
        bar.value = pct;
        bar.textContent = pct + " %";
        status.textContent = s.status_fr + (s.message ? " — " + s.message : "");
        box.setAttribute("data-status", s.status);
        if (s.done) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
