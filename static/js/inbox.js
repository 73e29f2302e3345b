// The inbox: live refresh of the open thread, keyboard shortcuts, quick replies.
(() => {
  // Server-sent "conversation" events name a conversation id: refresh the
  // open thread when it is the one that changed (the list refreshes itself).
  document.body.addEventListener("htmx:sseMessage", (event) => {
    const message = event.detail;
    if (!message || message.type !== "conversation") return;
    let data;
    try { data = JSON.parse(message.data); } catch { return; }
    const thread = document.getElementById("thread");
    if (thread && thread.dataset.conversation === String(data.id)) {
      htmx.trigger(thread, "refresh");
    }
  });

  // Keep the newest message in view after every swap.
  const scrollDown = () => {
    const body = document.querySelector(".thread-body");
    if (body) body.scrollTop = body.scrollHeight;
  };
  document.addEventListener("DOMContentLoaded", scrollDown);
  document.body.addEventListener("htmx:afterSwap", (e) => { if (e.target.id === "thread") scrollDown(); });

  // Enter sends, Shift+Enter breaks the line; "/shortcut" expands a quick reply.
  document.addEventListener("keydown", (event) => {
    const el = event.target;
    if (el instanceof HTMLTextAreaElement && el.form?.hasAttribute("data-composer")) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        if (el.value.trim()) el.form.requestSubmit();
      } else if (event.key === "Tab" && el.value.startsWith("/")) {
        const replies = JSON.parse(el.dataset.quickReplies || "[]");
        const wanted = el.value.slice(1).toLowerCase();
        const hit = replies.find((r) => r.s.startsWith(wanted));
        if (hit) { event.preventDefault(); el.value = "/" + hit.s; }
      }
      return;
    }
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return;
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    const items = [...document.querySelectorAll("a[data-conversation]")];
    const current = items.findIndex((a) => a.classList.contains("selected"));
    if (event.key === "j" || event.key === "k") {
      const next = items[Math.max(0, Math.min(items.length - 1, current + (event.key === "j" ? 1 : -1)))];
      if (next) window.location.href = next.href;
    } else if (event.key === "r") {
      const box = document.getElementById("compose");
      if (box) { event.preventDefault(); box.focus(); }
    } else if (event.key === "/") {
      const search = document.querySelector(".inbox-filters input[type=search]");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "e") {
      document.querySelector("[data-key=e]")?.click();
    }
  });

  // Show matching quick replies under the composer while typing "/…".
  document.addEventListener("input", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLTextAreaElement) || !el.form?.hasAttribute("data-composer")) return;
    let box = el.form.querySelector(".qr-suggest");
    if (!el.value.startsWith("/") || el.value.includes(" ")) { box?.remove(); return; }
    const replies = JSON.parse(el.dataset.quickReplies || "[]");
    const wanted = el.value.slice(1).toLowerCase();
    const hits = replies.filter((r) => r.s.startsWith(wanted)).slice(0, 6);
    if (!box) { box = document.createElement("ul"); box.className = "qr-suggest"; el.form.prepend(box); }
    box.replaceChildren(...hits.map((r) => {
      const li = document.createElement("li");
      li.textContent = "/" + r.s + " — " + r.b.slice(0, 60);
      li.addEventListener("mousedown", (e) => { e.preventDefault(); el.value = "/" + r.s; box.remove(); el.focus(); });
      return li;
    }));
    if (!hits.length) box.remove();
  });
})();

// Someone @mentioned me in a note: say so (the stream sends mentions only to
// the person mentioned).
document.body.addEventListener("htmx:sseMessage", (event) => {
  if (!event.detail || event.detail.type !== "mention") return;
  const toast = document.querySelector("[data-toast]");
  if (!toast) return;
  toast.textContent = "You were mentioned in a note.";
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 6000);
});

// "Reply" on a bubble quotes it in the next message.
document.addEventListener("click", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLElement)) return;
  const form = document.querySelector("form[data-composer]");
  if (!form) return;
  const banner = form.querySelector("[data-replying]");
  const field = form.querySelector("[data-reply-to]");
  if (el.matches("[data-reply]")) {
    field.value = el.dataset.reply;
    form.querySelector("[data-replying-text]").textContent = "“" + el.dataset.replyText + "”";
    banner.hidden = false;
    document.getElementById("compose")?.focus();
  } else if (el.matches("[data-cancel-reply]")) {
    field.value = "";
    banner.hidden = true;
  }
});
document.body.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.hasAttribute("data-composer") && event.detail.successful) {
    form.querySelector("[data-replying]").hidden = true;
    form.querySelector("[data-reply-to]").value = "";
  }
});
