// Keyboard and screen-reader users land on what an htmx swap brought: its message
// (role=alert/status or [data-focus]) or else its first heading, or else its first
// row of a list ([data-row]: the feed's "Older stories", "More results", "show").
// Without this, focus stays on a link that the swap removed and falls back to <body>,
// and nothing is read.
(() => {
  const MESSAGE = '[role="alert"], [role="status"], [data-focus]';
  const HEADING = "h1, h2, h3, h4";
  const ROW = "[data-row]";
  const settled = new WeakMap(); // request -> the elements it settled (main swap and out-of-band)

  function focusOn(element) {
    if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) {
      element.setAttribute("tabindex", "-1"); // focusable by script only, not a Tab stop
    }
    element.focus({ preventScroll: false });
  }

  function pick(elements, rows) {
    const live = elements.filter((e) => e.isConnected);
    // The message wins over a heading wherever it is: it is the result the person asked for.
    for (const e of live) {
      const found = e.matches(MESSAGE) ? e : e.querySelector(MESSAGE);
      if (found) return found;
    }
    for (const e of live) {
      const found = e.matches(HEADING) ? e : e.querySelector(HEADING);
      if (found) return found;
    }
    // Rows only when asked for (a click, Enter) or when focus was on what the swap
    // removed: rows loaded because the reader scrolled must not pull focus away.
    if (!rows) return null;
    for (const e of live) {
      const found = e.matches(ROW) ? e : e.querySelector(ROW);
      if (found) return found;
    }
    return null;
  }

  document.addEventListener("htmx:afterSettle", (event) => {
    const detail = event.detail;
    // Polls (hx-trigger="every …") have no triggering event: a refresh must never steal focus.
    if (!detail.requestConfig || !detail.requestConfig.triggeringEvent || !detail.xhr) return;
    const first = !settled.has(detail.xhr);
    if (first) settled.set(detail.xhr, []);
    settled.get(detail.xhr).push(event.target);
    // Every element of one response settles in the same task: decide once they all have.
    if (first) {
      const asked = detail.requestConfig.triggeringEvent.type === "click";
      setTimeout(() => {
        const lost = !document.activeElement || document.activeElement === document.body;
        const target = pick(settled.get(detail.xhr), asked || lost);
        if (target) focusOn(target);
      }, 0);
    }
  });

  // A full page after an action (no JavaScript needed for it) carries its result as a
  // flashed notice: start there, as after a swap. A page whose field asks to be typed in
  // at once (autofocus: the login form after logging out) keeps its field.
  document.addEventListener("DOMContentLoaded", () => {
    const flashed = document.querySelector("main [data-focus]");
    if (flashed && !document.querySelector("[autofocus]")) focusOn(flashed);
  });
})();
