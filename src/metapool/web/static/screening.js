/* Keyboard shortcuts of the screening screen (metapool serve).
   I, E, M, N press the decision button whose data-key is that letter; U follows the "change my last
   decision" link. At full text, E without a reason moves the focus to the reasons: choose one with the
   arrow keys and press Enter. Keys typed into a field are left to the field. No inline handlers, no eval. */
(function () {
  "use strict";
  var sent = false;

  function press(el) {
    if (sent) { return; }
    if (el.tagName === "A") { sent = true; window.location.assign(el.href); return; }
    var reason = document.getElementById("reason");
    if (el.value === "exclude" && reason && reason.hasAttribute("aria-describedby") && !reason.value) {
      reason.focus();
      return;
    }
    sent = true;
    el.form.requestSubmit(el);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) { return; }
    var target = event.target;
    if (target && target.id === "reason" && event.key === "Enter") {
      var exclude = document.querySelector('button[data-key="E"]');
      if (exclude && target.value) { event.preventDefault(); press(exclude); }
      return;
    }
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    if (!event.key || event.key.length !== 1) { return; }
    var el = document.querySelector('[data-key="' + event.key.toUpperCase() + '"]');
    if (!el) { return; }
    event.preventDefault();
    press(el);
  });
}());
