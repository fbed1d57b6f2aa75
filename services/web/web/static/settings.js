// The settings forms (company, team, saved replies, carrier) post with htmx and get back the
// form's own partial: with the errors beside the fields (answered 422, which htmx would not
// swap by itself), or with what was saved. Without script the same forms post and redirect.
"use strict";

(function () {
  // A refusal of a form on these screens (422, or 503 when what it needed could not be reached)
  // carries the form as it was sent, with its errors: swapped like a success, not a banner.
  // Any other error answer (an error page) still goes to the banner, leaving the form as typed.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    const target = detail.target;
    if (!detail.isError || !target || !target.closest || !target.closest("[data-form-partial]")) return;
    if ([422, 503].includes(detail.xhr.status) && String(detail.serverResponse).includes("data-form-partial")) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  // Secret fields are kept as typed across the swap (hx-preserve: they are never sent back
  // by the server); their error, if any, is said beside them again.
  function markPreserved(root) {
    root.querySelectorAll("[hx-preserve][data-error-id]").forEach((field) => {
      const error = document.getElementById(field.dataset.errorId);
      if (error && error.textContent.trim()) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", error.id);
      } else {
        field.removeAttribute("aria-invalid");
        field.removeAttribute("aria-describedby");
      }
    });
  }

  let focusAtSwap = null;
  document.addEventListener("htmx:afterSwap", () => {
    focusAtSwap = document.activeElement;
  });

  // After a swap the button that was pressed is gone: focus goes to the first field in error,
  // or to what says the form was saved, so keyboard and screen-reader users carry on from there.
  document.addEventListener("htmx:afterSettle", (event) => {
    let swapped = event.detail.target;
    if (!swapped || !swapped.closest) return;
    // An outerHTML swap replaced the target: what is on the page now has its id.
    if (!document.contains(swapped)) swapped = swapped.id ? document.getElementById(swapped.id) : null;
    if (!swapped) return;
    // Only a form's own partial (not a preview or a live refresh inside it).
    if (!swapped.matches("[data-form-partial]")) return;
    const section = swapped;
    markPreserved(document);
    const invalid = section.querySelector("[aria-invalid=true]");
    const said =
      section.querySelector(".form-error, .saved, .form-saved") || document.querySelector(".saved[role=status]");
    const focus = invalid || said;
    if (!focus) return;
    // Someone who moved on while the answer settled (clicked into a field and typing) stays
    // there: moving them would send what they type next into another field.
    if (document.activeElement !== focusAtSwap) return;
    if (!invalid) focus.setAttribute("tabindex", "-1");
    focus.focus();
  });
})();
