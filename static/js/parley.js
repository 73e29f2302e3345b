// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-navigate")) {
    window.location.href = el.value;
  }
});
document.addEventListener("click", (event) => {
  const el = event.target;
  if (!(el instanceof Element)) return;
  const copy = el.closest("[data-copy]");
  if (copy) {
    const target = document.getElementById(copy.getAttribute("data-copy"));
    if (target) navigator.clipboard?.writeText(target.textContent.trim());
    const label = copy.textContent;
    copy.textContent = "Copied";
    setTimeout(() => { copy.textContent = label; }, 2000);
  }
  const confirmEl = el.closest("[data-confirm]");
  if (confirmEl && !window.confirm(confirmEl.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
