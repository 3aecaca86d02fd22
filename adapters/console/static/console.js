// Helpline console: live refresh of the inbox and the open transcript, canned responses.
// Loaded as a file (the Content-Security-Policy allows no inline script).
"use strict";

function refresh(element) {
  const every = Math.max(1, Number(element.dataset.every || 5)) * 1000;
  async function tick() {
    if (!document.hidden) {
      try {
        const response = await fetch(element.dataset.refresh, { credentials: "same-origin" });
        if (response.redirected) {
          window.location.reload(); // signed out meanwhile: show the sign-in page
          return;
        }
        if (response.ok) {
          const html = await response.text();
          if (html !== element.dataset.last) {
            const stick = element.scrollTop + element.clientHeight >= element.scrollHeight - 4;
            element.innerHTML = html; // server-rendered, every customer text escaped
            element.dataset.last = html;
            if (stick) element.scrollTop = element.scrollHeight;
          }
        }
      } catch (error) {
        // offline for a moment: try again at the next tick
      }
    }
    window.setTimeout(tick, every);
  }
  window.setTimeout(tick, every);
}

function canned(select) {
  const target = document.getElementById(select.dataset.fill);
  if (!target) return;
  select.addEventListener("change", () => {
    const option = select.selectedOptions[0];
    if (option && option.dataset.text) {
      target.value = option.dataset.text;
      target.focus();
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(refresh);
  document.querySelectorAll("select[data-fill]").forEach(canned);
  const transcript = document.getElementById("transcript");
  if (transcript) transcript.scrollTop = transcript.scrollHeight;
});
