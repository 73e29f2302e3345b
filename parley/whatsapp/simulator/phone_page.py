"""The demo page at `/`: play a customer's phone against a registered number.

Plain HTML and vanilla JS with no external assets, so it works on a machine without network.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WhatsApp simulator</title>
<style>
  :root { --green: #008069; --teal: #25d366; --bg: #efeae2; --out: #d9fdd3; --tick: #53bdeb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         background: #d1d7db; color: #111b21; display: flex; justify-content: center;
         min-height: 100vh; }
  .app { display: flex; gap: 24px; padding: 24px; width: 100%; max-width: 1040px; }
  .side { flex: 1; background: #fff; border-radius: 12px; padding: 16px; min-width: 260px;
          box-shadow: 0 1px 3px rgba(0,0,0,.15); align-self: flex-start; }
  .side h1 { font-size: 18px; margin: 0 0 12px; color: var(--green); }
  label { display: block; font-size: 12px; color: #54656f; margin: 10px 0 4px; }
  select, input { width: 100%; padding: 8px 10px; border: 1px solid #d1d7db; border-radius: 8px;
                  font: inherit; background: #fff; }
  .row { display: flex; gap: 8px; }
  .row > * { flex: 1; }
  button { border: 0; border-radius: 8px; padding: 8px 12px; font: inherit; cursor: pointer;
           background: var(--green); color: #fff; }
  button.ghost { background: #f0f2f5; color: #111b21; }
  button:disabled { opacity: .5; cursor: default; }
  .customers { list-style: none; margin: 12px 0 0; padding: 0; }
  .customers li { padding: 8px 10px; border-radius: 8px; cursor: pointer; display: flex;
                  justify-content: space-between; gap: 8px; }
  .customers li:hover { background: #f5f6f6; }
  .customers li.active { background: #e7f8ef; }
  .customers small { color: #667781; }
  .dot { width: 8px; height: 8px; border-radius: 50%; display: inline-block;
         background: #c4c9cc; margin-top: 6px; }
  .dot.open { background: var(--teal); }
  .phone { width: 380px; height: 720px; background: #111; border-radius: 40px; padding: 12px;
           box-shadow: 0 10px 30px rgba(0,0,0,.3); flex: none; }
  .screen { height: 100%; border-radius: 30px; overflow: hidden; display: flex;
            flex-direction: column; background: var(--bg); }
  .bar { background: var(--green); color: #fff; padding: 18px 16px 12px; }
  .bar b { display: block; font-size: 16px; }
  .bar small { opacity: .85; }
  .chat { flex: 1; overflow-y: auto; padding: 12px 10px; display: flex;
          flex-direction: column; gap: 6px; }
  .empty { margin: auto; color: #667781; text-align: center; padding: 24px; }
  .msg { max-width: 80%; padding: 6px 8px 4px; border-radius: 8px; position: relative;
         box-shadow: 0 1px .5px rgba(11,20,26,.13); white-space: pre-wrap;
         word-wrap: break-word; }
  .msg.biz { align-self: flex-start; background: #fff; border-top-left-radius: 0; }
  .msg.me { align-self: flex-end; background: var(--out); border-top-right-radius: 0; }
  .msg img { display: block; width: 220px; max-width: 100%; border-radius: 6px;
             margin-bottom: 4px; image-rendering: pixelated; }
  .meta { font-size: 11px; color: #667781; text-align: right; margin-top: 2px; }
  .tick { margin-left: 4px; letter-spacing: -3px; }
  .tick.read { color: var(--tick); }
  .tick.failed { color: #ea0038; letter-spacing: 0; }
  .err { color: #ea0038; font-size: 12px; }
  .label { font-size: 11px; color: var(--green); font-weight: 600; }
  .choices { display: flex; flex-direction: column; gap: 4px; margin-top: 6px; }
  .choices button { background: #fff; color: #027eb5; border: 1px solid #e9edef; }
  .compose { display: flex; gap: 6px; padding: 8px; background: #f0f2f5; align-items: center; }
  .compose input { border-radius: 20px; border: 0; }
  .compose button { border-radius: 50%; width: 38px; height: 38px; padding: 0; flex: none; }
  .compose button.ghost { background: transparent; display: grid; place-items: center; }
  .note { font-size: 12px; color: #667781; margin-top: 12px; }
</style>
</head>
<body>
<div class="app">
  <section class="side">
    <h1>WhatsApp simulator</h1>
    <label for="number">Business number</label>
    <select id="number"></select>
    <label>Customer</label>
    <div class="row">
      <input id="wa" placeholder="wa_id, e.g. 15551234567" inputmode="numeric">
      <input id="name" placeholder="Name">
    </div>
    <ul class="customers" id="customers"></ul>
    <p class="note">Messages you type reach the business as signed Meta webhooks.
      The phone shows what the business sent back, with its ticks.</p>
  </section>
  <section class="phone"><div class="screen">
    <div class="bar"><b id="title">No customer selected</b><small id="subtitle"></small></div>
    <div class="chat" id="chat"><div class="empty">Pick a number and a customer.</div></div>
    <form class="compose" id="compose">
      <button type="button" class="ghost" id="send-image" title="Send a photo">
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="#54656f"
          d="M9 3 7.2 5H4a2 2 0 0 0-2 2v11a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-3.2L15
             3H9zm3 5a5 5 0 1 1 0 10 5 5 0 0 1 0-10zm0 2a3 3 0 1 0 0 6 3 3 0 0 0 0-6z"/></svg>
      </button>
      <button type="button" class="ghost" id="send-location" title="Send a location">
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="#54656f"
          d="M12 2a7 7 0 0 0-7 7c0 5 7 13 7 13s7-8 7-13a7 7 0 0 0-7-7zm0 4a3 3 0 1 1 0 6 3 3 0 0 1
             0-6z"/></svg>
      </button>
      <input id="text" placeholder="Message" autocomplete="off">
      <button type="submit" title="Send">&#10148;</button>
    </form>
  </div></section>
</div>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const state = { pnid: "", wa: "", lastSeq: 0, rendered: "" };

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

async function loadNumbers() {
  const { numbers } = await api("GET", "/_sim/numbers");
  const select = $("number");
  const previous = select.value;
  select.replaceChildren();
  for (const n of numbers) {
    const label = n.verified_name + " (" + n.display_phone_number + ")";
    const option = el("option", "", label);
    option.value = n.phone_number_id;
    select.append(option);
  }
  if (!numbers.length) select.append(el("option", "", "No numbers registered yet"));
  if (previous && numbers.some((n) => n.phone_number_id === previous)) select.value = previous;
  state.pnid = numbers.length ? select.value : "";
}

async function loadCustomers() {
  if (!state.pnid) return;
  const { customers } = await api("GET", "/_sim/customers?phone_number_id=" + state.pnid);
  const list = $("customers");
  list.replaceChildren();
  for (const c of customers) {
    const item = el("li", c.wa_id === state.wa ? "active" : "");
    const who = el("div");
    who.append(el("div", "", c.name || c.wa_id), el("small", "", c.wa_id));
    const dot = el("span", "dot" + (c.window_open ? " open" : ""));
    dot.title = c.window_open ? "24-hour window open" : "window closed";
    item.append(who, dot);
    item.onclick = () => {
      $("wa").value = c.wa_id;
      $("name").value = c.name;
      selectCustomer();
    };
    list.append(item);
  }
}

function selectCustomer() {
  state.wa = $("wa").value.replace(/\\D/g, "");
  state.rendered = "";
  $("title").textContent = $("name").value || state.wa || "No customer selected";
  $("subtitle").textContent = state.wa ? "+" + state.wa : "";
  refresh();
}

function tick(status) {
  const marks = { accepted: "\\u23F1", sent: "\\u2713", delivered: "\\u2713\\u2713",
                  read: "\\u2713\\u2713", failed: "\\u26A0" };
  const cls = "tick" + (status === "read" ? " read" : status === "failed" ? " failed" : "");
  const span = el("span", cls, marks[status] || "");
  span.title = status;
  return span;
}

function mediaId(m) {
  return m.content && typeof m.content === "object" && m.content.id ? m.content.id : null;
}

function bubble(m) {
  const mine = m.direction === "inbound";
  const node = el("div", "msg " + (mine ? "me" : "biz"));
  if (m.template) node.append(el("div", "label", "Template \\u00b7 " + m.template.name));
  let label = m.text || "[" + m.type + "]";
  const id = mediaId(m);
  if (id && (m.type === "image" || m.type === "sticker")) {
    const img = el("img");
    img.src = "/_sim/media/" + encodeURIComponent(id);
    img.alt = m.type;
    node.append(img);
    label = m.content.caption || "";
  }
  if (label) node.append(el("div", "", label));
  if (m.status === "failed" && m.errors) {
    for (const e of m.errors) {
      node.append(el("div", "err", "Not delivered: " + e.code + " " + e.title));
    }
  }
  if (!mine && m.choices && m.choices.length) {
    const box = el("div", "choices");
    for (const choice of m.choices) {
      const b = el("button", "", choice.title);
      b.type = "button";
      b.onclick = () => reply(m, choice);
      box.append(b);
    }
    node.append(box);
  }
  const meta = el("div", "meta", new Date(m.timestamp * 1000).toLocaleTimeString());
  if (!mine) meta.append(tick(m.status));
  node.append(meta);
  return node;
}

async function refresh() {
  if (!state.pnid || !state.wa) return;
  const q = "phone_number_id=" + state.pnid + "&to=" + state.wa + "&direction=all&limit=300";
  const { messages } = await api("GET", "/_sim/messages?" + q);
  const signature = JSON.stringify(messages.map((m) => [m.seq, m.status]));
  if (signature === state.rendered) return;
  state.rendered = signature;
  const chat = $("chat");
  const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
  chat.replaceChildren();
  if (!messages.length) chat.append(el("div", "empty", "No messages yet. Say hello!"));
  for (const m of messages) chat.append(bubble(m));
  if (atBottom || messages.length) chat.scrollTop = chat.scrollHeight;
}

async function sendAsCustomer(content) {
  selectCustomer();
  if (!state.pnid || !state.wa) { alert("Pick a number and type the customer's wa_id."); return; }
  const body = Object.assign({ phone_number_id: state.pnid, from: state.wa,
                               name: $("name").value }, content);
  try {
    await api("POST", "/_sim/inbound", body);
  } catch (err) {
    alert(err.message);
  }
  await Promise.all([refresh(), loadCustomers()]);
}

function reply(message, choice) {
  const context = { id: message.id };
  if (choice.kind === "button") {
    return sendAsCustomer({ type: "button", context,
                            button: { payload: choice.id, text: choice.title } });
  }
  const interactive = { type: choice.kind };
  interactive[choice.kind] = { id: choice.id, title: choice.title };
  return sendAsCustomer({ type: "interactive", context, interactive });
}

$("compose").onsubmit = (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  sendAsCustomer({ type: "text", text: { body: text } });
};
$("send-image").onclick = () => sendAsCustomer({ type: "image", image: { caption: "A photo" } });
$("send-location").onclick = () => sendAsCustomer({ type: "location", location: {
  latitude: 52.3731, longitude: 4.8926, name: "Dam Square", address: "Amsterdam" } });
$("number").onchange = () => { state.pnid = $("number").value; loadCustomers(); selectCustomer(); };
$("wa").onchange = selectCustomer;
$("name").onchange = selectCustomer;

async function tickLoop() {
  try {
    await loadCustomers();
    await refresh();
  } catch (err) {
    console.warn(err);
  }
  setTimeout(tickLoop, 1000);
}

loadNumbers().then(tickLoop).catch((err) => console.warn(err));
setInterval(() => loadNumbers().catch(() => {}), 10000);
</script>
</body>
</html>
"""


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


def routes() -> list[Route]:
    return [Route("/", page, methods=["GET"])]
