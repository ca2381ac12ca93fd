// The Daiban emulator page: plain JavaScript, no build step, no network beyond this server.
"use strict";

const state = {
  personas: [],
  persona: null, // key
  chats: [],
  chat: null, // chat id
  ui: {},
  uiCache: {},
  entries: new Map(), // chat id -> [entry]
  unread: new Map(), // chat id -> count
  selected: null, // seq
  ws: null,
  retry: 500,
  loads: 0, // history loads started (the newest one renders)
  arrived: null, // entries pushed while a history loads
  tz: "Asia/Shanghai",
};

const $ = (id) => document.getElementById(id);

// -- small helpers ------------------------------------------------------------------------
function t(key, params) {
  let text = state.ui[key] || key;
  for (const [name, value] of Object.entries(params || {})) text = text.replace(`{${name}}`, value);
  return text;
}

function toast(message) {
  const box = $("toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

// This start's token, handed to the page in its HTML; every API call and the WebSocket carry it.
const TOKEN = document.querySelector('meta[name="daiban-emulator-token"]').content;

async function api(path, options) {
  const opts = { ...(options || {}) };
  opts.headers = { ...(opts.headers || {}), "X-Daiban-Emulator-Token": TOKEN };
  const response = await fetch(path, opts);
  const isJson = (response.headers.get("content-type") || "").includes("json");
  const body = isJson ? await response.json() : await response.text();
  if (!response.ok) throw new Error(isJson && body.error ? body.error : String(body));
  return body;
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// An instant shown in the scheme's time zone (the clock tells which), as "YYYY-MM-DD HH:MM".
function localTime(iso) {
  if (!iso) return "";
  try {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: state.tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    for (const p of format.formatToParts(new Date(iso))) parts[p.type] = p.value;
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
  } catch (err) {
    return iso.replace("T", " ").slice(0, 16);
  }
}

function current() {
  return state.personas.find((p) => p.key === state.persona) || null;
}

// Light markup (**bold**, line breaks) and highlighted @mentions.
function render(entry) {
  let html = escapeHtml(entry.text || "");
  html = html.replace(/\*\*(.+?)\*\*/g, "<b>$1</b>");
  const me = state.persona;
  for (const m of entry.mentions || []) {
    const name = escapeHtml(m.display_name || "");
    if (!name) continue;
    const cls = m.external_id && m.external_id === me ? "mention me" : "mention";
    const title = cls.includes("me") ? ` title="${escapeHtml(t("mentions_you"))}"` : "";
    const withAt = `@${name}`;
    const span = `<span class="${cls}"${title}>@${name}</span>`;
    html = html.includes(withAt) ? html.split(withAt).join(span) : html.split(name).join(span);
  }
  return html.replace(/\n/g, "<br>");
}

// -- language ------------------------------------------------------------------------------
async function applyLanguage(lang) {
  if (!state.uiCache[lang]) state.uiCache[lang] = await api(`/emulator/api/ui?lang=${encodeURIComponent(lang)}`);
  state.ui = state.uiCache[lang];
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  document.title = t("title");
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) el.placeholder = t(el.dataset.tPlaceholder);
}

// -- personas and chats --------------------------------------------------------------------
async function loadPersonas() {
  const lang = current() ? current().lang : "zh_CN";
  state.personas = await api(`/emulator/api/personas?lang=${encodeURIComponent(lang)}`);
  renderPersonas();
}

function renderPersonas() {
  const list = $("persona-list");
  list.innerHTML = "";
  for (const p of state.personas) {
    const li = document.createElement("li");
    li.className = "persona" + (p.key === state.persona ? " active" : "");
    li.dataset.key = p.key;
    li.dataset.role = p.role;
    const unread = state.unread.get(p.key) || 0;
    li.innerHTML =
      `<span class="name">${escapeHtml(p.name)}</span>` +
      `<span class="role">${escapeHtml(p.role_label)}</span>` +
      (p.department_label ? `<span class="dept">${escapeHtml(p.department_label)}</span>` : "") +
      (unread ? `<span class="badge">${unread}</span>` : "");
    li.addEventListener("click", () => selectPersona(p.key));
    list.appendChild(li);
  }
}

async function selectPersona(key) {
  state.persona = key;
  location.hash = key;
  const persona = current();
  await applyLanguage(persona ? persona.lang : "zh_CN");
  await loadPersonas();
  state.chats = await api(`/emulator/api/chats?persona=${encodeURIComponent(key)}`);
  renderChats();
  await selectChat(key);
}

// A group was made or bound: reload who sees which group; a group this persona no longer
// sees (bound to a project they are not on) closes and their DM opens.
async function reloadChats() {
  const key = state.persona;
  if (!key) return;
  const chats = await api(`/emulator/api/chats?persona=${encodeURIComponent(key)}`);
  if (key !== state.persona) return; // switched meanwhile; that switch loaded its own list
  state.chats = chats;
  if (chats.some((c) => c.id === state.chat)) {
    renderChats();
    const info = chats.find((c) => c.id === state.chat);
    if (info.kind === "group") $("chat-header").textContent = chatHeader(info);
  } else await selectChat(key);
}

function chatHeader(info) {
  if (!info || info.kind !== "group") return `${current().name} ⇄ ${t("bot")}`;
  return `${t("group")}: ${info.title}` + (info.project ? ` · ${t("bound_to", { code: info.project })}` : "");
}

function renderChats() {
  const list = $("chat-list");
  list.innerHTML = "";
  for (const c of state.chats) {
    const li = document.createElement("li");
    li.className = "chat" + (c.id === state.chat ? " active" : "");
    li.dataset.chat = c.id;
    li.dataset.kind = c.kind;
    const title = c.kind === "dm" ? t("dm_with_bot") : `${t("group")}: ${c.title}`;
    const unread = state.unread.get(c.id) || 0;
    let tag = "";
    if (c.kind === "group") {
      li.dataset.project = c.project || "";
      tag = c.project
        ? `<span class="tag project">${escapeHtml(t("bound_to", { code: c.project }))}</span>`
        : `<span class="tag unbound">${escapeHtml(t("unbound"))}</span>`;
    }
    li.innerHTML = `<span class="title">${escapeHtml(title)}</span>` + tag + (unread ? `<span class="badge">${unread}</span>` : "");
    li.addEventListener("click", () => selectChat(c.id));
    list.appendChild(li);
  }
  $("no-groups").hidden = state.chats.some((c) => c.kind === "group");
}

async function selectChat(chat) {
  state.chat = chat;
  state.unread.delete(chat);
  renderChats();
  renderPersonas();
  // Entries pushed while the history loads are merged in, not lost; a newer selection wins.
  const token = ++state.loads;
  state.arrived = [];
  const entries = await api(`/emulator/api/history?chat=${encodeURIComponent(chat)}`);
  if (token !== state.loads) return;
  const known = new Set(entries.map((e) => e.seq));
  for (const e of state.arrived) if (e.chat === chat && !known.has(e.seq)) entries.push(e);
  entries.sort((a, b) => a.seq - b.seq);
  state.arrived = null;
  state.entries.set(chat, entries);
  const info = state.chats.find((c) => c.id === chat);
  $("chat-header").textContent = chatHeader(info);
  renderMessages();
  refreshConversation();
}

// -- messages ------------------------------------------------------------------------------
function renderMessages() {
  const box = $("messages");
  box.innerHTML = "";
  for (const entry of state.entries.get(state.chat) || []) box.appendChild(messageNode(entry));
  box.scrollTop = box.scrollHeight;
}

function messageNode(entry) {
  const div = document.createElement("div");
  const mine = entry.sender === state.persona;
  div.className = `msg ${entry.sender === "bot" ? "bot" : mine ? "mine" : "other"}` + (entry.seq === state.selected ? " selected" : "");
  div.dataset.seq = entry.seq;
  const who = entry.sender === "bot" ? t("bot") : entry.name || entry.sender;
  const time = localTime(entry.at);
  let body;
  if (entry.kind === "press") body = `<span class="pressed">▶ ${escapeHtml(entry.text || entry.payload || "")}</span>`;
  else body = render(entry);
  if (entry.attachment) {
    const a = entry.attachment;
    const link = a.ref && a.ref.startsWith("uploads/") ? `/emulator/${a.ref}` : null;
    const name = escapeHtml(a.filename);
    body += `<div class="attachment">📎 ${link ? `<a href="${link}" target="_blank">${name}</a>` : name} <span class="muted">${a.size} B</span></div>`;
  }
  if ((entry.mentions || []).some((m) => m.external_id && m.external_id === state.persona)) div.classList.add("mentions-me");
  div.innerHTML = `<div class="meta">${escapeHtml(who)} · ${escapeHtml(time)}</div><div class="text">${body}</div>`;
  for (const row of entry.buttons || []) {
    const rowDiv = document.createElement("div");
    rowDiv.className = "btn-row";
    for (const b of row) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.className = "inline-btn";
      btn.textContent = b.label;
      btn.dataset.payload = b.payload;
      btn.addEventListener("click", (ev) => {
        ev.stopPropagation();
        send({ type: "press", payload: b.payload, label: b.label });
      });
      rowDiv.appendChild(btn);
    }
    div.appendChild(rowDiv);
  }
  div.addEventListener("click", () => inspect(entry.seq));
  return div;
}

function onEntry(entry) {
  if (state.arrived) state.arrived.push(entry);
  const list = state.entries.get(entry.chat);
  if (list) list.push(entry);
  if (entry.chat === state.chat) {
    const box = $("messages");
    box.appendChild(messageNode(entry));
    box.scrollTop = box.scrollHeight;
    clearTimeout(onEntry.timer);
    onEntry.timer = setTimeout(refreshConversation, 150);
  } else if (entry.sender === "bot") {
    state.unread.set(entry.chat, (state.unread.get(entry.chat) || 0) + 1);
    renderChats();
    renderPersonas();
  }
}

function send(message) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
    toast(t("disconnected"));
    return;
  }
  state.ws.send(JSON.stringify({ ...message, persona: state.persona, chat: state.chat }));
}

// -- inspector -----------------------------------------------------------------------------
async function inspect(seq) {
  state.selected = seq;
  for (const el of document.querySelectorAll(".msg.selected")) el.classList.remove("selected");
  const node = document.querySelector(`.msg[data-seq="${seq}"]`);
  if (node) node.classList.add("selected");
  try {
    const data = await api(`/emulator/api/inspect?seq=${seq}`);
    $("inspector-hint").hidden = true;
    $("inspector-event").textContent = data.event ? JSON.stringify(data.event, null, 2) : data.event_id ? data.event_id : t("no_event");
    const box = $("inspector-outbox");
    box.innerHTML = "";
    if (!data.outbox.length) box.textContent = "—";
    for (const row of data.outbox) {
      const table = document.createElement("table");
      table.className = "kv outbox-row";
      for (const [k, v] of Object.entries(row)) {
        const tr = document.createElement("tr");
        tr.innerHTML = `<th>${escapeHtml(k)}</th><td>${escapeHtml(v === null ? "—" : String(v))}</td>`;
        table.appendChild(tr);
      }
      box.appendChild(table);
    }
  } catch (err) {
    toast(t("error", { reason: err.message }));
  }
  refreshConversation();
}

async function refreshConversation() {
  if (!state.persona || !state.chat) return;
  try {
    const data = await api(`/emulator/api/conversation?persona=${encodeURIComponent(state.persona)}&chat=${encodeURIComponent(state.chat)}`);
    $("conversation-state").textContent = data.conversation ? JSON.stringify(data.conversation, null, 2) : t("no_conversation");
  } catch (err) {
    $("conversation-state").textContent = err.message;
  }
}

// -- clock ---------------------------------------------------------------------------------
function showClock(clock) {
  if (clock.timezone && clock.timezone !== state.tz) {
    state.tz = clock.timezone;
    if (state.chat) renderMessages();
  }
  $("clock-time").textContent = clock.local;
  $("clock-time").dataset.iso = clock.local_iso;
  const day = $("clock-day");
  day.textContent = clock.workday ? t("workday") : t("day_off");
  day.className = "tag " + (clock.workday ? "workday" : "dayoff");
  $("clock-busy").hidden = !clock.busy;
  for (const id of ["clock-hour", "clock-workday", "clock-to-go"]) $(id).disabled = !!clock.busy;
  // The "to date" field never offers a time the clock has already passed.
  const input = $("clock-to-input");
  if (!input.value || input.value < clock.local_iso.slice(0, 16)) input.value = clock.local_iso.slice(0, 16);
}

async function moveClock(action, to) {
  try {
    showClock(await post("/emulator/api/clock", { action, to }));
  } catch (err) {
    toast(t("error", { reason: err.message }));
  }
}

async function pollClock() {
  try { showClock(await api("/emulator/api/clock")); } catch (err) { /* the banner says it */ }
}

// -- socket --------------------------------------------------------------------------------
function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/emulator/ws?token=${encodeURIComponent(TOKEN)}`);
  state.ws = ws;
  ws.addEventListener("open", () => {
    $("banner").hidden = true;
    state.retry = 500;
    if (state.chat) selectChat(state.chat);
  });
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.type === "entry") onEntry(msg.entry);
    else if (msg.type === "clock") showClock(msg.clock);
    else if (msg.type === "persona") onPersona(msg);
    else if (msg.type === "reset") onReset();
    else if (msg.type === "chats") reloadChats().catch((err) => toast(t("error", { reason: err.message })));
    else if (msg.type === "error") toast(t("error", { reason: msg.message }));
  });
  ws.addEventListener("close", () => {
    $("banner").hidden = false;
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 5000);
  });
}

async function onPersona(msg) {
  const p = state.personas.find((x) => x.key === msg.key);
  if (p) { p.lang = msg.lang; p.name = msg.name; }
  if (msg.key === state.persona) {
    await applyLanguage(msg.lang);
    await loadPersonas();
    renderChats();
  } else renderPersonas();
}

async function onReset() {
  state.entries.clear();
  state.unread.clear();
  state.selected = null;
  $("inspector-event").textContent = "—";
  $("inspector-outbox").textContent = "—";
  await selectPersona(state.persona);
}

async function exportStory(chat) {
  try {
    const text = await api(`/emulator/api/export${chat ? `?chat=${encodeURIComponent(chat)}` : ""}`);
    const blob = new Blob([text], { type: "application/x-yaml" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `emulator_export_${(chat || "session").replace(/[^\w-]/g, "_")}.yaml`;
    document.body.appendChild(a);
    a.click();
    a.remove();
  } catch (err) {
    toast(t("error", { reason: err.message }));
  }
}

// -- wiring --------------------------------------------------------------------------------
function wire() {
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("composer-input");
    const text = input.value;
    if (!text.trim()) return;
    send({ type: "say", text });
    input.value = "";
  });
  $("file-input").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("persona", state.persona);
    form.append("chat", state.chat);
    form.append("file", file, file.name);
    try { await api("/emulator/api/upload", { method: "POST", body: form }); } catch (err) { toast(t("error", { reason: err.message })); }
    ev.target.value = "";
  });
  $("clock-hour").addEventListener("click", () => moveClock("hour"));
  $("clock-workday").addEventListener("click", () => moveClock("workday"));
  $("clock-to-go").addEventListener("click", () => moveClock("to", $("clock-to-input").value));
  $("restart").addEventListener("click", async () => {
    try { await post("/emulator/api/restart", { persona: state.persona, chat: state.chat }); } catch (err) { toast(t("error", { reason: err.message })); }
    refreshConversation();
  });
  $("reset").addEventListener("click", async () => {
    if (!window.confirm(t("reset_confirm"))) return;
    try { await post("/emulator/api/reset"); } catch (err) { toast(t("error", { reason: err.message })); }
  });
  $("new-group").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("new-group-title");
    const title = input.value.trim() || t("new_group_title");
    try {
      const made = await post("/emulator/api/groups", { title });
      input.value = "";
      await reloadChats();
      await selectChat(made.id);
    } catch (err) {
      toast(t("error", { reason: err.message }));
    }
  });
  $("export").addEventListener("click", () => exportStory(state.chat));
  $("export-all").addEventListener("click", () => exportStory(null));
}

async function main() {
  wire();
  await applyLanguage("zh_CN");
  await loadPersonas();
  const wanted = decodeURIComponent(location.hash.slice(1));
  const first = state.personas.find((p) => p.key === wanted) || state.personas[0];
  connect();
  if (first) await selectPersona(first.key);
  setInterval(pollClock, 15000);
  document.body.dataset.ready = "1";
}

main().catch((err) => toast(String(err)));
