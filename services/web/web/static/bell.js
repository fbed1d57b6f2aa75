// The notifications bell: opening its panel (loaded when opened), closing it with Escape or a
// click elsewhere, marking a notification read when it is opened, and the unread count in the
// tab title ("(3) Conversations · Demo Motors") after every swap of #bell.
"use strict";

(function () {
  const TITLE_COUNT = /^\(\d[\d\s.,\u202f\u00a0]*\)\s/;

  function panel() {
    return document.getElementById("notifications-panel");
  }

  function button() {
    return document.getElementById("bell-button");
  }

  function setOpen(open) {
    const box = panel();
    if (!box) return;
    box.hidden = !open;
    if (button()) button().setAttribute("aria-expanded", String(open));
  }

  function updateTitle() {
    const bell = document.getElementById("bell");
    if (!bell || bell.dataset.unread === undefined) return;
    const unread = Number(bell.dataset.unread) || 0;
    const base = document.title.replace(TITLE_COUNT, "");
    document.title = unread > 0 ? "(" + unread + ") " + base : base;
  }

  function csrfHeader() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch (_error) {
      return {};
    }
  }

  document.addEventListener("click", (event) => {
    const bellButton = event.target.closest("#bell-button");
    if (bellButton) {
      if (!panel().hidden) return setOpen(false);
      window.htmx
        .ajax("GET", bellButton.dataset.panelUrl, { target: "#notifications-panel", swap: "innerHTML" })
        .then(() => {
          setOpen(true);
          const first = panel().querySelector("a, button");
          if (first) first.focus();
        });
      return;
    }
    const link = event.target.closest("a[data-mark-read]");
    if (link) {
      // The page is left right away: keepalive lets the request finish after it.
      fetch(link.dataset.markRead, {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: csrfHeader(),
      }).catch(() => {});
    }
    const box = panel();
    if (box && !box.hidden && !box.contains(event.target) && !event.target.closest("#bell")) {
      setOpen(false);
    }
  });

  document.addEventListener("keydown", (event) => {
    const box = panel();
    if (event.key === "Escape" && box && !box.hidden) {
      setOpen(false);
      if (button()) button().focus();
    }
  });

  document.addEventListener("htmx:afterSettle", () => {
    updateTitle();
    // A re-fetched bell is a new button: it keeps saying whether the panel is open.
    const box = panel();
    if (box && button()) button().setAttribute("aria-expanded", String(!box.hidden));
  });
  document.addEventListener("DOMContentLoaded", updateTitle);
})();
