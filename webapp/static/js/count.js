// The character count of a text box against its service's limit (data-limit): read out
// politely as it changes, and marked when over. The server refuses over-limit text
// anyway; this only tells the person before they send. Works on boxes htmx brings too.
(() => {
  function update(box) {
    const out = document.getElementById(box.dataset.countIn);
    if (!out) return;
    const limit = Number(box.dataset.limit);
    const used = [...box.value.trim()].length;
    out.textContent = used > limit ? `${used - limit} over the limit of ${limit}` : `${used} / ${limit}`;
    out.classList.toggle("over", used > limit);
  }
  document.addEventListener("input", (event) => {
    if (event.target.matches && event.target.matches("textarea[data-limit]")) update(event.target);
  });
})();
