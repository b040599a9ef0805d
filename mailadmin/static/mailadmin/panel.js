// The panel's script: confirmations before destructive actions and "tick all" (security keys:
// webauthn.js). Everything works without it (the server still checks every action).
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = (event.submitter && event.submitter.dataset.confirm) || form.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.dataset || !box.dataset.checkAll) return;
  document.querySelectorAll('input[type=checkbox][name="' + box.dataset.checkAll + '"]').forEach(function (other) {
    other.checked = box.checked;
  });
});
