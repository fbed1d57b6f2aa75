// The page's own behaviour, as small as htmx leaves it: the error banner, going to sign-in when
// the session ends, and nothing that needs eval or inline script (see the CSP in security.py).
"use strict";

(function () {
  const messages = () => document.getElementById("messages").dataset;

  function showBanner(text) {
    const banner = document.getElementById("banner");
    document.getElementById("banner-text").textContent = text;
    banner.hidden = false;
  }

  function hideBanner() {
    document.getElementById("banner").hidden = true;
  }

  // `target`: the server's sign-in address (its X-Sign-In header), which says why the session
  // ended when the person must be told (their dealership was suspended).
  function goToSignIn(target) {
    const here = window.location.pathname + window.location.search;
    const suspended = typeof target === "string" && target.includes("reason=suspended");
    window.location.assign("/signin?next=" + encodeURIComponent(here) + (suspended ? "&reason=suspended" : ""));
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-close-banner]")) hideBanner();
  });

  // htmx does not swap error answers; the server's short plain text is shown as text.
  document.addEventListener("htmx:responseError", (event) => {
    const xhr = event.detail.xhr;
    if (xhr.status === 401) return goToSignIn(xhr.getResponseHeader("x-sign-in"));
    const text = (xhr.getResponseHeader("content-type") || "").startsWith("text/plain")
      ? xhr.responseText
      : (new DOMParser().parseFromString(xhr.responseText, "text/html").body.textContent || "").trim();
    showBanner(text || messages().failed);
  });

  document.addEventListener("htmx:sendError", () => showBanner(messages().unavailable));
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.successful) hideBanner();
  });

  // The live stream failed: htmx-ext-sse would retry forever, even after the session ended.
  // Ask the server whether the session is still good; if not, go and sign in.
  let checking = false;
  document.addEventListener("htmx:sseError", async () => {
    if (checking) return;
    checking = true;
    try {
      const answer = await fetch("/session", { credentials: "same-origin" });
      if (answer.status === 401 || answer.redirected) return goToSignIn(answer.headers.get("x-sign-in"));
      if (!answer.ok) showBanner(messages().unavailable);
    } catch (_error) {
      showBanner(messages().unavailable);
    } finally {
      checking = false;
    }
  });
  document.addEventListener("htmx:sseOpen", hideBanner);

  window.Switchboard = { showBanner, hideBanner, goToSignIn };
})();
