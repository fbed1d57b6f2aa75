// Keyboard shortcuts (listed in the "?" dialog, partials/shortcuts.html): j/k move through the
// list, Enter opens (the row is a focused link), r reply, n note, a assign, e close/reopen,
// / search. Never while typing in a field, where only Escape counts (it leaves the field).
"use strict";

(function () {
  const FIELD = "input, textarea, select, [contenteditable=''], [contenteditable='true']";

  function rowLinks() {
    return Array.from(document.querySelectorAll("#rows .row-link"));
  }

  function moveInList(step) {
    const links = rowLinks();
    if (!links.length) return;
    const current = links.indexOf(document.activeElement);
    const start = current === -1 ? links.findIndex((l) => l.closest(".row.selected")) : current;
    const next = start === -1 ? 0 : Math.min(links.length - 1, Math.max(0, start + step));
    links[next].focus();
    links[next].scrollIntoView({ block: "nearest" });
  }

  function focusById(id) {
    const element = document.getElementById(id);
    if (!element) return false;
    element.focus();
    return true;
  }

  function clickById(id) {
    const element = document.getElementById(id);
    if (!element) return false;
    element.click();
    return true;
  }

  function showShortcuts() {
    const dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
    return Boolean(dialog);
  }

  const ACTIONS = {
    j: () => (moveInList(1), true),
    k: () => (moveInList(-1), true),
    r: () => focusById("composer-body"),
    n: () => focusById("note-body"),
    a: () => clickById("assign-button"),
    e: () => clickById("status-button"),
    "/": () => focusById("search-q"),
    "?": showShortcuts,
  };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.closest && target.closest(FIELD)) {
      if (event.key === "Escape" && target.blur) target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (document.querySelector("dialog[open]") && event.key !== "?") return;
    const action = ACTIONS[event.key];
    if (action && action()) event.preventDefault();
  });
})();
