// pocketlink console: progressive enhancement only; every page works without it.
// - [data-live="URL"]: polls URL?ids=... (a JSON object of id -> status) every 1.5 s and
//   updates each [data-status-key="id"] badge inside, text and class (aria-live announces
//   it). Only badges whose state is not in data-settled are asked about (none: no call;
//   nor while the tab is hidden).
// - button.copy[data-copy]: shown, and copies its text to the clipboard.
// - input[data-filters="NAME"]: typing hides the choices named NAME whose label does not
//   contain the text (the form's Filter button does the same on the server).
// - [data-refresh="STEP"] (a select, a radio): a change presses the form's button
//   name="step" value="STEP" (present, or made hidden), as the user would without script.
"use strict";
(function () {
  const PERIOD = 1500;

  function poll(region) {
    const settled = (region.getAttribute("data-settled") || "").split(" ").filter(Boolean);
    const keys = [];
    region.querySelectorAll("[data-status-key]").forEach((badge) => {
      const key = badge.getAttribute("data-status-key");
      if (!settled.includes(badge.textContent) && !keys.includes(key)) keys.push(key);
    });
    if (!keys.length || document.hidden) {  // nothing changing, or nobody looking
      setTimeout(() => poll(region), PERIOD);
      return;
    }
    const url = region.getAttribute("data-live") + "?ids=" + encodeURIComponent(keys.join(","));
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

  function refresh(field) {
    const form = field.form;
    if (!form) return;
    const step = field.getAttribute("data-refresh");
    let button = form.querySelector('button[name="step"][value="' + step + '"]');
    if (!button) {
      button = document.createElement("button");
      button.type = "submit";
      button.name = "step";
      button.value = step;
      button.hidden = true;
      form.appendChild(button);
    }
    form.requestSubmit(button);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-live]").forEach((region) => setTimeout(() => poll(region), PERIOD));
    if (navigator.clipboard) {
      document.querySelectorAll("button.copy[data-copy]").forEach((button) => {
        button.hidden = false;
        button.addEventListener("click", () => copy(button));
      });
    }
    document.querySelectorAll("input[data-filters]").forEach((box) => {
      const named = box.getAttribute("data-filters");
      box.addEventListener("input", () => {
        const text = box.value.trim().toLowerCase();
        document.querySelectorAll('input[name="' + named + '"]').forEach((choice) => {
          const label = choice.labels.length ? choice.labels[0].textContent.toLowerCase() : "";
          choice.parentElement.hidden = Boolean(text) && !label.includes(text) && !choice.checked;
        });
      });
    });
    document.querySelectorAll("[data-refresh]").forEach((field) => {
      field.addEventListener("change", () => refresh(field));
    });
  });
})();
