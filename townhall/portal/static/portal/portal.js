/* Every portal page: move focus to the error summary when a form comes back with errors,
   so screen-reader and keyboard users hear the problems first (as GOV.UK Frontend does;
   its 47 kB bundle is not loaded: the pages need nothing else from it). */
(function () {
  "use strict";
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
}());
