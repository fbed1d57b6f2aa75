// Appointments, Automations and Campaigns: when a row's customer opens beside the list (htmx
// swaps #appointment-detail or #reached-detail), the row is marked as the current one and, on
// a phone, the detail replaces the list (the "back" link returns to it). No inline script.
"use strict";

(function () {
  const DETAILS = ["appointment-detail", "reached-detail"];

  // The conversation pane beside an appointment or a source's result sends replies through that
  // screen (the text keeps its source). Its own actions (note, assign, close, unread) bring the
  // pane back from the Conversations screen's routes, whose composer would send a plain reply:
  // the container says where replies go, whatever rendered the pane inside it.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    if (!form || form.id !== "reply-form" || !form.closest) return;
    const through = form.closest("[data-reply-through]");
    if (through) event.detail.path = through.dataset.replyThrough;
  });

  // Those actions also send the Conversations screen's list out of band; this screen has no
  // such list, so that part is left out (htmx would report a missing target).
  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    const answer = String(event.detail.serverResponse || "");
    if (!target || !target.closest || !target.closest("[data-reply-through]")) return;
    if (!answer.includes("hx-swap-oob")) return;
    const parsed = new DOMParser().parseFromString(answer, "text/html");
    parsed.body.querySelectorAll("[hx-swap-oob]").forEach((part) => {
      const spec = part.getAttribute("hx-swap-oob");
      const selector = spec.includes(":") ? spec.slice(spec.indexOf(":") + 1) : part.id ? "#" + CSS.escape(part.id) : "";
      let found = null;
      try {
        found = selector ? document.querySelector(selector) : null;
      } catch (_notASelector) {
        found = null;
      }
      if (!found) part.remove();
    });
    event.detail.serverResponse = parsed.body.innerHTML;
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target || !DETAILS.includes(target.id)) return;
    const main = target.closest("main");
    if (main) main.classList.add("has-selection");
    const link = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!link || !link.closest) return;
    const row = link.closest("li");
    if (!row || !row.parentElement) return;
    row.parentElement.querySelectorAll("li.selected").forEach((other) => other.classList.remove("selected"));
    row.parentElement.querySelectorAll("a[aria-current]").forEach((other) => other.removeAttribute("aria-current"));
    row.classList.add("selected");
    link.setAttribute("aria-current", "true");
    if (window.matchMedia("(max-width: 760px)").matches) window.scrollTo(0, 0);
  });
})();
