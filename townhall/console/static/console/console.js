/* Console pages: move focus to the error summary when a form comes back with errors. */
(function () {
  "use strict";
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
}());
