// Capture by selection: turn the words an editor selects in a source's text into the
// offsets of the capture form. The server checks the offsets and shows the exact quote
// to confirm, so nothing here decides what is stored.
"use strict";

(() => {
  // Offsets count code points, as Python does; JavaScript strings count UTF-16 units.
  const codePoints = (text) => Array.from(text).length;

  // The offset in the source of a selection boundary, or null if it is outside the text.
  function offsetOf(container, node, offset, edge) {
    const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
    let paragraph = element ? element.closest("p[data-start]") : null;
    if (paragraph && !container.contains(paragraph)) return null;
    if (!paragraph) {
      // A boundary between paragraphs: take the edge of the nearest paragraph inside.
      if (!container.contains(node) && node !== container) return null;
      const range = document.createRange();
      range.setStart(node, offset);
      const paragraphs = Array.from(container.querySelectorAll("p[data-start]"));
      const after = paragraphs.find(
        (p) => range.comparePoint(p, 0) >= 0,
      );
      if (edge === "start") {
        return after ? Number(after.dataset.start) : null;
      }
      const before = paragraphs.filter((p) => range.comparePoint(p, p.childNodes.length) <= 0).pop();
      return before ? Number(before.dataset.start) + codePoints(before.textContent) : null;
    }
    const range = document.createRange();
    range.setStart(paragraph, 0);
    range.setEnd(node, offset);
    return Number(paragraph.dataset.start) + codePoints(range.toString());
  }

  function selectedSpan(container) {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) {
      return { error: "Select some words of the text first." };
    }
    const range = selection.getRangeAt(0);
    const start = offsetOf(container, range.startContainer, range.startOffset, "start");
    const end = offsetOf(container, range.endContainer, range.endOffset, "end");
    if (start === null || end === null) {
      return { error: "Select words within the source's text only." };
    }
    if (end <= start) return { error: "Select some words of the text first." };
    return { start, end };
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("capture-selection");
    const container = document.getElementById("source-text");
    const status = document.getElementById("capture-status");
    if (!button || !container) return;
    button.addEventListener("click", () => {
      // The source text is swapped after each save: look it up each time.
      const span = selectedSpan(document.getElementById("source-text"));
      if (span.error) {
        status.textContent = span.error;
        return;
      }
      status.textContent = "";
      const url = `${button.dataset.captureUrl}?start=${span.start}&end=${span.end}`;
      htmx.ajax("GET", url, { target: "#capture-panel", swap: "innerHTML" });
    });
    // Move focus into the panel when a form arrives, so keyboard users land on it.
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target.id === "capture-panel") {
        const first = event.detail.target.querySelector("[autofocus], select, input:not([type=hidden]), button, a");
        (first || event.detail.target).focus();
      }
    });
  });
})();
