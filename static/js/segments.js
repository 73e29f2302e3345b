// The segment editor: remove rows, keep the live count in step with row
// swaps, keep Enter from saving half-typed conditions, focus new rows.
(() => {
  const form = document.getElementById("segment-form");
  if (!form) return;
  const recount = () => window.htmx && window.htmx.trigger(form, "segments-changed");
  const conditions = document.getElementById("conditions");
  const syncEmpty = () => form.classList.toggle("has-conditions", conditions.children.length > 0);
  syncEmpty();

  form.addEventListener("click", (event) => {
    const button = event.target instanceof Element && event.target.closest("[data-remove-row]");
    if (!button) return;
    const row = button.closest(".cond-row");
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    syncEmpty();
    const focusTarget = next ? next.querySelector("select") : document.getElementById("add-condition");
    if (focusTarget) focusTarget.focus();
    recount();
  });

  form.addEventListener("keydown", (event) => {
    // Enter in a condition recounts instead of submitting the form.
    if (event.key === "Enter" && event.target instanceof HTMLInputElement && event.target.closest(".cond-row")) {
      event.preventDefault();
      recount();
    }
  });

  document.body.addEventListener("htmx:afterSettle", (event) => {
    const path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
    if (!path || !path.includes("/segments/condition/")) return;
    syncEmpty();
    const fresh = conditions.querySelector("[data-autofocus]");
    if (fresh) {
      fresh.removeAttribute("data-autofocus");
      fresh.focus();
    }
    recount();
  });
})();
