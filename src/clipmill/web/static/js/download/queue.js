// The queue under the paste bar (as MeTube's): the user's recent downloads, live progress
// through `follow()` (WebSocket, polling when there is none), cancel, retry, files and ZIPs.
import { api, follow, ApiError } from "../api.js";
import { requireSignIn } from "../shell.js";
import { h, notice } from "../ui.js";
import { DOWNLOAD_KINDS, errorSentence, isDone, merge, renderJob, sentenceFor } from "./jobs.js";

const HIDDEN_KEY = "clipmill.queue.hidden";
const PAGE = 10; // a page of the queue; "Show more" loads the next (older) one
const KINDS = [...DOWNLOAD_KINDS].join(",");

function hiddenIds() {
  try { return new Set(JSON.parse(localStorage.getItem(HIDDEN_KEY) || "[]")); } catch { return new Set(); }
}
function saveHidden(ids) {
  try { localStorage.setItem(HIDDEN_KEY, JSON.stringify([...ids].slice(-500))); } catch { /* ignore */ }
}

export class Queue {
  constructor({ list, empty, live, clear, more }) {
    this.list = list;
    this.empty = empty;
    this.live = live;
    this.clear = clear;
    this.more = more;
    this.jobs = new Map(); // id -> {job, li, stop, refreshTimer}
    this.offset = 0; // how many of the server's list (newest first) are loaded
    this.clear.addEventListener("click", () => this.clearFinished());
    this.more.addEventListener("click", () => this.load());
  }

  /** The next page of the user's downloads, older than what is shown. */
  async load() {
    let page;
    this.more.disabled = true;
    try {
      page = await api(`/api/v1/jobs?${new URLSearchParams({ type: KINDS, limit: String(PAGE), offset: String(this.offset) })}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return requireSignIn();
      notice(errorSentence(err), "error");
      return;
    } finally {
      this.more.disabled = false;
    }
    this.offset += page.items.length;
    const hidden = hiddenIds();
    for (const job of page.items) if (!hidden.has(job.id)) this.add(job, { quiet: true, older: true });
    this.more.hidden = !page.has_more;
    this.sync();
  }

  /** Show `job` at the top (or, `older`, at the bottom) and follow it until it ends. */
  add(job, { quiet = false, older = false } = {}) {
    if (this.jobs.has(job.id)) return;
    const entry = { job, li: h("li.job") };
    this.jobs.set(job.id, entry);
    if (older) this.list.append(entry.li);
    else {
      this.list.prepend(entry.li);
      this.offset += 1; // the server's list grew at the top: the next page starts one later
    }
    this.render(entry);
    if (!isDone(job)) this.watch(entry);
    if (!quiet) this.say(`Added to the queue: ${job.title || job.url || "download"}.`);
    this.sync();
  }

  watch(entry) {
    const parent = !["download"].includes(entry.job.kind);
    entry.stop = follow(entry.job.id, (update, err) => {
      if (err) {
        if (err.status === 401) requireSignIn();
        return;
      }
      const before = entry.job.status;
      entry.job = merge(entry.job, update);
      if (update && update._live && parent && !entry.refreshTimer) {
        // live envelopes carry the parent's progress only: fetch counts and items now and then
        entry.refreshTimer = setTimeout(async () => {
          entry.refreshTimer = null;
          try { entry.job = merge(entry.job, await api(`/api/v1/jobs/${encodeURIComponent(entry.job.id)}`)); this.render(entry); } catch { /* the next update will do */ }
        }, 2000);
      }
      this.render(entry);
      if (before !== entry.job.status && isDone(entry.job)) this.announce(entry.job);
    });
  }

  render(entry) {
    renderJob(entry.li, entry.job, {
      onCancel: (job) => this.cancel(job),
      onRetry: (job) => this.retry(job),
      onRemove: (job) => this.remove(job),
      onKept: (fresh) => { entry.job = merge(entry.job, fresh); this.render(entry); },
    });
  }

  announce(job) {
    const title = job.title || job.url || "The download";
    if (job.status === "completed") this.say(`Finished: ${title}.`);
    else if (job.status === "failed") this.say(`Failed: ${title}. ${job.error ? sentenceFor(job.error.code, job.error.message) : ""}`);
    else this.say(`Cancelled: ${title}.`);
    this.sync();
  }

  async cancel(job) {
    try {
      const answer = await api(`/api/v1/jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST", body: {} });
      const entry = this.jobs.get(job.id);
      if (entry) {
        const was = entry.job.status;
        entry.job = merge(entry.job, answer);
        this.render(entry);
        if (!isDone({ status: was }) && isDone(entry.job)) this.announce(entry.job);
      }
    } catch (err) {
      if (err.status === 401) return requireSignIn();
      notice(errorSentence(err), "error");
    }
  }

  async retry(job) {
    try {
      const answer = await api(`/api/v1/jobs/${encodeURIComponent(job.id)}/retry`, { method: "POST", body: {} });
      const entry = this.jobs.get(job.id);
      if (entry) {
        if (entry.stop) entry.stop();
        entry.job = merge(entry.job, answer);
        this.render(entry);
        this.watch(entry);
        this.say(`Retrying: ${job.title || job.url}.`);
      }
    } catch (err) {
      if (err.status === 401) return requireSignIn();
      notice(errorSentence(err), "error");
    }
  }

  remove(job) {
    const entry = this.jobs.get(job.id);
    if (!entry) return;
    if (entry.stop) entry.stop();
    const next = entry.li.nextElementSibling || entry.li.previousElementSibling;
    entry.li.remove();
    this.jobs.delete(job.id);
    const hidden = hiddenIds();
    hidden.add(job.id);
    saveHidden(hidden);
    const focusable = next && next.querySelector("button, a");
    if (focusable) focusable.focus();
    this.sync();
  }

  clearFinished() {
    for (const { job } of [...this.jobs.values()]) if (isDone(job)) this.remove(job);
    this.say("Finished downloads cleared from the queue. They are still in History.");
  }

  sync() {
    this.empty.hidden = this.jobs.size > 0;
    this.clear.hidden = ![...this.jobs.values()].some(({ job }) => isDone(job));
  }

  say(text) {
    this.live.textContent = text;
  }
}
