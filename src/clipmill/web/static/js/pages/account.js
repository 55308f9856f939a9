// The account page: sign in / register / sign out (users mode), API keys, cookie files and
// webhooks. With auth=none it says how to turn accounts on and keeps what works without them.
import { api, upload, ApiError } from "../api.js";
import { currentUser, showAccountLink } from "../shell.js";
import { $, h, notice, authMode, formatTime } from "../ui.js";
import { errorSentence } from "../download/jobs.js";

const root = $("[data-account]");
const registrationOpen = document.body.dataset.registrationOpen === "true";

/** Where to go after signing in: a path on this site only (never another origin). */
function nextPath() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : null;
}

let uid = 0;
function field(label, attrs) {
  const input = h("input", { id: `acc-${++uid}`, ...attrs });
  return [h("div.field", {}, h("label", { for: input.id }, label), input), input];
}

function fail(err, box) {
  const text = err instanceof ApiError ? errorSentence(err) : err.message;
  if (box) box.textContent = text; else notice(text, "error");
}

/** A button that asks for a second click before doing something that can't be undone. */
function confirmButton(label, confirmLabel, action) {
  let armed = null;
  const button = h("button.small.danger", { type: "button", onclick: async () => {
    if (!armed) {
      button.textContent = confirmLabel;
      armed = setTimeout(() => { armed = null; button.textContent = label; }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    try { await action(); } finally { button.disabled = false; button.textContent = label; }
  } }, label);
  return button;
}

/** A table's head; "" is the column of buttons, named for screen readers only (an empty
 * header leaves that column without a name). */
function headerRow(labels) {
  return h("thead", {}, h("tr", {}, labels.map((t) => h("th", { scope: "col" }, t || h("span.sr-only", {}, "Actions")))));
}

function secretBox(title, secret, note) {
  const input = h("input", { type: "text", readonly: true, value: secret, "aria-label": title, "data-secret": "" });
  const copied = h("span.muted", { role: "status", "aria-live": "polite" });
  const copy = h("button.small", { type: "button", "data-copy": "", onclick: async () => {
    try { await navigator.clipboard.writeText(secret); } catch { input.select(); document.execCommand && document.execCommand("copy"); }
    copied.textContent = "Copied.";
  } }, "Copy");
  return h("div.notice", { "data-kind": "ok" }, h("strong", {}, title), h("p", {}, note), h("div.secret-box", {}, input, copy), copied);
}

// -- sign in / register ------------------------------------------------------------------------
function signInPanel() {
  let registering = false;
  const error = h("p.field-error", { role: "alert" });
  const [nameField, name] = field("Name", { type: "text", autocomplete: "username", required: true, autocapitalize: "off", name: "username" });
  const [passField, password] = field("Password", { type: "password", autocomplete: "current-password", required: true, name: "password" });
  const submit = h("button.primary", { type: "submit", "data-sign-in": "" }, "Sign in");
  const heading = h("h2", {}, "Sign in");
  const form = h("form.stack", { novalidate: true }, nameField, passField, error, submit);
  const tabs = registrationOpen ? h("div.tabs", {},
    h("button.small", { type: "button", "aria-pressed": "true", onclick: () => setMode(false) }, "Sign in"),
    h("button.small", { type: "button", "aria-pressed": "false", onclick: () => setMode(true) }, "Create an account")) : null;
  const setMode = (register) => {
    registering = register;
    heading.textContent = submit.textContent = register ? "Create an account" : "Sign in";
    password.autocomplete = register ? "new-password" : "current-password";
    if (tabs) [...tabs.children].forEach((b, i) => b.setAttribute("aria-pressed", String(i === (register ? 1 : 0))));
    error.textContent = "";
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!name.value.trim() || !password.value) { error.textContent = "Enter your name and password."; return; }
    submit.disabled = true;
    try {
      const credentials = { username: name.value.trim(), password: password.value };
      if (registering) await api("/api/v1/auth/register", { method: "POST", body: credentials });
      await api("/api/v1/auth/login", { method: "POST", body: credentials });
      const next = nextPath();
      if (next) { location.assign(next); return; }
      await render();
      notice(registering ? "Account created; you are signed in." : "Signed in.", "ok");
    } catch (err) {
      fail(err, error);
      password.select();
    } finally { submit.disabled = false; }
  });
  return h("section.card.panel", { "aria-label": "Sign in" }, tabs, heading, form,
    registrationOpen ? null : h("p.muted", {}, "Accounts are made by this server's operator."));
}

// -- API keys ------------------------------------------------------------------------------------
function keysPanel() {
  const list = h("tbody");
  const shown = h("div");
  const error = h("p.field-error", { role: "alert" });
  const [nameField, name] = field("Name", { type: "text", placeholder: "e.g. my script", maxlength: "200", autocomplete: "off" });
  const [daysField, days] = field("Expires after (days, optional)", { type: "number", min: "1", max: "3650", inputmode: "numeric" });
  const load = async () => {
    try {
      const { keys } = await api("/api/v1/auth/keys");
      list.replaceChildren(...(keys.length ? keys.map((key) => h("tr", { "data-key-id": key.id },
        h("td", {}, key.name), h("td.mono", {}, `${key.prefix}…`), h("td", {}, formatTime(key.created_at)),
        h("td", {}, key.last_used_at ? formatTime(key.last_used_at) : "never"),
        h("td", {}, key.revoked_at ? "revoked" : key.expires_at ? `until ${formatTime(key.expires_at)}` : "active"),
        h("td", {}, key.revoked_at ? null : confirmButton("Revoke", "Click again to revoke", async () => {
          try { await api(`/api/v1/auth/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" }); notice(`Key "${key.name}" revoked.`, "ok"); await load(); } catch (err) { fail(err, error); }
        })))) : [h("tr", {}, h("td", { colspan: "6" }, h("span.muted", {}, "No keys yet.")))]));
    } catch (err) { fail(err, error); }
  };
  const form = h("form.form-row", { novalidate: true }, nameField, daysField, h("button.primary", { type: "submit", "data-create-key": "" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const body = { name: name.value.trim() || "api key" };
    if (days.value) body.expires_in_days = Number(days.value);
    try {
      const created = await api("/api/v1/auth/keys", { method: "POST", body });
      shown.replaceChildren(secretBox("Your new API key", created.key, "Copy it now: it is shown only this once. Send it as Authorization: Bearer <key> or X-API-Key."));
      name.value = ""; days.value = "";
      await load();
      shown.querySelector("input").focus();
    } catch (err) { fail(err, error); }
  });
  load();
  return h("section.card.panel", { "aria-labelledby": "keys-title", "data-keys": "" }, h("h2", { id: "keys-title" }, "API keys"),
    h("p.muted", {}, "For scripts and apps that call the API on your behalf."), form, error, shown,
    h("div.tablewrap", {}, h("table", {}, headerRow(["Name", "Key", "Created", "Last used", "Status", ""]), list)));
}

// -- cookie files ------------------------------------------------------------------------------
function cookiesPanel() {
  const list = h("tbody");
  const error = h("p.field-error", { role: "alert" });
  const progress = h("span.muted", { role: "status", "aria-live": "polite" });
  const [fileField, file] = field("cookies.txt (Netscape format)", { type: "file", accept: ".txt,text/plain", required: true });
  const [nameField, name] = field("Name (optional)", { type: "text", maxlength: "200", autocomplete: "off" });
  const load = async () => {
    try {
      const { items } = await api("/api/v1/auth/cookies");
      list.replaceChildren(...(items.length ? items.map((c) => h("tr", {},
        h("td", {}, c.name), h("td", {}, c.domains.join(", ")), h("td", {}, String(c.count)), h("td", {}, formatTime(c.created_at)),
        h("td", {}, confirmButton("Delete", "Click again to delete", async () => {
          try { await api(`/api/v1/auth/cookies/${encodeURIComponent(c.id)}`, { method: "DELETE" }); notice(`Cookie file "${c.name}" deleted.`, "ok"); await load(); } catch (err) { fail(err, error); }
        })))) : [h("tr", {}, h("td", { colspan: "5" }, h("span.muted", {}, "No cookie files.")))]));
    } catch (err) { fail(err, error); }
  };
  const form = h("form.form-row", { novalidate: true }, fileField, nameField, h("button.primary", { type: "submit" }, "Upload"), progress);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!file.files.length) { error.textContent = "Choose a cookies.txt file first."; return; }
    const data = new FormData();
    data.append("file", file.files[0]);
    if (name.value.trim()) data.append("name", name.value.trim());
    try {
      await upload("/api/v1/auth/cookies", data, (share) => { progress.textContent = `Uploading… ${Math.round(share * 100)}%`; });
      progress.textContent = "Stored (encrypted).";
      form.reset();
      await load();
    } catch (err) { progress.textContent = ""; fail(err, error); }
  });
  load();
  return h("section.card.panel", { "aria-labelledby": "cookies-title", "data-cookies": "" }, h("h2", { id: "cookies-title" }, "Cookie files"),
    h("p.muted", {}, "For videos that need a login: export cookies.txt from your browser, upload it, then pick it when downloading. Only names and domains are shown here, never values."),
    form, error, h("div.tablewrap", {}, h("table", {}, headerRow(["Name", "Domains", "Cookies", "Added", ""]), list)));
}

// -- webhooks ----------------------------------------------------------------------------------
const EVENTS = [["job.completed", "finished"], ["job.failed", "failed"], ["job.cancelled", "cancelled"], ["job.progress", "progress (25/50/75 %)"]];

function webhooksPanel() {
  const list = h("ul.jobs");
  const shown = h("div");
  const error = h("p.field-error", { role: "alert" });
  const [urlField, url] = field("Receiver URL", { type: "url", placeholder: "https://hooks.example.com/clipmill", required: true, autocomplete: "off" });
  const [descField, desc] = field("Description (optional)", { type: "text", maxlength: "200", autocomplete: "off" });
  const events = EVENTS.map(([value, label]) => [h("label.check", {}, h("input", { type: "checkbox", value, checked: value !== "job.progress" }), label)]);
  const load = async () => {
    try {
      const { items } = await api("/api/v1/webhooks");
      list.replaceChildren(...(items.length ? items.map(webhookItem) : [h("li.muted", {}, "No webhooks.")]));
    } catch (err) { fail(err, error); }
  };
  const webhookItem = (hook) => {
    const deliveries = h("div.deliveries");
    const showDeliveries = async () => {
      try {
        const page = await api(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/deliveries?limit=20`);
        deliveries.replaceChildren(page.items.length ? h("table", {}, headerRow(["Event", "Status", "Tries", "Answer", "When"]),
          h("tbody", {}, page.items.map((d) => h("tr", {}, h("td", {}, d.event), h("td", {}, d.status), h("td", {}, String(d.attempts)),
            h("td", {}, d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || ""), h("td", {}, formatTime(d.created_at))))))
          : h("p.muted", {}, "Nothing sent yet."));
      } catch (err) { fail(err, error); }
    };
    return h("li.job", { "data-webhook-id": hook.id },
      h("div.job-head", {}, h("span.job-title.mono", {}, hook.url), h("span.badge", { "data-status": hook.active ? "completed" : "cancelled" }, hook.active ? "active" : "off")),
      h("div.job-meta", {}, h("span", {}, hook.events.join(", ")), hook.description ? h("span", {}, hook.description) : null),
      h("div.job-actions", {},
        h("button.small", { type: "button", onclick: async () => {
          try { await api(`/api/v1/webhooks/${encodeURIComponent(hook.id)}/test`, { method: "POST" }); notice("Test event queued; its delivery shows below.", "ok"); await showDeliveries(); } catch (err) { fail(err, error); }
        } }, "Send test event"),
        h("button.small", { type: "button", onclick: showDeliveries }, "Deliveries"),
        confirmButton("Delete", "Click again to delete", async () => {
          try { await api(`/api/v1/webhooks/${encodeURIComponent(hook.id)}`, { method: "DELETE" }); notice("Webhook deleted.", "ok"); await load(); } catch (err) { fail(err, error); }
        })),
      deliveries);
  };
  const form = h("form.stack", { novalidate: true }, h("div.form-row", {}, urlField, descField),
    h("fieldset.events", {}, h("legend", {}, "Events"), events.map(([label]) => label)),
    h("div", {}, h("button.primary", { type: "submit" }, "Add webhook")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const chosen = events.map(([label]) => label.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    if (!url.value.trim()) { error.textContent = "Enter the address that should receive the events."; return; }
    try {
      const created = await api("/api/v1/webhooks", { method: "POST", body: { url: url.value.trim(), events: chosen.length ? chosen : null, description: desc.value.trim() || null } });
      shown.replaceChildren(secretBox("Signing secret", created.secret, "Deliveries carry an X-Clipmill-Signature made with this secret. It is shown only now."));
      form.reset();
      await load();
    } catch (err) { fail(err, error); }
  });
  load();
  return h("section.card.panel", { "aria-labelledby": "hooks-title", "data-webhooks": "" }, h("h2", { id: "hooks-title" }, "Webhooks"),
    h("p.muted", {}, "clipmill POSTs a signed JSON event to these addresses when your jobs finish, fail or are cancelled."),
    form, error, shown, list);
}

// -- the page ----------------------------------------------------------------------------------
function accountsOff() {
  return h("section.card.panel", { "aria-labelledby": "off-title" }, h("h2", { id: "off-title" }, "Accounts are off"),
    h("p", {}, "This server runs without accounts: everything belongs to one local user, and anyone who can reach it may use it. To have accounts, start it with:"),
    h("pre.howto", {}, "CLIPMILL_AUTH=users\nclipmill user create NAME --admin"),
    h("p.muted", {}, "Cookie files and webhooks below work without accounts too. History keeps the jobs of this browser (filter \"This browser only\")."));
}

async function render() {
  const mode = authMode();
  if (mode === "none") {
    root.replaceChildren(h("div.account-grid", {}, accountsOff(), cookiesPanel(), webhooksPanel()));
    return;
  }
  const user = await currentUser();
  showAccountLink();
  if (!user) {
    root.replaceChildren(h("div.account-grid", {},
      nextPath() ? h("p.notice", {}, "Sign in to continue.") : null,
      mode === "apikey" ? h("section.card.panel", {}, h("h2", {}, "API keys only"), h("p", {}, "This server takes API keys only (CLIPMILL_AUTH=apikey); the web pages need CLIPMILL_AUTH=users to sign in.")) : signInPanel()));
    const first = root.querySelector("input");
    if (first) first.focus();
    return;
  }
  const signOut = h("button", { type: "button", "data-sign-out": "", onclick: async () => {
    try { await api("/api/v1/auth/logout", { method: "POST" }); } catch (err) { if (!(err instanceof ApiError && err.status === 401)) { fail(err); return; } }
    await render();
    notice("Signed out.", "ok");
    showAccountLink();
  } }, "Sign out");
  root.replaceChildren(h("div.account-grid", {},
    h("section.card.panel.row", { "aria-label": "You" }, h("p.grow", { "data-signed-in": "" }, "Signed in as ", h("strong", {}, user.name), user.is_admin ? " (admin)" : ""), signOut),
    keysPanel(), cookiesPanel(), webhooksPanel()));
}

render();
