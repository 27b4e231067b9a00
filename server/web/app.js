// socq web page: the incident queue, incident pages with tasks and history,
// the create form, KQL with charts, and SOC metrics. Everything goes
// through socq's API with the bearer token kept in this tab's session
// storage. No framework: DOM built with h(); text always as textContent.
"use strict";

const SEVERITIES = ["High", "Medium", "Low", "Informational"];
const STATUSES = ["New", "Active", "Closed"];
// The portal's five close choices.
const CLOSE_CHOICES = [
  ["TruePositive", "SuspiciousActivity", "True positive – suspicious activity"],
  ["BenignPositive", "SuspiciousButExpected", "Benign positive – suspicious but expected"],
  ["FalsePositive", "IncorrectAlertLogic", "False positive – incorrect alert logic"],
  ["FalsePositive", "InaccurateData", "False positive – inaccurate data"],
  ["Undetermined", "", "Undetermined"],
];
const MAX_DESCRIPTION = 5000;

// ---- DOM helpers ----------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function fmtTime(s) {
  if (!s) return "";
  const d = new Date(s);
  if (isNaN(d)) return s;
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

// uuid makes a GUID for a new incident or task (crypto.randomUUID needs a
// secure context; a plain-HTTP deployment behind a token file has none).
function uuid() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function toast(msg, bad) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.className = "show" + (bad ? " bad" : "");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.className = ""), bad ? 6000 : 2500);
}

// onSubmit runs an async submit handler once at a time: a second submit
// (Enter and a click, or a double click) while the first is in flight is
// ignored. A handler returns true when its form is spent (the incident it
// created exists and the page moves on): the form then stays disabled, so
// a submit arriving just after the first one cannot create a second incident.
function onSubmit(form, fn) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((b) => (b.disabled = true));
    let spent = false;
    try { spent = (await fn()) === true; } finally {
      if (!spent) {
        delete form.dataset.busy;
        buttons.forEach((b) => (b.disabled = document.body.dataset.access !== "write"));
      }
    }
  });
}

// ---- API --------------------------------------------------------------------

const store = {
  get token() { return sessionStorage.getItem("socq.token") || ""; },
  set token(v) { v ? sessionStorage.setItem("socq.token", v) : sessionStorage.removeItem("socq.token"); },
  get actor() { return localStorage.getItem("socq.actor") || ""; },
  set actor(v) { localStorage.setItem("socq.actor", v); },
};

class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || "HTTP " + status);
    this.status = status;
    this.code = e.code;
    this.target = e.target;
    this.inner = e.innererror;
  }
}

async function api(method, path, body, accept) {
  const headers = { Authorization: "Bearer " + store.token };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (accept) headers.Accept = accept;
  if (store.actor) headers["X-Socq-User"] = store.actor;
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (resp.status === 401) {
    askToken("That token was not accepted.");
    throw new APIError(401, await resp.json().catch(() => null));
  }
  if (accept && accept !== "application/json" && resp.ok) return resp.blob();
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

async function listAll(path) {
  let out = [];
  let next = path;
  while (next) {
    const page = await api("GET", next);
    out = out.concat(page.value);
    next = page.nextLink || "";
  }
  return out;
}

// ---- sign in ----------------------------------------------------------------

function askToken(msg) {
  const d = document.getElementById("token-dialog");
  document.getElementById("token-error").textContent = msg || "";
  if (!d.open) d.showModal();
}

async function whoami() {
  const me = await api("GET", "/whoami");
  document.getElementById("access").textContent = me.access === "write" ? "read-write" : "read-only";
  document.getElementById("actor-label").hidden = me.tokenNamesActor;
  // Unset, changes are recorded under the server's default name.
  if (!store.actor) document.getElementById("actor").placeholder = me.name;
  document.body.dataset.access = me.access;
  return me;
}

function setupChrome() {
  const m = location.hash.match(/^#token=([^&]+)/);
  if (m) {
    store.token = decodeURIComponent(m[1]);
    history.replaceState(null, "", location.pathname + "#/");
  }
  document.getElementById("token-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    store.token = document.getElementById("token-input").value.trim();
    try {
      await whoami();
      document.getElementById("token-dialog").close();
      route();
    } catch (e) {
      document.getElementById("token-error").textContent = e.message;
    }
  });
  document.getElementById("signout").addEventListener("click", () => { store.token = ""; askToken(); });
  const actor = document.getElementById("actor");
  actor.value = store.actor;
  actor.addEventListener("change", () => { store.actor = actor.value.trim(); });
  window.addEventListener("hashchange", route);
}

// ---- router -------------------------------------------------------------------

const view = () => document.getElementById("view");

// paint shows the page that build returns (a list of nodes). Pages load
// their data before they build, so paints can finish out of order (a
// reload after a change, then a click on the menu): a paint that a newer
// one has overtaken is dropped, so a slow response never covers the page
// the user has moved on to, nor a newer state of the same page.
let latestPaint = 0;
async function paint(name, build) {
  const ticket = ++latestPaint;
  let nodes;
  try { nodes = await build(); } catch (e) {
    nodes = [h("h1", {}, "Something went wrong"), h("p", { class: "error" }, e.message)];
  }
  if (ticket !== latestPaint) return;
  view().replaceChildren(...nodes);
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === name));
  view().dataset.page = name;
}

function route() {
  if (!store.token) { askToken(); return; }
  const hash = location.hash || "#/";
  const m = hash.match(/^#\/incident\/(\d+)/);
  if (m) return paint("incident", () => incidentPage(Number(m[1])));
  if (hash.startsWith("#/new")) return paint("new", createPage);
  if (hash.startsWith("#/kql")) return paint("kql", kqlPage);
  if (hash.startsWith("#/dashboard")) return paint("dashboard", dashboardPage);
  return paint("queue", queuePage);
}

// ---- queue ------------------------------------------------------------------------

const queueState = { statuses: ["New", "Active"], severity: "", owner: "", tag: "", search: "", sort: "number", desc: true };

function ownerName(o) { return (o && (o.assignedTo || o.userPrincipalName || o.email)) || ""; }

// The queue asks the server for the statuses shown only (closed incidents
// are most of a long history), and filters the rest in the page.
async function queuePage() {
  const statuses = STATUSES.filter((x) => queueState.statuses.includes(x));
  const all = statuses.length === 0 ? [] : await listAll("/incidents?$top=1000" + (statuses.length === STATUSES.length ? "" :
    "&$filter=" + encodeURIComponent("(" + statuses.map((x) => `properties/status eq '${x}'`).join(" or ") + ")")));
  const owners = [...new Set(all.map((i) => ownerName(i.properties.owner)).filter(Boolean))].sort();
  const tags = [...new Set(all.flatMap((i) => i.properties.labels.map((l) => l.labelName)))].sort();
  const tbody = h("tbody");
  const count = h("span", { class: "muted" });
  const render = () => {
    const q = queueState.search.toLowerCase();
    let rows = all.filter((i) => {
      const p = i.properties;
      return queueState.statuses.includes(p.status) &&
        (!queueState.severity || p.severity === queueState.severity) &&
        (!queueState.owner || ownerName(p.owner) === queueState.owner) &&
        (!queueState.tag || p.labels.some((l) => l.labelName === queueState.tag)) &&
        (!q || p.title.toLowerCase().includes(q) || String(p.incidentNumber) === q || (p.description || "").toLowerCase().includes(q) ||
          p.labels.some((l) => l.labelName.toLowerCase().includes(q)) || ownerName(p.owner).toLowerCase().includes(q));
    });
    const key = {
      number: (p) => p.incidentNumber, title: (p) => p.title.toLowerCase(), severity: (p) => SEVERITIES.length - SEVERITIES.indexOf(p.severity),
      status: (p) => STATUSES.indexOf(p.status), owner: (p) => ownerName(p.owner).toLowerCase(), created: (p) => p.createdTimeUtc || "",
      modified: (p) => p.lastModifiedTimeUtc || "", tasks: (p) => p.socqOpenTasksCount,
    }[queueState.sort];
    rows.sort((a, b) => {
      const x = key(a.properties), y = key(b.properties);
      const c = x < y ? -1 : x > y ? 1 : b.properties.incidentNumber - a.properties.incidentNumber;
      return queueState.desc ? -c : c;
    });
    tbody.replaceChildren(...rows.map((i) => {
      const p = i.properties;
      return h("tr", { dataset: { number: p.incidentNumber } },
        h("td", {}, p.incidentNumber),
        h("td", {}, h("a", { href: "#/incident/" + p.incidentNumber }, p.title)),
        h("td", { class: "sev sev-" + p.severity }, p.severity),
        h("td", {}, p.status),
        h("td", {}, ownerName(p.owner) || h("span", { class: "muted" }, "unassigned")),
        h("td", {}, p.labels.map((l) => h("span", { class: "tag" + (l.labelType === "AutoAssigned" ? " auto" : "") }, l.labelName))),
        h("td", {}, p.socqTasksCount ? `${p.socqTasksCount - p.socqOpenTasksCount}/${p.socqTasksCount}` : ""),
        h("td", {}, fmtTime(p.createdTimeUtc)),
        h("td", {}, fmtTime(p.lastModifiedTimeUtc)));
    }));
    count.textContent = `${rows.length} of ${all.length} incidents`;
  };
  const sel = (label, key, options) => h("label", {}, label, h("select", {
    onchange: (e) => { queueState[key] = e.target.value; render(); },
  }, h("option", { value: "" }, "any"), options.map((o) => h("option", { value: o, selected: queueState[key] === o }, o))));
  const statusBoxes = h("fieldset", {}, STATUSES.map((s) => h("label", {}, h("input", {
    type: "checkbox", name: "status", value: s, checked: queueState.statuses.includes(s),
    onchange: (e) => {
      queueState.statuses = e.target.checked ? [...queueState.statuses, s] : queueState.statuses.filter((x) => x !== s);
      paint("queue", queuePage);
    },
  }), s)));
  const head = [["number", "#"], ["title", "Title"], ["severity", "Severity"], ["status", "Status"], ["owner", "Owner"], [null, "Tags"],
    ["tasks", "Tasks done"], ["created", "Created (UTC)"], ["modified", "Last change"]];
  const thead = h("thead", {}, h("tr", {}, head.map(([k, label]) => h("th", k ? {
    class: "sortable", title: "sort", onclick: () => {
      if (queueState.sort === k) queueState.desc = !queueState.desc;
      else { queueState.sort = k; queueState.desc = k !== "title" && k !== "owner"; }
      render();
    },
  } : {}, label))));
  render();
  return [
    h("h1", {}, "Incidents"),
    h("div", { class: "filters" },
      h("label", {}, "Status", statusBoxes),
      sel("Severity", "severity", SEVERITIES),
      sel("Owner", "owner", owners),
      sel("Tag", "tag", tags),
      h("label", {}, "Search", h("input", { type: "search", id: "search", value: queueState.search, placeholder: "title, number, tag, owner",
        oninput: (e) => { queueState.search = e.target.value; render(); } })),
      count),
    h("table", { id: "queue" }, thead, tbody)];
}

// ---- incident page --------------------------------------------------------------------

function fieldError(form, target, msg) {
  form.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
  const slot = target && form.querySelector(`[data-error-for="${target}"]`);
  if (slot) slot.textContent = msg;
  else toast(msg, true);
}

function closingFields(prefix) {
  const choice = h("select", { name: "closeChoice" }, h("option", { value: "" }, "choose…"),
    CLOSE_CHOICES.map(([c, r, label], i) => h("option", { value: i }, label)));
  const comment = h("textarea", { name: "classificationComment", rows: 2 });
  const box = h("div", { class: "closing" },
    h("label", {}, "Classification", choice, h("span", { class: "field-error", dataset: { errorFor: "properties.classification" } }),
      h("span", { class: "field-error", dataset: { errorFor: "properties.classificationReason" } })),
    h("label", {}, "Comment", comment, h("span", { class: "field-error", dataset: { errorFor: "properties.classificationComment" } })));
  box.read = () => {
    if (choice.value === "") return {};
    const [c, r] = CLOSE_CHOICES[Number(choice.value)];
    return { classification: c, classificationReason: r, classificationComment: comment.value };
  };
  box.set = (p) => {
    const i = CLOSE_CHOICES.findIndex(([c, r]) => c === p.classification && (r === (p.classificationReason || "")));
    choice.value = i >= 0 ? String(i) : "";
    comment.value = p.classificationComment || "";
  };
  return box;
}

// tagEditor is an input with suggestions (tags of the past two weeks) and
// chips for the chosen tags.
function tagEditor(initial, suggestions) {
  const chosen = [...initial];
  const chips = h("span");
  const listId = "tag-suggestions-" + Math.random().toString(36).slice(2);
  const input = h("input", { list: listId, placeholder: "add a tag, Enter", name: "tag" });
  const redraw = () => chips.replaceChildren(...chosen.map((t) => h("span", { class: "tag" }, t,
    h("button", { type: "button", title: "remove " + t, onclick: () => { chosen.splice(chosen.indexOf(t), 1); redraw(); } }, "×"))));
  const add = () => {
    const t = input.value.trim();
    if (t && !chosen.some((c) => c.toLowerCase() === t.toLowerCase())) chosen.push(t);
    input.value = "";
    redraw();
  };
  // Enter adds the tag and must not submit the form. Chrome submits on the
  // keypress that follows keydown, and a keypress can arrive on its own
  // (synthesized input, some IMEs), so both are stopped.
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  input.addEventListener("keypress", (e) => { if (e.key === "Enter") e.preventDefault(); });
  input.addEventListener("change", add);
  const el = h("span", {}, chips, input, h("datalist", { id: listId }, suggestions.map((s) => h("option", { value: s }))));
  el.read = () => { add(); return chosen.map((t) => ({ labelName: t })); };
  redraw();
  return el;
}

async function incidentPage(number) {
  const [inc, tasks, hist, tagList, ownerList] = await Promise.all([
    api("GET", "/incidents/" + number), api("GET", `/incidents/${number}/tasks`), api("GET", `/incidents/${number}/history`),
    api("GET", "/tags"), api("GET", "/owners")]);
  const p = inc.properties;
  // After a change the page shows the incident again, unless the user has
  // moved on meanwhile: the route follows the address, not this page.
  const reload = route;
  const canWrite = document.body.dataset.access === "write";

  // The edit form: a PUT of the whole incident, based on the etag read.
  const closing = closingFields();
  closing.set(p);
  const status = h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s, selected: s === p.status }, s)));
  const syncClosing = () => (closing.hidden = status.value !== "Closed");
  status.addEventListener("change", syncClosing);
  syncClosing();
  const tags = tagEditor(p.labels.map((l) => l.labelName), tagList.value);
  const form = h("form", { class: "stack", id: "edit-form" },
    h("label", {}, "Title", h("input", { name: "title", value: p.title, required: true }), h("span", { class: "field-error", dataset: { errorFor: "properties.title" } })),
    h("label", {}, "Description", h("textarea", { name: "description", rows: 3, maxlength: MAX_DESCRIPTION }, p.description || ""),
      h("span", { class: "field-error", dataset: { errorFor: "properties.description" } })),
    h("div", { class: "row" },
      h("label", {}, "Severity", h("select", { name: "severity" }, SEVERITIES.map((s) => h("option", { value: s, selected: s === p.severity }, s)))),
      h("label", {}, "Status", status),
      h("label", {}, "Owner", h("input", { name: "owner", list: "owner-list", value: ownerName(p.owner) === p.owner.assignedTo && p.owner.userPrincipalName ? p.owner.userPrincipalName : ownerName(p.owner) }),
        h("datalist", { id: "owner-list" }, ownerList.value.map((o) => h("option", { value: o }))),
        h("span", { class: "field-error", dataset: { errorFor: "properties.owner" } }))),
    h("label", {}, "Tags", tags, h("span", { class: "field-error", dataset: { errorFor: "properties.labels" } })),
    closing,
    h("div", { class: "toolbar" },
      h("button", { type: "submit", disabled: !canWrite }, "Save"),
      h("button", { type: "button", class: "danger", disabled: !canWrite, onclick: async () => {
        if (!confirm(`Delete incident ${number}? Its history stays for audit.`)) return;
        try { await api("DELETE", "/incidents/" + number, undefined, undefined); toast(`Incident ${number} deleted`); location.hash = "#/"; } catch (e) { toast(e.message, true); }
      } }, "Delete incident")));
  onSubmit(form, async () => {
    const f = new FormData(form);
    const owner = String(f.get("owner") || "").trim();
    const props = {
      title: f.get("title"), description: f.get("description"), severity: f.get("severity"), status: f.get("status"),
      owner: owner ? (owner.includes("@") ? { userPrincipalName: owner } : { assignedTo: owner }) : null,
      labels: tags.read(),
    };
    if (props.status === "Closed") Object.assign(props, closing.read());
    try {
      await api("PUT", "/incidents/" + inc.name, { etag: inc.etag, properties: props });
      toast(`Incident ${number} saved`);
      reload();
      return true;
    } catch (e) {
      if (e.status === 409) toast(e.message + " — reload to see the change.", true);
      else fieldError(form, e.target, e.message);
    }
  });

  // Tasks.
  const taskList = h("ul", { class: "tasks", id: "tasks" }, tasks.value.map((t) => {
    const tp = t.properties;
    const done = tp.status === "Completed";
    const by = (p) => (p && (p.name || p.userPrincipalName || p.email)) || "?";
    const act = async (body, method) => {
      try {
        if (method === "DELETE") await api("DELETE", `/incidents/${inc.name}/tasks/${t.name}`);
        else await api("PUT", `/incidents/${inc.name}/tasks/${t.name}`, { etag: t.etag, properties: body });
        reload();
      } catch (e) { toast(e.message, true); }
    };
    return h("li", { class: done ? "done" : "", dataset: { taskId: t.name, status: tp.status } },
      h("input", { type: "checkbox", checked: done, disabled: !canWrite, title: done ? "reopen" : "complete",
        onchange: () => act({ title: tp.title, description: tp.description || "", status: done ? "New" : "Completed" }) }),
      h("div", { class: "body" },
        h("div", { class: "title" }, tp.title),
        tp.description ? h("div", { class: "muted" }, tp.description) : null,
        h("div", { class: "muted" }, `created by ${by(tp.createdBy)} at ${fmtTime(tp.createdTimeUtc)}`,
          done ? ` · completed by ${by(tp.lastModifiedBy)} at ${fmtTime(tp.lastCompletedTimeUtc)}` :
            tp.lastModifiedTimeUtc !== tp.createdTimeUtc ? ` · changed by ${by(tp.lastModifiedBy)} at ${fmtTime(tp.lastModifiedTimeUtc)}` : "")),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", disabled: !canWrite, dataset: { action: done ? "reopen" : "complete" },
          onclick: () => act({ title: tp.title, description: tp.description || "", status: done ? "New" : "Completed" }) }, done ? "Reopen" : "Complete"),
        h("button", { type: "button", class: "danger", disabled: !canWrite, dataset: { action: "delete" },
          onclick: () => { if (confirm(`Delete task "${tp.title}"?`)) act(null, "DELETE"); } }, "Delete")));
  }));
  const addForm = h("form", { class: "stack", id: "add-task" },
    h("label", {}, "New task", h("input", { name: "title", placeholder: "title", required: true }),
      h("span", { class: "field-error", dataset: { errorFor: "properties.title" } })),
    h("label", {}, h("span", { class: "hint" }, "Description (optional)"), h("textarea", { name: "description", rows: 2 })),
    h("div", {}, h("button", { type: "submit", disabled: !canWrite }, "Add task")));
  onSubmit(addForm, async () => {
    const f = new FormData(addForm);
    try {
      await api("PUT", `/incidents/${inc.name}/tasks/${uuid()}`, { properties: { title: f.get("title"), description: f.get("description"), status: "New" } });
      reload();
      return true;
    } catch (e) { fieldError(addForm, e.target, e.message); }
  });

  const timeline = h("ol", { class: "timeline", id: "history" }, hist.value.slice().reverse().map((e) =>
    h("li", { dataset: { change: e.change } }, h("time", {}, fmtTime(e.timeGenerated)),
      h("span", {}, `${e.by} — ${e.change}`, e.taskTitle ? ` “${e.taskTitle}”` : "", e.detail && e.detail !== e.taskTitle ? `: ${e.detail}` : ""))));
  return [
    h("h1", {}, `Incident ${p.incidentNumber}: `, h("span", { id: "incident-title" }, p.title)),
    h("div", { class: "grid" },
      h("div", {},
        h("div", { class: "card" }, form),
        h("h2", {}, "Tasks"),
        h("div", { class: "card" }, tasks.value.length ? taskList : h("p", { class: "muted" }, "No tasks yet."), addForm)),
      h("div", {},
        h("div", { class: "card" }, h("dl", { class: "props" },
          h("dt", {}, "Severity"), h("dd", { class: "sev sev-" + p.severity }, p.severity),
          h("dt", {}, "Status"), h("dd", { id: "incident-status" }, p.status),
          h("dt", {}, "Owner"), h("dd", {}, ownerName(p.owner) || "unassigned"),
          h("dt", {}, "Created"), h("dd", {}, fmtTime(p.createdTimeUtc)),
          h("dt", {}, "Last change"), h("dd", {}, fmtTime(p.lastModifiedTimeUtc)),
          p.classification ? [h("dt", {}, "Classification"), h("dd", {}, `${p.classification} ${p.classificationReason || ""}: ${p.classificationComment || ""}`)] : null,
          h("dt", {}, "Provider"), h("dd", {}, `${p.providerName} ${p.providerIncidentId}`),
          h("dt", {}, "Name"), h("dd", { class: "muted" }, inc.name))),
        h("h2", {}, "History"),
        hist.value.length ? timeline : h("p", { class: "muted" }, "No changes yet.")))];
}

// ---- create form -------------------------------------------------------------------------

async function createPage() {
  const [tagList, ownerList] = await Promise.all([api("GET", "/tags"), api("GET", "/owners")]);
  const closing = closingFields();
  const status = h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s, selected: s === "New" }, s)));
  const sync = () => (closing.hidden = status.value !== "Closed");
  status.addEventListener("change", sync);
  sync();
  const counter = h("span", { class: "hint" }, `0 / ${MAX_DESCRIPTION}`);
  const desc = h("textarea", { name: "description", rows: 5, maxlength: MAX_DESCRIPTION,
    oninput: (e) => (counter.textContent = `${[...e.target.value].length} / ${MAX_DESCRIPTION}`) });
  const tags = tagEditor([], tagList.value);
  const form = h("form", { class: "stack", id: "create-form", novalidate: true },
    h("label", {}, "Title", h("input", { name: "title", required: true, autofocus: true }), h("span", { class: "field-error", dataset: { errorFor: "properties.title" } })),
    h("label", {}, "Description ", counter, desc, h("span", { class: "field-error", dataset: { errorFor: "properties.description" } })),
    h("div", { class: "row" },
      h("label", {}, "Severity", h("select", { name: "severity" }, SEVERITIES.map((s) => h("option", { value: s, selected: s === "Medium" }, s)))),
      h("label", {}, "Status", status),
      h("label", {}, "Owner", h("input", { name: "owner", list: "owner-list", placeholder: "name or UPN (optional)" }),
        h("datalist", { id: "owner-list" }, ownerList.value.map((o) => h("option", { value: o }))),
        h("span", { class: "field-error", dataset: { errorFor: "properties.owner" } }))),
    h("label", {}, "Tags ", h("span", { class: "hint" }, "suggested: the tags of the past two weeks"), tags,
      h("span", { class: "field-error", dataset: { errorFor: "properties.labels" } })),
    h("div", { class: "row" },
      h("label", {}, "First activity (UTC, optional)", h("input", { name: "first", type: "datetime-local" }),
        h("span", { class: "field-error", dataset: { errorFor: "properties.firstActivityTimeUtc" } })),
      h("label", {}, "Last activity (UTC, optional)", h("input", { name: "last", type: "datetime-local" }),
        h("span", { class: "field-error", dataset: { errorFor: "properties.lastActivityTimeUtc" } }))),
    closing,
    h("div", {}, h("button", { type: "submit", disabled: document.body.dataset.access !== "write" }, "Create incident"),
      document.body.dataset.access !== "write" ? h("span", { class: "muted" }, " This token is read-only.") : null));
  onSubmit(form, async () => {
    const f = new FormData(form);
    // The CLI's rules, checked here first; the server checks them again.
    const title = String(f.get("title")).trim();
    if (!title) return fieldError(form, "properties.title", "The title is required.");
    if ([...String(f.get("description"))].length > MAX_DESCRIPTION) return fieldError(form, "properties.description", `At most ${MAX_DESCRIPTION} characters.`);
    const props = { title, description: f.get("description"), severity: f.get("severity"), status: f.get("status"), labels: tags.read() };
    const owner = String(f.get("owner")).trim();
    if (owner) props.owner = owner.includes("@") ? { userPrincipalName: owner } : { assignedTo: owner };
    for (const [k, name] of [["firstActivityTimeUtc", "first"], ["lastActivityTimeUtc", "last"]]) {
      if (f.get(name)) props[k] = f.get(name) + ":00Z";
    }
    if (props.status === "Closed") {
      const c = closing.read();
      if (!c.classification) return fieldError(form, "properties.classification", "Closing needs a classification.");
      if (!c.classificationComment.trim()) return fieldError(form, "properties.classificationComment", "Closing needs a comment.");
      Object.assign(props, c);
    }
    try {
      const inc = await api("PUT", "/incidents/" + uuid(), { properties: props });
      toast(`Incident ${inc.properties.incidentNumber} created`);
      location.hash = "#/incident/" + inc.properties.incidentNumber;
      return true;
    } catch (e) { fieldError(form, e.target, e.message); }
  });
  return [h("h1", {}, "New incident"), h("div", { class: "card" }, form)];
}

// ---- KQL ------------------------------------------------------------------------------

const kqlState = { text: `SecurityIncident
| summarize Incidents = dcount(IncidentNumber) by bin(CreatedTime, 1d), Severity
| render timechart` };
let chart = null;

function chartConfig(kind, table) {
  const cols = table.columns;
  const isNum = (c) => ["int", "long", "real"].includes(c.type);
  const timeIdx = cols.findIndex((c) => c.type === "datetime");
  const numIdx = cols.map((c, i) => (isNum(c) ? i : -1)).filter((i) => i >= 0);
  const strIdx = cols.map((c, i) => (c.type === "string" ? i : -1)).filter((i) => i >= 0);
  if (!numIdx.length) throw new Error("render " + kind + " needs a numeric column to draw");
  const palette = ["#0b5cad", "#c26a00", "#1d7a36", "#b3261e", "#6b3fa0", "#00838f", "#5b6470", "#ad1457"];
  const rows = table.rows;
  if (kind === "piechart") {
    const li = strIdx.length ? strIdx[0] : 0;
    return { type: "pie", data: { labels: rows.map((r) => String(r[li])), datasets: [{ data: rows.map((r) => r[numIdx[0]]), backgroundColor: rows.map((_, i) => palette[i % palette.length]) }] } };
  }
  // As Kusto draws them: a timechart's x axis is its datetime column, the
  // other charts' is the first column; string columns split the series.
  const xIdx = (kind === "timechart" || kind === "areachart" || kind === "linechart") && timeIdx >= 0 ? timeIdx : 0;
  const series = strIdx.filter((i) => i !== xIdx);
  let xs = [...new Set(rows.map((r) => r[xIdx]))];
  if (cols[xIdx].type === "datetime") xs.sort();
  const datasets = [];
  const ys = numIdx.filter((i) => i !== xIdx);
  if (series.length) {
    // One line per value of the first string column (summarize … by bin(T), Severity).
    const s = series[0];
    for (const key of [...new Set(rows.map((r) => r[s]))]) {
      const byX = new Map(rows.filter((r) => r[s] === key).map((r) => [r[xIdx], r[ys[0]]]));
      datasets.push({ label: String(key || "(empty)"), data: xs.map((x) => byX.get(x) ?? 0) });
    }
  } else {
    for (const y of ys) {
      const byX = new Map(rows.map((r) => [r[xIdx], r[y]]));
      datasets.push({ label: cols[y].name, data: xs.map((x) => byX.get(x) ?? 0) });
    }
  }
  datasets.forEach((d, i) => {
    d.borderColor = palette[i % palette.length];
    d.backgroundColor = palette[i % palette.length] + (kind === "areachart" ? "55" : "cc");
    if (kind === "areachart") d.fill = true;
  });
  const labels = xs.map((x) => (cols[xIdx].type === "datetime" ? fmtTime(x) : String(x)));
  const type = kind === "columnchart" || kind === "barchart" ? "bar" : "line";
  const options = { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } };
  if (kind === "barchart") options.indexAxis = "y";
  if (kind === "areachart") options.scales.y.stacked = true;
  return { type, data: { labels, datasets }, options };
}

function resultTable(table) {
  return h("table", { id: "results-table" },
    h("thead", {}, h("tr", {}, table.columns.map((c) => h("th", { title: c.type }, c.name)))),
    h("tbody", {}, table.rows.map((r) => h("tr", {}, r.map((v) => h("td", { title: v === null ? "null" : String(v) }, v === null ? "" : String(v)))))));
}

async function download(accept, name) {
  try {
    const blob = await api("POST", "/query", { query: kqlState.text }, accept);
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) { toast(e.message, true); }
}

async function kqlPage() {
  const editor = h("textarea", { class: "kql", id: "kql-editor", spellcheck: "false" }, kqlState.text);
  const out = h("div", { id: "kql-out" });
  const run = async () => {
    kqlState.text = editor.value;
    if (chart) { chart.destroy(); chart = null; }
    out.replaceChildren(h("p", { class: "muted" }, "Running…"));
    try {
      const resp = await api("POST", "/query", { query: editor.value });
      const table = resp.tables[0];
      const parts = [h("p", { class: "muted", id: "row-count" }, `${table.rows.length} rows · ${resp.statistics ? resp.statistics.query.executionTime.toFixed(3) + " s" : ""}`)];
      const drawable = ["timechart", "linechart", "areachart", "columnchart", "barchart", "piechart"];
      if (resp.render && !drawable.includes(resp.render.visualization)) {
        parts.push(h("p", { class: "muted" }, `render ${resp.render.visualization} is shown as a table; the page draws ${drawable.join(", ")}.`));
      }
      if (resp.render && drawable.includes(resp.render.visualization)) {
        const canvas = h("canvas", { id: "chart", dataset: { kind: resp.render.visualization } });
        const box = h("div", { class: "chart-box" }, canvas);
        parts.unshift(box);
        out.replaceChildren(...parts, h("div", { class: "results" }, resultTable(table)));
        try {
          if (!window.Chart) throw new Error("the chart library did not load");
          chart = new window.Chart(canvas, chartConfig(resp.render.visualization, table));
          canvas.dataset.points = String(chart.data.datasets.reduce((n, d) => n + d.data.length, 0));
          canvas.dataset.drawn = "true";
        } catch (e) {
          box.replaceChildren(h("p", { class: "error" }, "Cannot draw " + resp.render.visualization + ": " + e.message));
        }
        return;
      }
      out.replaceChildren(...parts, h("div", { class: "results" }, resultTable(table)));
    } catch (e) {
      out.replaceChildren(h("pre", { class: "error", id: "kql-error" }, (e.inner && e.inner.detail) || e.message));
    }
  };
  editor.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); }
    if (e.key === "Tab") { e.preventDefault(); editor.setRangeText("  ", editor.selectionStart, editor.selectionEnd, "end"); }
  });
  return [h("h1", {}, "KQL"),
    editor,
    h("div", { class: "toolbar" },
      h("button", { type: "button", id: "run", onclick: run }, "Run (Ctrl+Enter)"),
      h("button", { type: "button", class: "secondary", onclick: () => download("text/csv", "query.csv") }, "Download CSV"),
      h("button", { type: "button", class: "secondary", onclick: () => download("application/vnd.apache.parquet", "query.parquet") }, "Download Parquet"),
      h("span", { class: "muted" }, "End with | render timechart, columnchart, barchart, piechart or areachart to draw a chart.")),
    out];
}

// ---- dashboard ------------------------------------------------------------------------------

async function dashboardPage() {
  const range = new URLSearchParams(location.hash.split("?")[1] || "").get("TimeRange") || "30d";
  const m = await api("GET", "/metrics?TimeRange=" + encodeURIComponent(range));
  return [h("h1", {}, "SOC metrics"),
    h("div", { class: "toolbar" }, h("label", {}, "Incidents created in the last ",
      h("select", { onchange: (e) => (location.hash = "#/dashboard?TimeRange=" + e.target.value) },
        ["1d", "7d", "30d", "90d", "365d"].map((r) => h("option", { value: r, selected: r === range }, r)))),
      h("span", { class: "muted" }, m.summary + " · from " + m.file)),
    h("div", { class: "metrics", id: "metrics" }, m.results.map((r) => h("div", { class: "metric s-" + r.status, dataset: { name: r.name, status: r.status } },
      h("div", { class: "status" }, r.status),
      h("div", { class: "value" }, r.value || "–"),
      h("div", {}, h("strong", {}, r.name)),
      h("div", { class: "muted" }, r.description),
      h("div", { class: "muted" }, "threshold: " + r.threshold),
      r.message ? h("div", { class: "message" }, r.message) : null)))];
}

// ---- start ------------------------------------------------------------------------------------

setupChrome();
if (store.token) whoami().then(route).catch((e) => askToken(e.message));
else askToken();
