// Runs in the consent popup after the provider sent the person back.
if (window.opener && !window.opener.closed) {
  window.opener.postMessage("streamdesk:linked", window.location.origin);
  window.close();
}
