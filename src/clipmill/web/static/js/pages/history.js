// History: the user's past jobs (the server's list), searchable by title or link, filtered by
// status, and "this browser only" (job ids this browser started, kept in localStorage).
import { api, ApiError } from "../api.js";
import { requireSignIn } from "../shell.js";
import { $, h, notice } from "../ui.js";
import { DOWNLOAD_KINDS, errorSentence, forget, rememberedIds, renderJob } from "../download/jobs.js";

const filters = $("[data-history-filters]");
const search = $("#history-search");
const statusSelect = $("#history-status");
const localOnly = $("[data-local-only]");
const list = $("[data-history]");
const count = $("[data-history-count]");
const more = $("[data-history-more]");

const PAGE = 100;
let jobs = new Map(); // id -> job, newest first by created_at
let offset = 0;
let hasMore = false;

async function loadPage() {
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (statusSelect.value) params.set("status", statusSelect.value);
  const page = await api(`/api/v1/jobs?${params}`);
  for (const job of page.items) if (DOWNLOAD_KINDS.has(job.kind) || job.kind === "shorts" || job.kind === "transcribe") jobs.set(job.id, job);
  offset += page.items.length;
  hasMore = page.has_more;
}

/** Jobs this browser started that the loaded pages do not hold yet. */
async function loadRemembered() {
  const missing = rememberedIds().filter((id) => !jobs.has(id)).slice(0, 50);
  await Promise.all(missing.map(async (id) => {
    try { jobs.set(id, await api(`/api/v1/jobs/${encodeURIComponent(id)}`)); } catch (err) {
      if (err instanceof ApiError && err.status === 404) forget(id); // deleted, or another user's
    }
  }));
}

function matches(job, words, mine) {
  if (mine && !mine.has(job.id)) return false;
  if (statusSelect.value && job.status !== statusSelect.value) return false;
  const text = `${job.title || ""} ${job.url || ""}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

function render() {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  const mine = localOnly.checked ? new Set(rememberedIds()) : null;
  const shown = [...jobs.values()]
    .filter((job) => matches(job, words, mine))
    .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  list.replaceChildren(...shown.map((job) => {
    const li = renderJob(h("li"), job, { onKept: (fresh) => { jobs.set(job.id, { ...job, ...fresh }); render(); } });
    if (job.kind === "shorts" || job.kind === "transcribe") {
      li.append(h("a.button.small", { href: `/shorts/${encodeURIComponent(job.id)}` }, "Open in Shorts"));
    }
    return li;
  }));
  const total = jobs.size;
  count.textContent = shown.length
    ? `${shown.length} of ${total}${hasMore ? "+" : ""} jobs shown.`
    : total ? "No job matches. Change the search or the filters." : "No jobs yet. Downloads you start show up here.";
  more.hidden = !hasMore || localOnly.checked;
}

async function reload() {
  jobs = new Map();
  offset = 0;
  try {
    await loadPage();
    if (localOnly.checked) await loadRemembered();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return requireSignIn();
    notice(errorSentence(err), "error");
  }
  render();
}

const params = new URLSearchParams(location.search);
if (params.get("q")) search.value = params.get("q");
if (params.get("local") === "1") localOnly.checked = true;

filters.addEventListener("submit", (event) => event.preventDefault());
search.addEventListener("input", render);
statusSelect.addEventListener("change", reload);
localOnly.addEventListener("change", async () => {
  if (localOnly.checked) await loadRemembered();
  render();
});
more.addEventListener("click", async () => {
  more.disabled = true;
  try { await loadPage(); } catch (err) { notice(errorSentence(err), "error"); }
  more.disabled = false;
  render();
});

reload();
