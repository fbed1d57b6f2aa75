// Appointments, Automations and Campaigns: when a row's customer opens beside the list (htmx
// swaps #appointment-detail or #reached-detail), the row is marked as the current one and, on
// a phone, the detail replaces the list (the "back" link returns to it). No inline script.
"use strict";

(function () {
  const DETAILS = ["appointment-detail", "reached-detail"];

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
