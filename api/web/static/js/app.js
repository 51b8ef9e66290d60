// vivres: small behaviours shared by every page (no inline script: the CSP forbids it)
"use strict";
(function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // colour swatches (a style attribute would need 'unsafe-inline')
  document.querySelectorAll("[data-colour]").forEach(function (el) {
    el.style.backgroundColor = el.getAttribute("data-colour");
  });
})();
