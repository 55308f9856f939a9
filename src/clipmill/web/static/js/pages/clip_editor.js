// The clip editor: pick the clip's words in the transcript, correct misheard words, restyle the
// clip, render it again.
import { ApiError, api, follow, isTerminal } from "../api.js";
import { requireSignIn } from "../shell.js";
import { $, $$, h, notice, setProgress } from "../ui.js";
import { aspectChoices, captionChoices, checkedValues } from "../shorts/captions.js";
import { player, renditionsOf } from "../shorts/clipcard.js";
import { wordPicker } from "../shorts/picker.js";
import { percentOf, stageName } from "../shorts/stages.js";

const root = $("[data-clip-editor]");
const jobId = root.dataset.jobId;
let clipId = root.dataset.clipId;
const jobPath = `/api/v1/jobs/${encodeURIComponent(jobId)}`;
const form = $("[data-edit-form]");
const CONTEXT_SECONDS = 45; // transcript shown before and after the clip

let job = null;
let clip = null;
let picker = null;
let rendition = null; // the rendition in the preview
let stopFollowing = null;
let stopAt = null; // "play the selection" pauses here (seconds of the rendition)
let initial = null; // the words first selected: an edge the user did not move keeps its time

const seconds = (value) => {
  const minutes = Math.floor(value / 60);
  const rest = (value - minutes * 60).toFixed(2).padStart(5, "0");
  return `${minutes}:${rest}`;
};

function editError(message) {
  const box = $("[data-edit-error]");
  box.textContent = message || "";
  box.hidden = !message;
}

function failed(err) {
  if (err && err.status === 401) return requireSignIn();
  editError(err ? (err.sentence || err.message) : "");
}

// -- the preview ------------------------------------------------------------------------------
function preview(next) {
  rendition = next;
  const frame = $("[data-preview]");
  if (!next || !next.video_url) {
    frame.replaceChildren(h("p.muted.clip-missing", {}, "This clip's video is no longer kept."));
    return;
  }
  const video = player(next, `Preview of ${clip.title}`);
  video.dataset.preview = "true";
  video.addEventListener("timeupdate", () => {
    if (stopAt !== null && video.currentTime >= stopAt) {
      video.pause();
      stopAt = null;
    }
  });
  frame.replaceChildren(video);
}

function drawShapes() {
  const renditions = renditionsOf(clip);
  const box = $("[data-preview-shapes]");
  box.hidden = renditions.length < 2;
  box.replaceChildren(...renditions.map((r) => h("button.small", {
    type: "button", "aria-pressed": String(rendition && r.aspect_ratio === rendition.aspect_ratio),
    onclick: () => { preview(r); drawShapes(); },
  }, r.aspect_ratio)));
}

/** The chosen span in seconds: a moved edge is its word's edge; an edge left alone keeps the
 * clip's own time (the planner's ends need not be word ends). */
function chosen() {
  const span = picker && picker.span();
  if (!span || !clip || !initial) return span;
  return {
    start: span.startIndex === initial.startIndex ? clip.start_time : span.start,
    end: span.endIndex === initial.endIndex ? clip.end_time : span.end,
    startIndex: span.startIndex,
    endIndex: span.endIndex,
  };
}

/** The selection as times of the preview's video (which starts at the clip's start), or null
 * when the selection reaches outside what that video shows. */
function selectionInPreview() {
  const span = chosen();
  if (!span || !clip) return null;
  if (span.start < clip.start_time - 0.05 || span.end > clip.end_time + 0.05) return null;
  return { from: Math.max(0, span.start - clip.start_time), to: span.end - clip.start_time };
}

function seekPreview() {
  const video = $("video[data-preview]");
  const inside = selectionInPreview();
  const note = $("[data-preview-note]");
  if (!inside) {
    note.textContent = "The selection reaches outside this clip's video; re-render to see it.";
    return;
  }
  note.textContent = "";
  if (video && video.readyState >= 1) video.currentTime = inside.from;
}

$("[data-play-span]").addEventListener("click", () => {
  const video = $("video[data-preview]");
  const inside = selectionInPreview();
  if (!video) return;
  if (!inside) return seekPreview();
  video.currentTime = inside.from;
  stopAt = inside.to;
  video.play().catch(() => {});
});

// -- the span ---------------------------------------------------------------------------------
function showSpan(span) {
  const box = $("[data-span-times]");
  if (!span) {
    box.textContent = "";
    return;
  }
  box.replaceChildren(
    h("span", {}, "Start ", h("strong", { "data-start-time": span.start }, seconds(span.start))),
    " · ",
    h("span", {}, "End ", h("strong", { "data-end-time": span.end }, seconds(span.end))),
    " · ",
    h("span", {}, `${(span.end - span.start).toFixed(1)} s`));
}

const MODE_TEXT = {
  start: "A click on a word makes it the first word of the clip.",
  end: "A click on a word makes it the last word of the clip.",
  fix: "A click on a word lets you correct it.",
};

function setModeButtons(mode) {
  for (const button of $$("[data-mode]")) button.setAttribute("aria-pressed", String(button.dataset.mode === mode));
  $("[data-mode-text]").textContent = MODE_TEXT[mode] || "";
}
for (const button of $$("[data-mode]")) button.addEventListener("click", () => picker && picker.setMode(button.dataset.mode));

/** Save a corrected word; the clips that show it render again (this one followed here).
 * Resolves to the word as stored; rejects (after saying why) so the field stays open. */
async function correctWord(word, text) {
  editError("");
  let fix;
  try {
    fix = await api(`${jobPath}/transcript/words/${encodeURIComponent(word.index)}`, { method: "PATCH", body: { text } });
  } catch (err) {
    failed(err);
    throw err;
  }
  const mine = fix.clips.find((change) => change.clip.clip_id === clipId);
  const others = fix.clips.length - (mine ? 1 : 0);
  const elsewhere = others ? ` ${others} other clip${others > 1 ? "s" : ""} showing it ${others > 1 ? "are" : "is"} rendering again too.` : "";
  root.dataset.corrections = String(Number(root.dataset.corrections || 0) + 1);
  if (!mine) {
    notice(`"${fix.previous_text}" now reads "${fix.word.text}".${elsewhere}`, "ok");
    return fix.word;
  }
  const titleField = $("#clip-title");
  if (titleField.value === clip.title) titleField.value = mine.clip.title; // keep a title being typed
  clip = { ...clip, title: mine.clip.title, transcript_segment: mine.clip.transcript_segment };
  $("[data-clip-heading]").textContent = clip.title;
  notice(`"${fix.previous_text}" now reads "${fix.word.text}"; rendering this clip's captions again.${elsewhere}`, "ok");
  busy(true);
  followRender(mine.render_job_id, "Rendering with the corrected word", async () => {
    try {
      await reloadClip();
      reselect();
      $("[data-render-text]").textContent = "The corrected version is ready.";
      notice("The corrected version is ready.", "ok");
    } catch (err) { failed(err); }
  });
  return fix.word;
}

async function loadWords() {
  const box = $("[data-transcript]");
  const from = Math.max(0, clip.start_time - CONTEXT_SECONDS);
  const to = clip.end_time + CONTEXT_SECONDS;
  try {
    const transcript = await api(`${jobPath}/transcript?start=${from.toFixed(3)}&end=${to.toFixed(3)}`);
    picker = wordPicker(box, transcript.words, {
      onChange: () => { showSpan(chosen()); seekPreview(); },
      onModeChange: setModeButtons,
      onCorrect: correctWord,
    });
    reselect();
  } catch (err) {
    if (err.status === 401) return requireSignIn();
    box.replaceChildren(h("p.muted", {}, err.sentence));
    for (const button of [$("[data-add-clip]"), $("[data-play-span]")]) button.disabled = true;
  }
}

function reselect() {
  if (!picker) return;
  picker.select(clip.start_time, clip.end_time);
  initial = picker.span();
  showSpan(chosen());
}

// -- the form ---------------------------------------------------------------------------------
function jobDefaults() {
  const shorts = (job.options && job.options.shorts) || {};
  return { caption_style: shorts.caption_style || "bold", aspect_ratios: shorts.aspect_ratios || ["9:16"] };
}

function effective() {
  const defaults = jobDefaults();
  const rendered = renditionsOf(clip).map((r) => r.aspect_ratio).filter(Boolean);
  return {
    caption_style: clip.caption_style || defaults.caption_style,
    aspect_ratios: clip.aspect_ratios || (rendered.length ? rendered : defaults.aspect_ratios),
  };
}

function drawForm() {
  const now = effective();
  $("#clip-title").value = clip.title;
  $("[data-caption-styles], [data-slot=captions]").replaceWith(captionChoices("caption_style", now.caption_style));
  $("[data-aspect-ratios], [data-slot=aspects]").replaceWith(aspectChoices("aspect_ratios", now.aspect_ratios));
}

function changes() {
  const body = {};
  const span = chosen();
  if (span && Math.abs(span.start - clip.start_time) > 0.001) body.start_time = span.start;
  if (span && Math.abs(span.end - clip.end_time) > 0.001) body.end_time = span.end;
  const title = $("#clip-title").value.trim();
  if (title && title !== clip.title) body.title = title;
  const now = effective();
  const style = checkedValues(form, "caption_style")[0];
  if (style && style !== now.caption_style) body.caption_style = style;
  const shapes = checkedValues(form, "aspect_ratios");
  if ([...shapes].sort().join() !== [...now.aspect_ratios].sort().join()) body.aspect_ratios = shapes;
  return body;
}

function busy(on) {
  for (const button of [$("[data-rerender]"), $("[data-add-clip]"), $("[data-delete-clip]")]) button.disabled = on;
  form.setAttribute("aria-busy", String(on));
}

/** Follow a render job; `done(job)` when it has finished well. */
function followRender(renderId, label, done) {
  const box = $("[data-render]");
  const text = $("[data-render-text]");
  const bar = $("[data-render-progress]");
  box.hidden = false;
  bar.hidden = false;
  setProgress(bar, 0);
  text.textContent = `${label}: waiting for a worker.`;
  if (stopFollowing) stopFollowing();
  let last = "";
  stopFollowing = follow(renderId, (update, err) => {
    if (err) {
      if (err.status === 401) return requireSignIn();
      text.textContent = err.sentence;
      return;
    }
    const percent = percentOf(update);
    if (update.status === "processing") {
      setProgress(bar, percent);
      const line = `${label}: ${stageName(update.stage)}, ${Math.round(percent)} %.`;
      if (line !== last) text.textContent = last = line;
    }
    if (!isTerminal(update.status)) return;
    stopFollowing();
    stopFollowing = null;
    bar.hidden = true;
    busy(false);
    if (update.status === "completed") done(update);
    else {
      text.textContent = "";
      const error = update.error || {};
      editError(update.status === "cancelled" ? "The render was cancelled." : new ApiError(0, error.code, error.message || "The render failed.").sentence);
    }
  });
}

async function reloadClip() {
  job = await api(jobPath);
  const fresh = (job.generated_clips || []).find((c) => c.clip_id === clipId);
  if (!fresh) throw new ApiError(404, "not_found", "This clip is gone.");
  clip = fresh;
  $("[data-clip-heading]").textContent = clip.title;
  document.title = `Edit ${clip.title} · clipmill`;
  root.dataset.revision = String(clip.revision ?? 0);
  const renditions = renditionsOf(clip);
  const keep = rendition && renditions.find((r) => r.aspect_ratio === rendition.aspect_ratio);
  preview(keep || renditions[0]);
  drawShapes();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  editError("");
  const body = changes();
  if (!Object.keys(body).length) {
    notice("Nothing has changed yet: pick other words, a style or a shape.", "info");
    return;
  }
  if (body.aspect_ratios && !body.aspect_ratios.length) return editError("Pick at least one shape.");
  busy(true);
  try {
    const change = await api(`${jobPath}/clips/${encodeURIComponent(clipId)}`, { method: "PATCH", body });
    showSpan({ start: change.clip.start_time, end: change.clip.end_time });
    if (!change.render_job_id) {
      busy(false);
      await reloadClip();
      notice("Saved.", "ok");
      return;
    }
    followRender(change.render_job_id, "Rendering the new version", async () => {
      try {
        await reloadClip();
        drawForm();
        reselect();
        $("[data-render-text]").textContent = "The new version is ready.";
        notice("The new version is ready.", "ok");
      } catch (err) { failed(err); }
    });
  } catch (err) {
    busy(false);
    failed(err);
  }
});

$("[data-add-clip]").addEventListener("click", async () => {
  editError("");
  const span = chosen();
  if (!span) return;
  const shapes = checkedValues(form, "aspect_ratios");
  if (!shapes.length) return editError("Pick at least one shape.");
  busy(true);
  try {
    const change = await api(`${jobPath}/clips`, {
      method: "POST",
      body: { start_time: span.start, end_time: span.end, caption_style: checkedValues(form, "caption_style")[0], aspect_ratios: shapes },
    });
    const added = change.clip;
    followRender(change.render_job_id, `Rendering the new clip "${added.title}"`, () => {
      const text = $("[data-render-text]");
      text.replaceChildren("The new clip is ready: ",
        h("a", { href: `/shorts/${encodeURIComponent(jobId)}/clips/${encodeURIComponent(added.clip_id)}` }, `edit "${added.title}"`), ".");
      notice("The new clip is ready.", "ok");
    });
  } catch (err) {
    busy(false);
    failed(err);
  }
});

// Deleting asks once more, inline (no browser dialog).
const deleteButton = $("[data-delete-clip]");
let confirmRow = null;
deleteButton.addEventListener("click", () => {
  if (confirmRow) return;
  confirmRow = h("div.confirm.row", { role: "group", "aria-label": "Confirm deletion" },
    h("span", {}, "Delete this clip and its files?"),
    h("button.danger.small", { type: "button", "data-confirm-delete": true, onclick: async () => {
      try {
        await api(`${jobPath}/clips/${encodeURIComponent(clipId)}`, { method: "DELETE" });
        location.assign(`/shorts/${encodeURIComponent(jobId)}`);
      } catch (err) { failed(err); }
    } }, "Delete"),
    h("button.small", { type: "button", onclick: () => { confirmRow.remove(); confirmRow = null; deleteButton.focus(); } }, "Keep it"));
  form.append(confirmRow);
  confirmRow.querySelector("[data-confirm-delete]").focus();
});

async function main() {
  try {
    await reloadClip();
  } catch (err) {
    if (err.status === 401) return requireSignIn();
    root.removeAttribute("aria-busy");
    notice(err.status === 404 ? "This clip isn't here any more (or it isn't yours)." : err.sentence, "error");
    form.hidden = true;
    return;
  }
  drawForm();
  await loadWords();
  root.removeAttribute("aria-busy");
  root.dataset.ready = "true";
}

main();
