// Deal board: drag a card to another stage or position (HTML5 drag and drop).
// Each card also has a "Move" form, so the board works by keyboard and without JS.
(function () {
  "use strict";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function toast(text) {
    const el = document.querySelector("[data-deals-toast]");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(el._timer);
    el._timer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // The card the pointer is above (the dragged one goes before it), or null for the end.
  function cardAfter(list, y) {
    const cards = [...list.querySelectorAll(".deal-card:not(.dragging)")];
    for (const card of cards) {
      const box = card.getBoundingClientRect();
      if (y < box.top + box.height / 2) return card;
    }
    return null;
  }

  function updateColumns(columns) {
    document.querySelectorAll("[data-column]").forEach((col) => {
      const figures = columns[col.getAttribute("data-column")] || { count: 0, total: "—" };
      col.querySelector("[data-count]").textContent = figures.count;
      col.querySelector("[data-total]").textContent = figures.total || "—";
    });
  }

  function syncMoveSelect(card, stageId) {
    const select = card.querySelector("select[name=stage]");
    if (select) select.value = stageId;
  }

  function init(board) {
    if (board.getAttribute("data-can-write") !== "1") return;
    let dragged = null;
    let origin = null;
    let dropped = false;

    board.addEventListener("dragstart", (event) => {
      const card = event.target.closest && event.target.closest(".deal-card");
      if (!card) return;
      dragged = card;
      dropped = false;
      origin = { list: card.parentElement, next: card.nextElementSibling };
      card.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    });

    board.addEventListener("dragover", (event) => {
      const list = event.target.closest && event.target.closest("[data-drop]");
      if (!dragged || !list) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      board.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
      list.classList.add("drop-target");
      const after = cardAfter(list, event.clientY);
      if (after !== dragged && dragged.nextElementSibling !== after) list.insertBefore(dragged, after);
    });

    board.addEventListener("drop", (event) => {
      const list = event.target.closest && event.target.closest("[data-drop]");
      if (!dragged || !list) return;
      event.preventDefault();
      dropped = true;
      const card = dragged;
      const stage = list.getAttribute("data-drop");
      const position = [...list.querySelectorAll(".deal-card")].indexOf(card);
      const body = new URLSearchParams({ stage: stage, position: String(position) });
      const back = origin;
      card.classList.add("saving");
      fetch(card.getAttribute("data-move-url"), {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: body,
        credentials: "same-origin",
      })
        .then((response) => response.json().then((data) => ({ ok: response.ok, data: data })))
        .then(({ ok, data }) => {
          if (!ok) throw new Error(data.message || "The deal could not be moved.");
          updateColumns(data.columns);
          syncMoveSelect(card, String(data.stage_id));
          card.setAttribute("data-stage", String(data.stage_id));
        })
        .catch((error) => {
          back.list.insertBefore(card, back.next);
          toast(error.message || "The deal could not be moved; try again.");
        })
        .finally(() => card.classList.remove("saving"));
    });

    board.addEventListener("dragend", () => {
      if (dragged) {
        dragged.classList.remove("dragging");
        // Dropped outside any column: put it back where it was.
        if (!dropped && origin) origin.list.insertBefore(dragged, origin.next);
      }
      board.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
      dragged = null;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-board]").forEach(init);
    // Pickers that submit on change; their button stays for no-JS use.
    document.querySelectorAll("[data-autosubmit]").forEach((select) => {
      const button = select.form && select.form.querySelector("[data-autosubmit-button]");
      if (button) button.hidden = true;
      select.addEventListener("change", () => select.form.submit());
    });
  });
})();
