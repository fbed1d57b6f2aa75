// Saved replies: a placeholder button inserts its text at the cursor of the reply's text, and
// the cursor goes back there (the text stays editable by keyboard alone).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-insert-placeholder]");
    if (!button) return;
    var field = document.getElementById("reply-body");
    if (!field) return;
    var text = button.getAttribute("data-insert-placeholder");
    var start = field.selectionStart == null ? field.value.length : field.selectionStart;
    var end = field.selectionEnd == null ? start : field.selectionEnd;
    field.setRangeText(text, start, end, "end");
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
