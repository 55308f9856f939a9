// Jobs as the download queue and the history show them: one card, errors as sentences,
// and the ids of jobs started in this browser (the anonymous mode's per-browser history).
import { api, ApiError } from "../api.js";
import { h, formatBytes, formatDuration, formatTime } from "../ui.js";
import { filesDeleted, retentionLine } from "./retention.js";

export const DOWNLOAD_KINDS = new Set(["download", "playlist", "channel", "batch"]);
const PARENTS = new Set(["playlist", "channel", "batch"]);

// job error codes api.js has no sentence for; each says what to do next
const JOB_SENTENCES = {
  download_failed: "The site could not be reached or stopped answering. Retry in a moment.",
  worker_crashed: "The worker stopped unexpectedly (perhaps out of memory). Retry, or pick a lower quality.",
  storage_full: "The server's disk is full. Free some space (or ask its operator), then retry.",
  response_too_large: "The site sent a page or list larger than this server reads. Try the video's own link.",
  no_items: "Nothing was left to download: the selection or filters matched no videos.",
  not_a_playlist: "That link is a single video, not a playlist. Download it as a video.",
  cancelled: "Cancelled. Retry to start it again.",
  superseded: "A newer attempt took over this job. Reload the page.",
  media_error: "The media couldn't be processed. Retry, or pick another format.",
  invalid_option: "One of the options isn't valid here. Change it and try again.",
  logins_off: "This server signs in with API keys only.",
};

/** A sentence for an error code (API answers and failed jobs alike). */
export function sentenceFor(code, message) {
  return JOB_SENTENCES[code] || new ApiError(0, code, message).sentence;
}

/** The sentence of an ApiError, plus the field that is wrong for invalid_option. */
export function errorSentence(err) {
  if (!(err instanceof ApiError)) return "Something went wrong. Try again.";
  if (err.code === "invalid_option" && err.message) return `That isn't accepted: ${err.message}`;
  return JOB_SENTENCES[err.code] || err.sentence;
}

// -- the jobs this browser started ------------------------------------------------------------
const KEY = "clipmill.jobs";
const MAX_REMEMBERED = 300;

export function rememberedIds() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(list) ? list.filter((id) => typeof id === "string") : [];
  } catch {
    return [];
  }
}

export function remember(jobId) {
  const ids = [jobId, ...rememberedIds().filter((id) => id !== jobId)].slice(0, MAX_REMEMBERED);
  try { localStorage.setItem(KEY, JSON.stringify(ids)); } catch { /* private mode: no history */ }
}

export function forget(jobId) {
  try { localStorage.setItem(KEY, JSON.stringify(rememberedIds().filter((id) => id !== jobId))); } catch { /* ignore */ }
}

// -- a job's state, whichever way it arrived ---------------------------------------------------
/** Merge a live update (WebSocket envelope data: `progress` a number) into the full record. */
export function merge(job, update) {
  if (!update) return job;
  const next = { ...job, ...update };
  if (typeof update.progress === "number") {
    const live = {};
    for (const key of ["downloaded_bytes", "total_bytes", "speed", "eta", "fragment_index", "fragment_count"]) {
      if (update[key] !== undefined) live[key] = update[key];
    }
    next.progress = { ...(job && job.progress), ...live, percent: update.progress };
  }
  if (update._live) {
    for (const key of ["files", "counts", "items", "zip_url", "error"]) {
      if (job && job[key] !== undefined && update[key] === undefined) next[key] = job[key];
    }
  }
  return next;
}

const STAGES = {
  initializing: "Starting", probing: "Looking at the link", expanding: "Listing the videos",
  downloading: "Downloading", postprocessing: "Converting", extracting_audio: "Extracting audio",
  waiting_for_items: "Downloading the videos", finalizing: "Finishing", done: "Done",
};
const STATUS = {
  pending: "Waiting", queued: "Waiting", processing: "Running",
  completed: "Finished", failed: "Failed", cancelled: "Cancelled",
};
const TERMINAL = new Set(["completed", "failed", "cancelled"]);

export const isDone = (job) => TERMINAL.has(job.status);
export const statusLabel = (status) => STATUS[status] || status;

function progressText(job) {
  const p = job.progress || {};
  const parts = [];
  // a download's message is its step in words ("Reading the page…", "Converting: merging…")
  if (job.status === "processing") parts.push((job.kind === "download" && job.message) || STAGES[job.stage] || job.stage);
  if (!isDone(job) && typeof p.percent === "number" && p.percent > 0) parts.push(`${Math.round(p.percent)}%`);
  if (job.status === "processing" && job.stage === "downloading" && p.downloaded_bytes) {
    parts.push(p.total_bytes ? `${formatBytes(p.downloaded_bytes)} of ${formatBytes(p.total_bytes)}` : formatBytes(p.downloaded_bytes));
  }
  if (job.status === "processing" && job.stage === "downloading" && p.speed) parts.push(`${formatBytes(p.speed)}/s`);
  if (job.status === "processing" && job.stage === "downloading" && p.eta !== null && p.eta !== undefined && p.eta > 0) parts.push(`${formatDuration(p.eta)} left`);
  if (job.counts && PARENTS.has(job.kind)) {
    const c = job.counts;
    const total = job.items_total || c.total || 0;
    if (total) parts.push(`${c.completed || 0} of ${total} done${c.failed ? `, ${c.failed} failed` : ""}`);
  }
  return parts.join(" · ");
}

function fileLink(file) {
  if (!file.url) return null;
  const label = file.role === "archive" ? `ZIP (${formatBytes(file.size)})` : `${file.name} (${formatBytes(file.size)})`;
  return h("a.button.small", { href: file.url, download: file.name, "data-file": file.role, title: `Download ${file.name}` }, label);
}

/** The download links of a job: its files, and a ZIP of a parent's finished items. */
export function fileLinks(job) {
  const files = job.files || [];
  const links = files.map(fileLink).filter(Boolean);
  const hasArchive = files.some((f) => f.role === "archive");
  const done = job.counts ? job.counts.completed || 0 : 0;
  if (PARENTS.has(job.kind) && done > 0 && !hasArchive && !filesDeleted(job)) {
    const href = job.zip_url || `/api/v1/jobs/${encodeURIComponent(job.id)}/zip`;
    links.push(h("a.button.small.primary", { href, download: "", "data-zip": "" }, `Download ZIP (${done} ${done === 1 ? "file" : "files"})`));
  }
  return links;
}

function itemRows(items) {
  return items.map((item) => h("li", { value: item.index || undefined },
    h("span", {}, item.title || item.url || item.id), " ",
    h("span.badge", { "data-status": item.status }, statusLabel(item.status)),
    item.error ? h("div.error-text", {}, sentenceFor(item.error.code, item.error.message)) : null,
    h("div.files", {}, (item.files || []).map(fileLink).filter(Boolean)),
  ));
}

const ITEMS_SHOWN = 200;

/**
 * A parent's items behind a disclosure. The job list carries only counts (a page of parents
 * would otherwise carry every item), so items not in hand load from `items_url` when opened;
 * the live card and the reloaded one look the same either way.
 */
function itemList(job, li) {
  const items = job.items || [];
  const total = job.items_total || (job.counts && job.counts.total) || items.length;
  if (!PARENTS.has(job.kind) || !total) return null;
  const list = h("ol", {}, itemRows(items));
  const details = h("details.job-items", { "data-items": "" }, h("summary", {}, `Items (${total})`), list);
  details.open = li.dataset.itemsOpen === "true";
  const fill = async () => {
    if (job.items || !job.items_url) return;
    try {
      const page = await api(`${job.items_url}?limit=${ITEMS_SHOWN}`);
      job.items = page.items; // kept on the record, so the next render has them
      list.replaceChildren(...itemRows(page.items));
    } catch { /* the summary still says how many */ }
  };
  details.addEventListener("toggle", () => {
    li.dataset.itemsOpen = String(details.open);
    if (details.open) fill();
  });
  if (details.open) fill();
  return details;
}

function deliveredNote(job) {
  const note = job.status === "completed" && job.result && job.result.delivered && job.result.delivered.note;
  return note ? h("p.hint", { "data-delivered": "" }, note) : null;
}

/**
 * Render (or re-render) a job card into `li`. `actions` = {onCancel, onRetry, onRemove} (optional).
 * Returns the li. Focus inside the card survives a re-render when the same button still exists.
 */
export function renderJob(li, job, actions = {}) {
  const focused = document.activeElement && li.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  const done = isDone(job);
  const percent = job.progress && typeof job.progress.percent === "number" ? job.progress.percent : 0;
  const title = job.title || job.url || "Download";
  const bar = h("div.bar", { role: "progressbar", "aria-label": `Progress of ${title}`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(percent)) }, h("span"));
  bar.firstChild.style.width = `${done && job.status === "completed" ? 100 : Math.max(0, Math.min(100, percent))}%`;
  if (!done && percent <= 0 && job.status === "processing") bar.dataset.indeterminate = "true";
  const buttons = [];
  if (!done && actions.onCancel) buttons.push(h("button.small.danger", { type: "button", "data-action": "cancel", onclick: () => actions.onCancel(job) }, "Cancel"));
  if ((job.status === "failed" || job.status === "cancelled") && actions.onRetry) buttons.push(h("button.small", { type: "button", "data-action": "retry", onclick: () => actions.onRetry(job) }, "Retry"));
  if (done && actions.onRemove) buttons.push(h("button.small", { type: "button", "data-action": "remove", "aria-label": `Remove ${title} from the queue`, onclick: () => actions.onRemove(job) }, "Remove"));
  const files = job.status === "completed" || PARENTS.has(job.kind) ? fileLinks(job) : [];
  const onKept = (fresh) => (actions.onKept ? actions.onKept(fresh) : renderJob(li, merge(job, fresh), actions));
  li.replaceChildren(...[
    h("div.job-head", {},
      h("span.job-title", {}, title),
      PARENTS.has(job.kind) ? h("span.badge", {}, job.kind) : null,
      h("span.badge", { "data-status": job.status, "data-job-status": "" }, statusLabel(job.status))),
    job.url && job.title ? h("div.job-url", {}, job.url) : null,
    done ? null : bar,
    h("div.job-meta", {}, h("span", { "data-progress-text": "" }, progressText(job)), job.created_at ? h("span", {}, formatTime(job.created_at)) : null),
    job.status === "failed" && job.error ? h("p.error-text", { "data-job-error": "" }, sentenceFor(job.error.code, job.error.message)) : null,
    retentionLine(job, { onKept }),
    files.length || buttons.length ? h("div.job-actions", {}, files, buttons) : null,
    deliveredNote(job),
    itemList(job, li),
  ].filter(Boolean)); // replaceChildren would write a null as "null"
  li.className = "job";
  li.dataset.jobId = job.id;
  li.dataset.status = job.status;
  if (focused) {
    const again = li.querySelector(`[data-action="${focused}"]`);
    if (again) again.focus();
  }
  return li;
}
