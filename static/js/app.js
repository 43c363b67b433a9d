// Small behaviours bound by data attributes, so templates need no inline script or on…=
// attributes (Content-Security-Policy script-src 'self', crm/core/csp.py). Delegated from
// the document, so rows and forms swapped in by htmx behave the same.
(function () {
  "use strict";
  // <input type="checkbox" data-check-all="ids">: ticks every input[name=ids] of the page.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-check-all]")) {
      document.querySelectorAll('input[name="' + box.dataset.checkAll + '"]').forEach(function (c) {
        c.checked = box.checked;
      });
    }
    // <select data-autosubmit>: choosing an option submits its form.
    if (box.matches && box.matches("select[data-autosubmit]") && box.form) {
      box.form.submit();
    }
  });
  // <button data-confirm="…">: asks first; "取消" stops the submission.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.dataset.confirm)) {
      event.preventDefault();
    }
  });
})();
