// Contact notes: @mention autocompletion in any textarea[data-mentions], and
// Ctrl/Cmd+Enter to save. Panels are swapped in by htmx, so this file may be
// loaded more than once: it installs itself once and listens on document.
(() => {
  if (window.parleyNotes) return;
  window.parleyNotes = true;

  const MAX_SHOWN = 8;
  const sources = new Map(); // url -> Promise<[{handle, name}]>
  // The "@..." being typed just before the caret; "@" must not be glued to a
  // word (bob@example.com is an address, not a mention).
  const TYPING = /(^|[^\w@.+-])@([\w.+-]*)$/;

  function members(url) {
    if (!sources.has(url)) {
      sources.set(url, fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : { members: [] }))
        .then((data) => data.members || [])
        .catch(() => { sources.delete(url); return []; }));
    }
    return sources.get(url);
  }

  let state = null; // {textarea, menu, items, active, start}

  function menuFor(textarea) {
    let menu = textarea.parentElement.querySelector(".mention-menu");
    if (!menu) {
      menu = document.createElement("ul");
      menu.className = "mention-menu";
      menu.id = `${textarea.id || "note"}-mentions`;
      menu.setAttribute("role", "listbox");
      menu.setAttribute("aria-label", "Members to mention");
      menu.hidden = true;
      textarea.parentElement.appendChild(menu);
      textarea.setAttribute("aria-autocomplete", "list");
      textarea.setAttribute("aria-controls", menu.id);
      textarea.setAttribute("aria-expanded", "false");
      // Clicking an option must not blur the textarea first.
      menu.addEventListener("mousedown", (event) => {
        const li = event.target.closest("[role=option]");
        if (!li) return;
        event.preventDefault();
        if (state && state.menu === menu) pick(Number(li.dataset.index));
      });
    }
    return menu;
  }

  function close() {
    if (!state) return;
    state.menu.hidden = true;
    state.menu.replaceChildren();
    state.textarea.setAttribute("aria-expanded", "false");
    state.textarea.removeAttribute("aria-activedescendant");
    state = null;
  }

  function highlight(index) {
    if (!state) return;
    state.active = (index + state.items.length) % state.items.length;
    state.menu.querySelectorAll("[role=option]").forEach((li, i) => {
      const on = i === state.active;
      li.setAttribute("aria-selected", on ? "true" : "false");
      if (on) {
        state.textarea.setAttribute("aria-activedescendant", li.id);
        li.scrollIntoView({ block: "nearest" });
      }
    });
  }

  function pick(index) {
    if (!state) return;
    const member = state.items[index];
    const { textarea, start } = state;
    const caret = textarea.selectionStart;
    const before = textarea.value.slice(0, start);
    const after = textarea.value.slice(caret);
    const insert = `@${member.handle} `;
    textarea.value = before + insert + after.replace(/^\s+/, "");
    const at = before.length + insert.length;
    textarea.setSelectionRange(at, at);
    close();
    textarea.focus();
  }

  function show(textarea, query, start, list) {
    const q = query.toLowerCase();
    const items = list
      .filter((m) => m.handle.startsWith(q) || m.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)) || m.name.toLowerCase().startsWith(q))
      .slice(0, MAX_SHOWN);
    const menu = menuFor(textarea);
    if (!items.length) { if (state) close(); return; }
    state = { textarea, menu, items, active: 0, start };
    menu.replaceChildren(...items.map((m, i) => {
      const li = document.createElement("li");
      li.id = `${menu.id}-${i}`;
      li.setAttribute("role", "option");
      li.dataset.index = String(i);
      const name = document.createElement("span");
      name.className = "mention-name";
      name.textContent = m.name;
      const handle = document.createElement("span");
      handle.className = "mention-handle";
      handle.textContent = `@${m.handle}`;
      li.append(name, handle);
      return li;
    }));
    menu.hidden = false;
    textarea.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  async function update(textarea) {
    const caret = textarea.selectionStart;
    if (caret !== textarea.selectionEnd) { close(); return; }
    const match = TYPING.exec(textarea.value.slice(0, caret));
    if (!match) { close(); return; }
    const query = match[2];
    const start = caret - query.length - 1;
    const list = await members(textarea.dataset.mentions);
    // The person may have typed on while the list loaded: check again.
    const now = TYPING.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!now || now[2] !== query) return;
    show(textarea, query, start, list);
  }

  document.addEventListener("input", (event) => {
    const el = event.target;
    if (el instanceof HTMLTextAreaElement && el.dataset.mentions) update(el);
  });

  document.addEventListener("keydown", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLTextAreaElement) || !el.dataset.mentions) return;
    if (state && state.textarea === el && !state.menu.hidden) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        highlight(state.active + (event.key === "ArrowDown" ? 1 : -1));
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        pick(state.active);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        close();
        return;
      }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && el.form) {
      event.preventDefault();
      if (el.value.trim()) el.form.requestSubmit();
    }
  });

  // Leaving the field or moving the caret elsewhere closes the list.
  document.addEventListener("focusout", (event) => {
    if (state && event.target === state.textarea) close();
  });
  document.addEventListener("click", (event) => {
    const el = event.target;
    if (el instanceof HTMLTextAreaElement && el.dataset.mentions) update(el);
  });

  // An edit form swapped in by htmx takes the focus, caret at the end.
  document.addEventListener("htmx:afterSettle", () => {
    const field = document.querySelector("textarea[data-autofocus]:not([data-focused])");
    if (!field) return;
    field.dataset.focused = "1";
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  });
})();
