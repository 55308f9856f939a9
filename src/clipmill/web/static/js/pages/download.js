// The download page: paste bar -> preview (video, playlist/channel, or a batch of links) ->
// options -> Download; the queue below follows every job live.
import { api, ApiError, completeUrl } from "../api.js";
import { currentUser, requireSignIn } from "../shell.js";
import { $, h, notice, formatDuration, authMode } from "../ui.js";
import { errorSentence, remember } from "../download/jobs.js";
import { optionsForm } from "../download/options.js";
import { entriesPicker } from "../download/playlist.js";
import { Queue } from "../download/queue.js";
import { loadPreferences, localPreferences, savePreferences } from "../download/preferences.js";

const form = $("[data-paste-form]");
const textarea = $("#urls");
const previewButton = $("[data-preview-button]");
const status = $("[data-preview-status]");
const card = $("[data-preview]");
const queue = new Queue({ list: $("[data-queue]"), empty: $("[data-queue-empty]"), live: $("[data-queue-live]"), clear: $("[data-clear-finished]"), more: $("[data-queue-more]") });

let inflight = null; // AbortController of the running preview
let cookieFiles = null;
let remembered = localPreferences().download; // the account's copy replaces it once loaded

// one link a line (a link never holds a space; a line with spaces is still one entry)
// ("example.com/video" gets the https:// people leave out)
const links = () => [...new Set(textarea.value.split(/\n+/).map((s) => completeUrl(s.trim())).filter(Boolean))];

function setStatus(text, kind = "info", busy = false) {
  status.replaceChildren(busy ? h("span.spinner", { "aria-hidden": "true" }) : "", busy ? " " : "", text);
  status.dataset.kind = kind;
}

function fail(err) {
  if (err instanceof ApiError && err.status === 401) return requireSignIn();
  if (err && err.name === "AbortError") return;
  setStatus(err instanceof ApiError ? errorSentence(err) : err.message, "error");
}

async function cookies() {
  if (cookieFiles) return cookieFiles;
  try { cookieFiles = (await api("/api/v1/auth/cookies")).items || []; } catch { cookieFiles = []; }
  return cookieFiles;
}

const thumbnailSrc = (url) => `/api/v1/thumbnail?url=${encodeURIComponent(url)}`;

async function preview() {
  const urls = links();
  if (!urls.length) { setStatus("Paste a link first.", "error"); textarea.focus(); return; }
  if (inflight) inflight.abort();
  const controller = new AbortController();
  inflight = controller;
  card.hidden = true;
  notice("");
  if (urls.length > 1) { showBatch(urls); setStatus(`${urls.length} links: they download as one batch.`); return; }
  const [url] = urls;
  setStatus("Looking at the link…", "info", true);
  previewButton.disabled = true;
  try {
    // playlists=true: a playlist is an answer (is_playlist), not a 422 in the console
    const [info, files] = await Promise.all([api(`/api/v1/metadata?${new URLSearchParams({ url, playlists: "true" })}`, { signal: controller.signal }), cookies()]);
    if (controller !== inflight) return;
    if (info.is_playlist) { await showListing(url, controller); return; }
    showVideo(url, info, files);
    setStatus("");
  } catch (err) {
    if (controller !== inflight) return;
    // a feed posing as media is refused as a single video: list its entries instead
    if (err instanceof ApiError && err.code === "unsupported_media" && /playlist/i.test(err.message || "")) {
      await showListing(url, controller);
      return;
    }
    fail(err);
  } finally {
    if (controller === inflight) { inflight = null; previewButton.disabled = false; }
  }
}

async function showListing(url, controller) {
  try {
    setStatus("Listing the videos…", "info", true);
    const listing = await api(`/api/v1/playlist/preview?${new URLSearchParams({ url, limit: "50" })}`, { signal: controller.signal });
    if (controller !== inflight) return;
    showList(url, listing, await cookies());
    setStatus("");
  } catch (inner) { fail(inner); }
}

/** Paste + one click (as cobalt): the remembered audio format, or the best video, no preview. */
async function quick(kind) {
  const urls = links();
  if (!urls.length) { setStatus("Paste a link first.", "error"); textarea.focus(); return; }
  if (inflight) { inflight.abort(); inflight = null; previewButton.disabled = false; }
  const choices = kind === "audio"
    ? { quality: "audio", audio_format: remembered.audio_format, audio_bitrate: remembered.audio_format ? remembered.audio_bitrate : undefined }
    : { quality: "best", container: remembered.container };
  const body = Object.fromEntries(Object.entries(choices).filter(([, v]) => v));
  for (const button of quickButtons) button.disabled = true;
  try {
    const job = urls.length > 1
      ? await api("/api/v1/batch/download", { method: "POST", body: { urls, ...body } })
      : await api("/api/v1/download", { method: "POST", body: { url: urls[0], ...body } });
    await started(job);
  } catch (err) {
    fail(err);
  } finally {
    for (const button of quickButtons) button.disabled = false;
  }
}

/** Remember what this download was asked with (this browser and the account). */
function rememberChoices(options) {
  remembered = options.choices();
  savePreferences("download", remembered);
}

function downloadBar(onDownload, label = "Download") {
  const error = h("p.field-error", { role: "alert", "data-form-error": "" });
  const button = h("button.primary", { type: "submit", "data-download": "" }, label);
  const bar = h("div.actions", {}, button, h("button", { type: "button", onclick: closePreview }, "Close"));
  const wrap = h("form.stack", { novalidate: true }, bar, error);
  wrap.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    button.disabled = true;
    try {
      await onDownload();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { requireSignIn(); return; }
      error.textContent = err instanceof ApiError ? errorSentence(err) : err.message;
    } finally { button.disabled = false; }
  });
  return wrap;
}

function closePreview() {
  card.hidden = true;
  card.replaceChildren();
  textarea.focus();
}

async function started(job) {
  remember(job.id);
  queue.add(job);
  closePreview();
  textarea.value = "";
  autosize();
  notice("");
  setStatus(`Started: ${job.title || job.url}. Its progress is in the queue below.`, "ok");
  if (job.rejected && job.rejected.length) {
    notice(`${job.rejected.length} of the links were skipped: ${job.rejected.map((r) => `${r.url} (${errorSentence(new ApiError(0, r.error.code, r.error.message))})`).join("; ")}`, "error");
  }
}

function head(title, facts, thumbnail) {
  const img = thumbnail ? h("img.thumb", { src: thumbnailSrc(thumbnail), alt: "", loading: "lazy", "data-thumbnail": "" }) : h("div.thumb", { "aria-hidden": "true" });
  if (thumbnail) img.addEventListener("error", () => img.replaceWith(h("div.thumb", { "aria-hidden": "true" })));
  return h("div.preview", {}, img, h("div", {}, h("h2", { "data-preview-title": "" }, title), h("ul.facts", {}, facts.filter(Boolean).map((f) => h("li", {}, f)))));
}

function showVideo(url, info, files) {
  const date = info.upload_date && /^\d{8}$/.test(info.upload_date) ? `${info.upload_date.slice(0, 4)}-${info.upload_date.slice(4, 6)}-${info.upload_date.slice(6)}` : null;
  const options = optionsForm(info, { scope: "video", cookies: files, remembered });
  card.replaceChildren(...[
    head(info.title || url, [info.uploader, info.duration ? formatDuration(info.duration) : null, date, info.extractor && info.extractor !== "Generic" ? info.extractor : null], info.thumbnail),
    info.is_live ? h("p.error-text", {}, "This is a live stream; only finished videos can be downloaded.") : null,
    options,
    downloadBar(async () => {
      const job = await api("/api/v1/download", { method: "POST", body: { url, ...options.read() } });
      rememberChoices(options);
      await started(job);
    }),
  ].filter(Boolean));
  card.dataset.kind = "video";
  reveal();
}

function showList(url, listing, files) {
  const picker = entriesPicker(listing, url);
  const options = optionsForm(null, { scope: "parent", cookies: files, remembered });
  const count = listing.entry_count ?? listing.entries.length;
  card.replaceChildren(
    head(listing.title || url, [listing.uploader, `${count}${listing.has_more && listing.entry_count == null ? "+" : ""} videos`], null),
    picker.node,
    h("details.more", {}, h("summary", {}, "Quality and format for every video"), options),
    downloadBar(async () => {
      const { route, body } = picker.read();
      const job = await api(route, { method: "POST", body: { ...body, ...options.read() } });
      rememberChoices(options);
      await started(job);
    }),
  );
  card.dataset.kind = "list";
  reveal();
}

function showBatch(urls) {
  const options = optionsForm(null, { scope: "parent", cookies: cookieFiles || [], remembered });
  card.replaceChildren(
    h("h2", { "data-preview-title": "" }, `${urls.length} links`),
    h("ol.batch-list", {}, urls.map((u) => h("li", {}, u))),
    options,
    downloadBar(async () => {
      const job = await api("/api/v1/batch/download", { method: "POST", body: { urls, ...options.read() } });
      rememberChoices(options);
      await started(job);
    }, `Download ${urls.length} links`),
  );
  card.dataset.kind = "batch";
  reveal();
}

function reveal() {
  card.hidden = false;
  const heading = card.querySelector("h2");
  if (heading) { heading.tabIndex = -1; }
}

function autosize() {
  textarea.rows = Math.min(8, Math.max(1, textarea.value.split("\n").length));
}

form.addEventListener("submit", (event) => { event.preventDefault(); preview(); });
const quickButtons = [...form.querySelectorAll("[data-quick]")];
for (const button of quickButtons) button.addEventListener("click", () => quick(button.dataset.quick));
textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); preview(); }
});
textarea.addEventListener("input", autosize);
textarea.addEventListener("paste", () => {
  // preview as soon as a link lands (cobalt-like); several lines wait for Enter
  setTimeout(() => { autosize(); if (links().length === 1 && /^https?:\/\//i.test(links()[0])) preview(); }, 0);
});

async function start() {
  if (authMode() !== "none" && !(await currentUser())) { requireSignIn(); return; }
  loadPreferences().then((prefs) => { remembered = prefs.download; });
  const shared = new URLSearchParams(location.search).get("url");
  if (shared) {
    textarea.value = shared;
    autosize();
    preview();
  }
  await queue.load();
}

start();
