// pocketlink console: progressive enhancement only; every page works without it.
// - [data-live="URL"]: polls URL (a JSON object of id -> status) every 1.5 s and updates
//   each [data-status-key="id"] badge inside, text and class (aria-live announces it).
// - button.copy[data-copy]: shown, and copies its text to the clipboard.
// - select[data-refresh]: a change presses the form's refresh button (the one before
//   the select's next submit button named "step"), as a click on it would.
"use strict";
(function () {
  const PERIOD = 1500;

  function poll(region) {
    const url = region.getAttribute("data-live");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : null))
      .then((states) => {
        if (!states) return;
        region.querySelectorAll("[data-status-key]").forEach((badge) => {
          const state = states[badge.getAttribute("data-status-key")];
          if (state && badge.textContent !== state) {
            badge.textContent = state;
            badge.className = "status status-" + state;
          }
        });
      })
      .catch(() => {})
      .finally(() => setTimeout(() => poll(region), PERIOD));
  }

  function copy(button) {
    const text = button.getAttribute("data-copy");
    navigator.clipboard.writeText(text).then(() => {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    });
  }

  function refresh(select) {
    const form = select.form;
    const button = form && form.querySelector('button[name="step"][value="vpc"]');
    if (button) button.click();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-live]").forEach((region) => setTimeout(() => poll(region), PERIOD));
    if (navigator.clipboard) {
      document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
        button.hidden = false;
        button.addEventListener("click", () => copy(button));
      });
    }
    document.querySelectorAll("select[data-refresh]").forEach((select) => {
      select.addEventListener("change", () => refresh(select));
    });
  });
})();
