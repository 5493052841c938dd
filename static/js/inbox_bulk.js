/* The inbox's "Change several reports at once" is folded away until wanted:
   ticking a report (or every report on the page) opens it. Without this
   script its summary opens it. */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("inbox-bulk-panel");
    if (!panel) { return; }
    function openIfChosen() {
      if (document.querySelector('input[name="reports"]:checked')) { panel.open = true; }
    }
    document.addEventListener("change", function (event) {
      if (event.target instanceof HTMLInputElement && event.target.type === "checkbox") {
        // The header's box ticks the rows after this event: look once it has.
        window.setTimeout(openIfChosen, 0);
      }
    });
  });
})();
