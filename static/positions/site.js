// Progressive enhancements only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // "Copy citation": the citation is in a read-only textarea that can always be
  // selected by hand; the button is shown only where the clipboard API exists.
  for (const button of document.querySelectorAll("[data-copy-target]")) {
    if (!navigator.clipboard) continue;
    const target = document.getElementById(button.dataset.copyTarget);
    const status = button.parentElement.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(target.value);
        if (status) status.textContent = "Copied.";
      } catch {
        target.select();
        if (status) status.textContent = "Select the text and copy it with your keyboard.";
      }
    });
  }
});
