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

// "/" jumps to the search box (the page's own, else the sidebar's), unless typing.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  if (document.querySelector("[data-inbox]")) return; // the inbox's "/" searches conversations
  const box = document.getElementById("search-q") || document.getElementById("global-q");
  if (box) { event.preventDefault(); box.focus(); box.select(); }
});
