// Connect buttons open the provider's consent page in a popup; when the popup is
// blocked the link simply navigates (full-page redirect), so nothing depends on this.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-popup]");
  if (!link) return;
  const url = new URL(link.href);
  url.searchParams.set("popup", "1");
  const popup = window.open(url, "streamdesk-connect", "popup,width=640,height=720");
  if (popup) event.preventDefault();
});

// The popup reports back when the person is done: show the fresh state.
window.addEventListener("message", (event) => {
  if (event.origin === window.location.origin && event.data === "streamdesk:linked") {
    window.location.reload();
  }
});
