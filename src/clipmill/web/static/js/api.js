// The JSON API, as the pages use it: one fetch wrapper, errors as sentences, live job updates.
//
// Credentials are the browser's own: the HttpOnly session cookie set at sign-in (users mode),
// or nothing at all (auth=none). Nothing secret is kept in localStorage.

// without accounts, whoever reads this runs the server: name the setting; otherwise ask them
const blockedSentence = () => (document.body && document.body.dataset.authMode === "none"
  ? "That address is on a private network, which this server is set not to reach. You run this server: allow it with CLIPMILL_ALLOWED_NETWORKS (or CLIPMILL_ALLOW_PRIVATE_NETWORKS=true) and restart clipmill."
  : "That address is on a private network, which this server is set not to reach. Ask the server's operator to allow it if it should be reachable.");

const SENTENCES = {
  invalid_url: "That doesn't look like a link. Paste the address of the video or page, like https://example.com/video.",
  unknown_host: "That site's name doesn't resolve. Check the link for typos.",
  unsupported_url: "No downloader knows this site or page. Try the link of the video itself.",
  blocked_address: blockedSentence,
  page_not_found: "The site says there is no such page. Check the link, or the video may have been removed.",
  origin_unreachable: "The site doesn't answer: nothing accepts connections at that address. Check the link, or try again once the site is back.",
  origin_error: "The site answered with an error. It may be down, or the video removed.",
  timed_out: "The site took too long to answer. Try again in a moment.",
  // a download's own message says where it stopped and what the limit is, in MB
  file_too_large: (err) => (/^(Stopped at|The file is) /.test(err.message || "") ? err.message
    : "The file is larger than this server allows. Pick a lower quality, or audio only."),
  duration_too_long: "The video is longer than this server allows.",
  live_stream: "That is a live stream; only finished videos can be downloaded.",
  unauthorized: "Please sign in first.",
  token_expired: "Your session ended. Please sign in again.",
  rate_limited: "Too many requests at once. Wait a few seconds and try again.",
  quota_exceeded: "You have too many jobs waiting. Wait for some to finish, or cancel some.",
  storage_quota_exceeded: "Your files use all of your storage. Delete some, or wait for them to expire.",
  payload_too_large: "That is larger than this server accepts.",
  unsupported_media: "That file isn't audio or video clipmill can read.",
  broken_media: "The media is damaged and can't be read.",
  render_failed: "clipmill could not render this clip correctly. Your video is fine: render it again, and if it keeps failing, tell the server's operator.",
  not_found: "It isn't here any more (or it isn't yours).",
  file_expired: "This file was deleted after the retention period. Download it again.",
  invalid_transition: "That can't be done while the job is in this state.",
  zip_empty: "Nothing has finished yet, so there is nothing to put in a ZIP.",
  cross_site_request: "This request came from another site and was refused.",
  accounts_off: "Accounts are off on this server.",
  invalid_credentials: "That name and password don't match.",
  registration_closed: "Registration is closed on this server. Ask its operator for an account.",
  name_taken: "That name is taken. Pick another.",
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** What to tell a person: a sentence with what to do next, not a code. */
  get sentence() {
    const known = SENTENCES[this.code];
    return (typeof known === "function" ? known(this) : known) || this.message || "Something went wrong. Try again.";
  }
}

const BARE_HOST = /^(?:[^\s/?#:@.[\]]+(?:\.[^\s/?#:@.[\]]+)+|localhost|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * A link as people paste it, with https:// where it was left out ("example.com/video",
 * "www.site.org/x", "//cdn.site/x"); anything else comes back as it is, for the server to judge.
 * The same rule as the API's (clipmill.media.netguard.complete_url).
 */
export function completeUrl(text) {
  const link = String(text).trim();
  if (link.startsWith("//")) return `https:${link}`;
  if (link.includes("://")) return link;
  const host = link.split(/[/?#]/, 1)[0];
  return BARE_HOST.test(host) ? `https://${link}` : link;
}

// Paths a visitor without a session may call (signing in, registering, the server's settings).
const OPEN_PATHS = /^\/api\/v1\/(auth\/(login|register|config)|health)\b/;

/** False when accounts are on and this browser holds no session: a data request can only 401. */
export function hasSession() {
  const body = document.body;
  return !body || body.dataset.authMode !== "users" || body.dataset.session !== "false";
}

function noteSession(path, ok) {
  if (!ok || !document.body) return;
  if (/^\/api\/v1\/auth\/(login|register)\b/.test(path)) document.body.dataset.session = "true";
  else if (/^\/api\/v1\/auth\/logout\b/.test(path)) document.body.dataset.session = "false";
}

export async function api(path, { method = "GET", body, form, signal, headers = {} } = {}) {
  // answered here, not by a request the console would log as a failed 401
  if (!hasSession() && path.startsWith("/api/") && !OPEN_PATHS.test(path)) {
    throw new ApiError(401, "unauthorized", "Sign in first.");
  }
  const init = { method, signal, headers: { accept: "application/json", ...headers }, credentials: "same-origin" };
  if (form) init.body = form;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "offline", "The server can't be reached. Check your connection.");
  }
  noteSession(path, response.ok);
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "http_error", error.message || response.statusText, error.details);
  }
  return data;
}

/** Upload with progress (fetch has no upload progress): resolves to the parsed JSON answer. */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const error = (data && data.error) || {};
        reject(new ApiError(xhr.status, error.code || "http_error", error.message || "Upload failed."));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "offline", "The upload was interrupted.")));
    xhr.send(form);
  });
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/**
 * Follow a job: WebSocket first, polling when sockets are unavailable or drop.
 * `onUpdate(job)` gets the job's status record (GET /api/v1/jobs/{id} shape, progress merged in).
 * Returns a function that stops following.
 */
export function follow(jobId, onUpdate, { pollMs = 1500 } = {}) {
  let stopped = false;
  let socket = null;
  let timer = null;

  const refresh = async () => {
    try {
      const job = await api(`/api/v1/jobs/${encodeURIComponent(jobId)}`);
      if (!stopped) onUpdate(job);
      return job;
    } catch (err) {
      if (!stopped) onUpdate(null, err);
      return null;
    }
  };

  const poll = async () => {
    if (stopped) return;
    const job = await refresh();
    if (!stopped && !(job && TERMINAL.has(job.status))) timer = setTimeout(poll, pollMs);
  };

  const openSocket = () => {
    if (!("WebSocket" in window) || window.CLIPMILL_NO_WEBSOCKET) return poll();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    try {
      socket = new WebSocket(`${scheme}://${location.host}/ws/${encodeURIComponent(jobId)}`);
    } catch {
      return poll();
    }
    let live = false;
    socket.addEventListener("message", (event) => {
      live = true;
      let envelope;
      try { envelope = JSON.parse(event.data); } catch { return; }
      if (envelope.type === "error") return;
      const data = envelope.data || {};
      onUpdate({ id: jobId, ...data, _live: envelope.type });
      if (TERMINAL.has(data.status)) refresh(); // the full record: files, results
    });
    socket.addEventListener("close", () => {
      socket = null;
      if (!stopped) poll(); // keep going without the socket
    });
    socket.addEventListener("error", () => { if (!live && socket) socket.close(); });
  };

  refresh().then((job) => {
    if (stopped) return;
    if (job && TERMINAL.has(job.status)) return;
    openSocket();
  });

  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    if (socket) socket.close();
  };
}

export const isTerminal = (status) => TERMINAL.has(status);
