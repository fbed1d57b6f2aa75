// The open conversation's pane (partials/conversation_pane.html): the reply draft kept per
// conversation while switching between them, opening at the newest message, the list's row
// following what the pane did (selected, read), @mention suggestions chosen by keyboard or
// click, and the export dialog. No inline script: the CSP forbids it.
"use strict";

(function () {
  const DRAFT = "switchboard:draft:";

  function paneRoot() {
    return document.querySelector("#conversation-pane > [data-conversation]");
  }

  // The draft lives in sessionStorage: it survives switching conversations and reloads in this
  // tab, and is gone when the tab closes (a text for a customer is not kept on the machine).
  function keepDraft(root) {
    const id = root.dataset.conversation;
    const body = document.getElementById("composer-body");
    if (!body) return;
    if (root.dataset.sent === "true") {
      sessionStorage.removeItem(DRAFT + id);
    } else if (body.value) {
      sessionStorage.setItem(DRAFT + id, body.value); // the server gave the draft back
    } else if (!body.disabled) {
      body.value = sessionStorage.getItem(DRAFT + id) || "";
    }
  }

  function showNewest() {
    const timeline = document.getElementById("timeline");
    if (!timeline || timeline.dataset.opened) return;
    timeline.dataset.opened = "true"; // "Show earlier" adds above without jumping back down
    timeline.scrollTop = timeline.scrollHeight;
  }

  function followInList(root) {
    const id = root.dataset.conversation;
    document.querySelectorAll("#conversation-list .row.selected").forEach((row) => row.classList.remove("selected"));
    const row = document.querySelector(`#conversation-list .row[data-conversation="${CSS.escape(id)}"]`);
    if (row) {
      row.classList.add("selected");
      if (root.dataset.read === "true") {
        // Opening it marked it read (routing): the red highlight and dot leave the row.
        row.classList.remove("unread-mine");
        row.querySelectorAll(".dot").forEach((dot) => dot.remove());
      }
    }
    const main = document.querySelector("main.inbox");
    if (main) main.classList.add("has-conversation");
  }

  function paneArrived() {
    const root = paneRoot();
    if (!root || root.dataset.ready) {
      showNewest();
      return;
    }
    root.dataset.ready = "true";
    keepDraft(root);
    followInList(root);
    showNewest();
  }

  document.addEventListener("DOMContentLoaded", paneArrived);
  document.addEventListener("htmx:afterSettle", (event) => {
    paneArrived();
    // A saved reply was inserted: back to the text, with the menu ready for another one.
    if (event.detail.elt && event.detail.elt.matches && event.detail.elt.matches("[data-saved-replies]")) {
      event.detail.elt.value = "";
    }
    const body = document.getElementById("composer-body");
    if (event.detail.target === body || (event.detail.elt && event.detail.elt.id === "saved-reply")) {
      if (body) {
        body.focus();
        body.setSelectionRange(body.value.length, body.value.length);
        saveDraft(body);
      }
    }
  });

  function saveDraft(body) {
    const root = paneRoot();
    if (!root) return;
    if (body.value) sessionStorage.setItem(DRAFT + root.dataset.conversation, body.value);
    else sessionStorage.removeItem(DRAFT + root.dataset.conversation);
  }

  document.addEventListener("input", (event) => {
    if (event.target.id === "composer-body") saveDraft(event.target);
  });

  // --- @mentions in the note ------------------------------------------------------------------

  function suggestionButtons() {
    return Array.from(document.querySelectorAll("#mention-suggestions [data-mention]"));
  }

  function clearSuggestions() {
    const box = document.getElementById("mention-suggestions");
    if (box) box.replaceChildren();
  }

  function chooseMention(handle) {
    const note = document.getElementById("note-body");
    if (!note) return;
    // The server suggested for the "@..." at the end of the note; that is what is replaced.
    note.value = note.value.replace(/@[\w.\-]*$/u, "") + handle + " ";
    clearSuggestions();
    note.focus();
    note.setSelectionRange(note.value.length, note.value.length);
  }

  document.addEventListener("click", (event) => {
    const mention = event.target.closest("[data-mention]");
    if (mention) chooseMention(mention.dataset.mention);
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog && !dialog.open) dialog.showModal();
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      const dialog = closer.closest("dialog");
      if (dialog) dialog.close();
    }
  });

  document.addEventListener("keydown", (event) => {
    const buttons = suggestionButtons();
    if (!buttons.length) return;
    const target = event.target;
    if (target.id === "note-body" && event.key === "ArrowDown") {
      event.preventDefault();
      buttons[0].focus();
      return;
    }
    const at = buttons.indexOf(target);
    if (at === -1) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = at + (event.key === "ArrowDown" ? 1 : -1);
      if (next < 0) document.getElementById("note-body").focus();
      else buttons[Math.min(next, buttons.length - 1)].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      clearSuggestions();
      document.getElementById("note-body").focus();
    }
  });
})();
