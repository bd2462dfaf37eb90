// Copy link: the clipboard needs a secure context (https or localhost); elsewhere the link box still shows it.
() => {
  const href = window.location.href;
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(href).catch(() => {});
  return href;
}
