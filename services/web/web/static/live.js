// Keeps the open page live from its one event stream (/live, relayed from notifier):
// - `inbox` events (received by the hidden #live-inbox) refresh the list and its counts, coalesced so a burst of texts costs one
//   request at a time and the last change is never skipped (htmx's own throttle drops events);
// - the open conversation refreshes itself on its own events (hx-trigger); `bell` events
//   (received by #live-bell) refresh the notifications bell and the tab title;
// - "X is replying…" clears itself when no new signal came for a few seconds;
// - the stream resumes where it stopped: the browser sends Last-Event-ID when it reconnects by
//   itself, and when htmx-ext-sse has to create a new EventSource (after an error answer) the
//   last id goes in the URL; the page then refreshes what it shows.
"use strict";

(function () {
  // Long enough to take the few events of one change (a text and its assignment) in one
  // request; a burst longer than that is coalesced by the one-request-at-a-time rule below.
  const REFRESH_AFTER_MS = 50;
  const TYPING_SHOWN_MS = 6000;
  let lastEventId = "";
  let refreshTimer = null;
  let refreshing = false;
  let dirty = false;
  let hadError = false;
  // "Load more" swaps its rows into the #more-rows placeholder; a live refresh swapped while
  // that answer is on its way would replace the placeholder and the loaded rows would be lost,
  // so a refresh waits for it (and one already on its way is dropped for a new one).
  let loadingMore = 0;
  const isLoadMore = (detail) => detail.target && detail.target.id === "more-rows";

  htmx.createEventSource = function (url) {
    const separator = url.includes("?") ? "&" : "?";
    return new EventSource(lastEventId ? url + separator + "last_event_id=" + encodeURIComponent(lastEventId) : url);
  };

  function listRefresher() {
    return document.getElementById("list-refresh");
  }

  function refreshList() {
    const refresher = listRefresher();
    if (!refresher) return;
    if (refreshing || loadingMore > 0) {
      dirty = true;
      return;
    }
    if (refreshTimer) return;
    refreshTimer = window.setTimeout(() => {
      refreshTimer = null;
      refreshing = true;
      dirty = false;
      htmx.trigger(refresher, "refresh");
    }, REFRESH_AFTER_MS);
  }

  // The refresher is swapped out with the list it refreshes, so the answer is recognised by its
  // target; a lost answer does not stop the list from ever refreshing again.
  function refreshDone() {
    window.clearTimeout(refreshGuard);
    refreshing = false;
    if (dirty) refreshList();
  }
  let refreshGuard = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt && event.detail.elt.id === "list-refresh") {
      refreshGuard = window.setTimeout(refreshDone, 10000);
    }
    if (isLoadMore(event.detail)) loadingMore += 1;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const target = event.detail.target;
    if (refreshing && target && target.id === "conversation-list") refreshDone();
    if (isLoadMore(event.detail)) {
      loadingMore = Math.max(0, loadingMore - 1);
      if (loadingMore === 0 && dirty && !refreshing) refreshList();
    }
  });

  // A live refresh keeps the numbers it shows and asks for new ones at most once a second, the
  // last change always included (a trailing request); a burst of texts then costs routing one
  // pass over the account's conversations a second per open page, not one per refresh.
  const COUNTS_EVERY_MS = 1000;
  let countsAskedAt = 0;
  let countsTimer = null;
  function askCounts() {
    const loader = document.getElementById("list-counts");
    if (!loader || loader.hasAttribute("data-loaded") || countsTimer) return;
    const wait = countsAskedAt + COUNTS_EVERY_MS - Date.now();
    if (wait > 0) {
      countsTimer = window.setTimeout(() => {
        countsTimer = null;
        askCounts();
      }, wait);
      return;
    }
    htmx.trigger(loader, "counts-due");
  }
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt && event.detail.elt.id === "list-counts") countsAskedAt = Date.now();
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    const config = event.detail.requestConfig;
    if (config && config.elt && config.elt.id === "list-refresh") askCounts();
  });

  // Rows added by "Load more" survive a live refresh: it asks for as many rows as are shown,
  // and an answer that would show fewer (more were loaded meanwhile) is dropped for a new one.
  const rowsShown = () => document.querySelectorAll("#rows .row").length;
  let askedRows = 0;
  document.addEventListener("htmx:configRequest", (event) => {
    if (event.detail.elt && event.detail.elt.id === "list-refresh") {
      askedRows = rowsShown();
      event.detail.parameters.shown = askedRows;
    }
  });
  document.addEventListener("htmx:beforeSwap", (event) => {
    const config = event.detail.requestConfig;
    // A refresh answered after the person asked for another list (a view, Closed, a bulk
    // action) refreshes a list that is gone: its refresher was swapped out with it. Swapping
    // it in would show the old view's rows under the new view's address.
    if (config && config.elt && config.elt.id === "list-refresh" && !config.elt.isConnected) {
      event.detail.shouldSwap = false;
      return;
    }
    if (config && config.elt && config.elt.id === "list-refresh" && (rowsShown() > askedRows || loadingMore > 0)) {
      event.detail.shouldSwap = false;
      dirty = true;
    }
  });

  // Checked rows survive a live refresh of the list.
  let checked = [];
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "conversation-list") {
      checked = Array.from(document.querySelectorAll("#conversation-list input[type=checkbox][value]:checked"))
        .map((box) => box.value);
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (!event.detail.target || event.detail.target.id !== "conversation-list") return;
    for (const value of checked) {
      const box = document.querySelector(`#conversation-list input[type=checkbox][value="${CSS.escape(value)}"]`);
      if (box) box.checked = true;
    }
    const pane = document.querySelector("#conversation-pane [data-conversation]");
    if (pane) {
      const row = document.querySelector(`#conversation-list [data-conversation="${CSS.escape(pane.dataset.conversation)}"]`);
      if (row) row.classList.add("selected");
    }
  });

  document.addEventListener("htmx:sseMessage", (event) => {
    if (event.detail && event.detail.lastEventId) lastEventId = event.detail.lastEventId;
    if (event.target.id === "live-inbox") refreshList();
    if (event.target.id === "live-bell") htmx.trigger(document.body, "bell-refresh");
    const slot = event.target.closest ? event.target.closest(".presence") : null;
    if (slot) {
      window.clearTimeout(slot.typingTimer);
      slot.typingTimer = window.setTimeout(() => { slot.textContent = ""; }, TYPING_SHOWN_MS);
    }
  });

  document.addEventListener("htmx:sseError", () => { hadError = true; });
  document.addEventListener("htmx:sseOpen", () => {
    if (!hadError) return;
    hadError = false;
    // Whatever happened while the stream was down is shown by asking again.
    refreshList();
    htmx.trigger(document.body, "bell-refresh");
    document.querySelectorAll("[data-live-refresh]").forEach((element) => htmx.trigger(element, "refresh"));
  });
})();
