// The conversation list's selection and bulk bar, and its view menu. State lives in the DOM
// (the checkboxes and #bulk-scope) so that an htmx swap of the list starts afresh.
"use strict";

(function () {
  const rowChecks = () => Array.from(document.querySelectorAll("#bulk-form .row-check"));

  function refreshSelection() {
    const form = document.getElementById("bulk-form");
    if (!form) return;
    const checks = rowChecks();
    const ticked = checks.filter((c) => c.checked).length;
    const scope = document.getElementById("bulk-scope");
    const matching = scope.value === "matching";
    const page = document.getElementById("select-page");
    page.checked = checks.length > 0 && ticked === checks.length;
    page.indeterminate = ticked > 0 && ticked < checks.length;

    document.getElementById("bulk-bar").hidden = ticked === 0;
    form.querySelector("[data-selected-count]").textContent = matching
      ? document.getElementById("list-total").dataset.total
      : String(ticked);
    form.querySelector("[data-matching-note]").hidden = !matching;
    const offer = form.querySelector("[data-select-matching]");
    // "Select all N that match" only once the whole page is ticked, as mail clients do.
    if (offer) offer.hidden = matching || !page.checked;
  }

  function tickAll(on) {
    rowChecks().forEach((c) => {
      c.checked = on;
    });
  }

  function setScope(value) {
    const scope = document.getElementById("bulk-scope");
    if (scope) scope.value = value;
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.id === "select-page") {
      tickAll(target.checked);
      setScope("ids");
      refreshSelection();
    } else if (target.classList && target.classList.contains("row-check")) {
      // Unticking one row means "these rows", no longer "everything that matches".
      if (!target.checked) setScope("ids");
      refreshSelection();
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-select-matching]")) {
      setScope("matching");
      refreshSelection();
      document.getElementById("selection-count").focus();
    } else if (event.target.closest("[data-clear-selection]")) {
      tickAll(false);
      setScope("ids");
      refreshSelection();
      document.getElementById("select-page").focus();
    }
    // A click outside the open view menu closes it, as a menu would.
    const menu = document.getElementById("view-menu");
    if (menu && menu.open && !menu.contains(event.target)) menu.open = false;
  });

  document.addEventListener("keydown", (event) => {
    const menu = document.getElementById("view-menu");
    if (event.key === "Escape" && menu && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // A live refresh of the list (static/live.js, from #list-refresh) must not undo what the
  // person is doing: the open view menu, "all that match", the assignee and note being typed,
  // the message saying what a bulk action did, and where the focus was. (live.js keeps the ticked rows.) A list the person asked for
  // (another view, a bulk action) starts afresh.
  let kept = null;
  const focusedRowPart = () => {
    const active = document.activeElement;
    const row = active && active.closest && active.closest("#rows [data-conversation]");
    if (!row) return null;
    const part = active.classList.contains("row-link") ? ".row-link" : active.classList.contains("row-check") ? ".row-check" : null;
    return part ? { conversation: row.dataset.conversation, part } : null;
  };
  const isLiveRefresh = (event) => {
    const config = event.detail.requestConfig;
    return Boolean(config && config.elt && config.elt.id === "list-refresh");
  };
  document.addEventListener("htmx:beforeSwap", (event) => {
    kept = null;
    if (!event.detail.target || event.detail.target.id !== "conversation-list" || !isLiveRefresh(event)) return;
    const value = (id) => (document.getElementById(id) || {}).value;
    const menu = document.getElementById("view-menu");
    kept = {
      menuOpen: Boolean(menu && menu.open),
      scope: value("bulk-scope"),
      assignee: value("bulk-assignee"),
      note: value("bulk-note"),
      flash: (document.getElementById("list-flash") || {}).textContent,
      focused: document.activeElement && document.activeElement.id,
      // A row's link or checkbox has no id: it is found again by its conversation (j/k moved
      // there, or the person tabbed to it).
      focusedRow: focusedRowPart(),
    };
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!kept || !event.detail.target || event.detail.target.id !== "conversation-list") return;
    const set = (id, v) => {
      const element = document.getElementById(id);
      if (element && v !== undefined) element.value = v;
    };
    const menu = document.getElementById("view-menu");
    if (menu) menu.open = kept.menuOpen;
    set("bulk-scope", kept.scope);
    set("bulk-assignee", kept.assignee);
    set("bulk-note", kept.note);
    const flash = document.getElementById("list-flash");
    if (flash && kept.flash) flash.textContent = kept.flash;
    const focused = kept.focused && document.getElementById(kept.focused);
    if (focused) focused.focus();
    if (kept.focusedRow) {
      const { conversation, part } = kept.focusedRow;
      const again = document.querySelector(`#rows [data-conversation="${CSS.escape(conversation)}"] ${part}`);
      if (again) again.focus({ preventScroll: true });
    }
    kept = null;
  });

  // The list's counts arrive after its rows (#list-counts asks for them). Counts asked by a list
  // that has since been replaced (another view chosen meanwhile) belong to that list: dropped.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const config = event.detail.requestConfig;
    const asker = config && config.elt;
    if (asker && asker.id === "list-counts" && !document.body.contains(asker)) event.detail.shouldSwap = false;
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    refreshSelection();
    // After a bulk action the pressed button is gone: say what happened where focus lands.
    const flash = document.getElementById("list-flash");
    if (event.detail.target && event.detail.target.id === "conversation-list" && flash && flash.textContent.trim()) {
      flash.focus();
    }
  });

  document.addEventListener("DOMContentLoaded", refreshSelection);
})();
