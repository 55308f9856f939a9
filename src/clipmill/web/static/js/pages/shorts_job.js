// A shorts job: its stages live (WebSocket, or polling), cancel/retry, then the clip gallery.
import { ApiError, api, follow, isTerminal } from "../api.js";
import { requireSignIn } from "../shell.js";
import { $, h, notice, setProgress } from "../ui.js";
import { clipCard } from "../shorts/clipcard.js";
import { etaOf, percentOf, stageName, stepper } from "../shorts/stages.js";
import { retentionLine } from "../download/retention.js";

const root = $("[data-shorts-job]");
const jobId = root.dataset.jobId;
const steps = stepper("Stages of this job");
$("[data-stepper-slot]").replaceWith(steps.element);

let job = { id: jobId, kind: "shorts", status: "queued", stage: "initializing", progress: 0 };
let stop = null;
let shownClips = null; // the clips the gallery shows, to redraw only on a change
const renders = new Map(); // render job id -> stop following

const STATUS_WORDS = {
  pending: "Waiting to start.",
  queued: "Waiting for a free worker.",
  completed: "Done.",
  cancelled: "Cancelled.",
  failed: "Stopped by an error.",
};

/** "About 4 min left", from the server's estimate (none for the first seconds). */
function timeLeft(current) {
  const eta = etaOf(current);
  if (eta === null) return "";
  return eta < 60 ? " Less than a minute left." : ` About ${Math.round(eta / 60)} min left.`;
}

function describe(current) {
  if (current.status === "processing") {
    const message = current.message ? ` ${current.message}` : "";
    return `${stageName(current.stage)}: ${Math.round(percentOf(current))} % overall.${message}${timeLeft(current)}`;
  }
  const clips = current.generated_clips || [];
  const failed = clips.filter((c) => c.status === "failed").length;
  if (current.status === "completed" && failed) {
    const made = clips.length - failed;
    return `Done: ${made} of ${clips.length} clips rendered; ${failed === 1 ? "one" : failed} did not (see below to render ${failed === 1 ? "it" : "them"} again).`;
  }
  return STATUS_WORDS[current.status] || current.status;
}

function errorSentence(current) {
  const error = current.error;
  if (!error) return "";
  return new ApiError(0, error.code, error.message).sentence;
}

function draw() {
  steps.update(job);
  const status = $("[data-job-status]");
  const text = describe(job);
  if (status.textContent !== text) status.textContent = text;
  const bar = $("[data-job-progress]");
  setProgress(bar, job.status === "completed" ? 100 : percentOf(job));
  bar.hidden = isTerminal(job.status);
  const error = $("[data-job-error]");
  error.textContent = job.status === "failed" ? errorSentence(job) : "";
  error.hidden = !error.textContent;
  $("[data-cancel]").hidden = isTerminal(job.status);
  $("[data-retry]").hidden = !(job.status === "failed" || job.status === "cancelled");
  root.dataset.status = job.status;
  if (job.video_title || job.title) {
    const title = job.video_title || job.title;
    $("[data-job-title]").textContent = title;
    document.title = `${title} · clipmill`;
  }
  const source = job.youtube_url || job.url;
  $("[data-job-source]").textContent = source ? `From ${source}` : (job.kind === "transcribe" ? "Transcript of an uploaded file" : "From an uploaded file");
  if (job.status === "completed" && job.generated_clips !== undefined) drawResults();
  drawRetention();
}

/** "Kept until" / "Deleted on" under the progress card, with "Keep longer". */
function drawRetention() {
  let slot = $("[data-retention-slot]");
  if (!slot) {
    slot = h("div", { "data-retention-slot": "" });
    $("[data-progress-card]").after(slot);
  }
  const line = retentionLine(job, { onKept: (fresh) => { job = { ...job, ...fresh }; shownClips = null; draw(); } });
  slot.replaceChildren(...(line ? [line] : []));
}

function drawResults() {
  const files = job.transcript_files || {};
  const links = Object.entries(files).filter(([, url]) => url);
  $("[data-transcript-files]").hidden = !links.length;
  $("[data-transcript-links]").replaceChildren(...links.map(([format, url]) =>
    h("a.button.small", { href: url, download: "" }, format.toUpperCase())));
  if (job.kind !== "shorts") return;
  const clips = job.generated_clips || [];
  const key = JSON.stringify(clips.map((c) => [c.clip_id, c.revision, c.title, c.status, c.assets && c.assets.video_url, renders.size]));
  if (key === shownClips) return;
  shownClips = key;
  $("[data-clips]").hidden = false;
  $("[data-clips-empty]").hidden = clips.length > 0;
  const note = $("[data-clips-note]"); // why fewer clips than asked
  if (note) {
    note.textContent = (job.analysis_results && job.analysis_results.note) || "";
    note.hidden = !note.textContent;
  }
  const rendering = new Set([...renders.values()].map((r) => r.clipId));
  // an <article> may not take role=listitem: each card sits in a list item of its own
  $("[data-gallery]").replaceChildren(...clips.map((clip) =>
    h("div.gallery-item", { role: "listitem" }, clipCard(jobId, clip, { rendering: rendering.has(clip.clip_id), onRenderAgain: renderAgain }))));
}

function onUpdate(update, err) {
  if (err) {
    if (err.status === 401) return requireSignIn();
    if (err.status === 404) {
      stopAll();
      root.removeAttribute("aria-busy");
      $("[data-job-status]").textContent = "";
      notice(err.sentence, "error");
      return;
    }
    notice(err.sentence, "error"); // polling goes on; the next answer clears it
    return;
  }
  notice("");
  job = { ...job, ...update };
  root.removeAttribute("aria-busy");
  draw();
  if (job.status === "completed") watchRenders();
}

function stopAll() {
  if (stop) stop();
  stop = null;
}

function start() {
  stopAll();
  stop = follow(jobId, onUpdate);
}

/** "Render again" on a failed clip: the clip editor's re-render with the clip's own span. */
async function renderAgain(clip, button) {
  button.disabled = true;
  button.textContent = "Rendering…";
  try {
    await api(`/api/v1/jobs/${encodeURIComponent(jobId)}/clips/${encodeURIComponent(clip.clip_id)}`, {
      method: "PATCH", body: { start_time: clip.start_time, end_time: clip.end_time },
    });
    notice(`Rendering “${clip.title}” again.`, "ok");
    watchRenders.done = false;
    watchRenders();
  } catch (err) {
    if (err.status === 401) return requireSignIn();
    button.disabled = false;
    button.textContent = "Render again";
    notice(err.sentence, "error");
  }
}

/** Clips being rendered again (edited in the editor): follow those jobs, then reload. */
async function watchRenders() {
  if (watchRenders.done) return;
  watchRenders.done = true;
  try {
    const page = await api(`/api/v1/jobs?parent_id=${encodeURIComponent(jobId)}&type=render&limit=50`);
    for (const render of page.items) {
      if (isTerminal(render.status) || renders.has(render.id)) continue;
      const clipId = render.options && render.options.clip && render.options.clip.clip_id;
      const entry = { clipId, stop: null };
      renders.set(render.id, entry);
      entry.stop = follow(render.id, (update) => {
        if (update && isTerminal(update.status)) {
          entry.stop();
          renders.delete(render.id);
          if (update.status === "failed") notice("A clip did not render again; its card says why.", "error");
          api(`/api/v1/jobs/${encodeURIComponent(jobId)}`).then((fresh) => onUpdate(fresh)).catch(() => {});
        }
      });
    }
    if (renders.size) { shownClips = null; drawResults(); }
  } catch {
    // the gallery stands without the re-render badges
  }
}

async function act(action) {
  try {
    const fresh = await api(`/api/v1/jobs/${encodeURIComponent(jobId)}/${action}`, { method: "POST", body: {} });
    job = { ...job, ...fresh };
    draw();
    notice(action === "cancel" ? "Cancelled." : "Retrying.", "ok");
    if (action === "retry") {
      shownClips = null;
      watchRenders.done = false;
      start();
    }
  } catch (err) {
    if (err.status === 401) return requireSignIn();
    notice(err.sentence, "error");
  }
}

$("[data-cancel]").addEventListener("click", () => act("cancel"));
$("[data-retry]").addEventListener("click", () => act("retry"));
start();
