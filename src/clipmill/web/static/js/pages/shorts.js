// The shorts studio: start a job from a link or a file, and follow the user's shorts jobs.
import { api, upload, isTerminal } from "../api.js";
import { currentUser, requireSignIn } from "../shell.js";
import { $, h, notice, formatBytes, formatTime, setProgress, authMode } from "../ui.js";
import { loadPreferences, localPreferences, savePreferences } from "../download/preferences.js";
import { aspectChoices, captionChoices, checkedValues } from "../shorts/captions.js";
import { percentOf, stageName } from "../shorts/stages.js";

const form = $("[data-studio]");
const fileInput = $("[data-file]");
const dropzone = $("[data-dropzone]");
const formError = $("[data-form-error]");
let chosenFile = null;

$("[data-slot=aspects]").replaceWith(aspectChoices("aspect_ratios", ["9:16"]));
$("[data-slot=captions]").replaceWith(captionChoices("caption_style", "bold"));

// -- the options used last time (this browser at once, the account's copy when it is newer) ---
const REMEMBERED_FIELDS = { min_clip_duration: "#shorts-min", max_clip_duration: "#shorts-max", max_clips: "#shorts-count", resolution: "#shorts-resolution", framing: "#shorts-framing" };

function applyRemembered(prefs) {
  for (const [key, selector] of Object.entries(REMEMBERED_FIELDS)) {
    const control = $(selector);
    const value = prefs[key];
    if (!control || value === undefined || value === null) continue;
    if (control.tagName === "SELECT" && ![...control.options].some((o) => o.value === String(value))) continue;
    control.value = String(value);
  }
  if (Array.isArray(prefs.aspect_ratios) && prefs.aspect_ratios.length) {
    const boxes = [...form.querySelectorAll('input[name="aspect_ratios"]')];
    if (boxes.some((box) => prefs.aspect_ratios.includes(box.value))) {
      for (const box of boxes) box.checked = prefs.aspect_ratios.includes(box.value);
    }
  }
  const style = prefs.caption_style && form.querySelector(`input[name="caption_style"][value="${CSS.escape(prefs.caption_style)}"]`);
  if (style) style.checked = true;
}

function rememberOptions(options) {
  const chosen = {};
  for (const key of [...Object.keys(REMEMBERED_FIELDS), "aspect_ratios", "caption_style"]) {
    chosen[key] = typeof options[key] === "number" ? Math.round(options[key]) : options[key];
  }
  savePreferences("shorts", chosen);
}

applyRemembered(localPreferences().shorts);
const signedIn = authMode() === "none" ? Promise.resolve(true) : currentUser().then(Boolean);
signedIn.then((yes) => yes && loadPreferences().then((prefs) => applyRemembered(prefs.shorts)));

function showError(message) {
  formError.textContent = message || "";
  formError.hidden = !message;
}

function chooseFile(file) {
  chosenFile = file || null;
  const name = $("[data-file-name]");
  name.textContent = file ? `${file.name} (${formatBytes(file.size)})` : "";
  name.hidden = !file;
  $("[data-clear-file]").hidden = !file;
  dropzone.dataset.chosen = file ? "true" : "false";
}

fileInput.addEventListener("change", () => chooseFile(fileInput.files[0]));
$("[data-clear-file]").addEventListener("click", () => {
  fileInput.value = "";
  chooseFile(null);
  fileInput.focus();
});
for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.dataset.over = "true";
  });
}
for (const type of ["dragleave", "drop"]) {
  dropzone.addEventListener(type, () => { dropzone.dataset.over = "false"; });
}
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  const file = event.dataTransfer && event.dataTransfer.files[0];
  if (file) chooseFile(file);
});

/** The options block from the form; a sentence when something is off. */
function readOptions() {
  const data = new FormData(form);
  const min = Number(data.get("min_clip_duration"));
  const max = Number(data.get("max_clip_duration"));
  const count = Number(data.get("max_clips"));
  if (!(min >= 3 && max >= 5)) throw new Error("Clips last at least 3 seconds; the longest at least 5.");
  if (min > max) throw new Error("The shortest clip length must not be above the longest.");
  if (!(count >= 1 && count <= 50)) throw new Error("Ask for 1 to 50 clips.");
  const aspects = checkedValues(form, "aspect_ratios");
  if (!aspects.length) throw new Error("Pick at least one shape.");
  const language = String(data.get("language") || "").trim().toLowerCase();
  if (language && !/^[a-z]{2,3}$/.test(language)) throw new Error("The language is two letters, such as en, or empty.");
  const options = {
    min_clip_duration: min,
    max_clip_duration: max,
    clip_duration: Math.min(Math.max(30, min), max),
    max_clips: count,
    aspect_ratios: aspects,
    caption_style: checkedValues(form, "caption_style")[0] || "bold",
    resolution: data.get("resolution"),
    framing: data.get("framing"),
  };
  if (language) options.language = language;
  return { job_type: data.get("job_type"), options };
}

async function start(event) {
  event.preventDefault();
  showError("");
  const button = $("[data-start]");
  let spec;
  try {
    spec = readOptions();
  } catch (err) {
    showError(err.message);
    return;
  }
  rememberOptions(spec.options);
  const url = $("#shorts-url").value.trim();
  if (!chosenFile && !url) {
    showError("Paste a link or choose a file first.");
    $("#shorts-url").focus();
    return;
  }
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    let job;
    if (chosenFile) {
      const box = $("[data-upload]");
      const bar = $("[data-upload-progress]");
      const text = $("[data-upload-text]");
      box.hidden = false;
      setProgress(bar, 0);
      const body = new FormData();
      body.append("job_type", spec.job_type);
      body.append("options", JSON.stringify(spec.options));
      body.append("file", chosenFile, chosenFile.name);
      let shown = -10;
      job = await upload("/api/v1/jobs/upload", body, (fraction) => {
        setProgress(bar, fraction * 100);
        const percent = Math.round(fraction * 100);
        if (percent - shown >= 10 || percent === 100) { // a live region that speaks less often
          shown = percent;
          text.textContent = `${percent} % of ${formatBytes(chosenFile.size)}`;
        }
      });
      setProgress(bar, 100);
      text.textContent = "Uploaded.";
    } else {
      job = await api("/api/v1/jobs", { method: "POST", body: { youtube_url: url, ...spec } });
    }
    notice("Started. Following the job…", "ok");
    location.assign(`/shorts/${encodeURIComponent(job.id)}`);
  } catch (err) {
    if (err.status === 401) return requireSignIn();
    showError(err.sentence || err.message);
    $("[data-upload]").hidden = true;
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

form.addEventListener("submit", start);

// -- the user's shorts and transcribe jobs, refreshed while any is running ---------------------
const list = $("[data-jobs]");
let timer = null;

function jobRow(job) {
  const percent = percentOf(job);
  const running = !isTerminal(job.status);
  const title = job.title || (job.result && job.result.video_title) || job.url || "Shorts job";
  return h("li.job", { dataset: { jobId: job.id, status: job.status } },
    h("a.job-title", { href: `/shorts/${encodeURIComponent(job.id)}` }, title),
    h("div.job-meta", {},
      h("span.badge", { dataset: { status: job.status } }, job.status),
      h("span", {}, job.kind === "transcribe" ? "Transcript" : "Clips"),
      running && job.status === "processing" ? h("span", {}, `${stageName(job.stage)} · ${Math.round(percent)} %`) : null,
      h("span", {}, formatTime(job.created_at)),
      job.error ? h("span.error-text", {}, job.error.message) : null),
    running ? h("progress", { max: 100, value: percent, "aria-label": `Progress of ${title}` }) : null);
}

function signInToSee() {
  list.hidden = true;
  list.removeAttribute("aria-busy");
  $("[data-jobs-empty]").hidden = false;
  $("[data-jobs-empty]").textContent = "Sign in to see your shorts jobs.";
}

async function refreshJobs() {
  clearTimeout(timer);
  if (!(await signedIn)) { signInToSee(); return; } // asking would only log a 401
  try {
    const jobs = (await api("/api/v1/jobs?type=shorts,transcribe&limit=25")).items;
    list.replaceChildren(...jobs.map(jobRow));
    list.hidden = !jobs.length;
    $("[data-jobs-empty]").hidden = jobs.length > 0;
    list.removeAttribute("aria-busy");
    if (jobs.some((job) => !isTerminal(job.status))) timer = setTimeout(refreshJobs, 2000);
  } catch (err) {
    if (err.status === 401) { signInToSee(); return; }
    notice(err.sentence, "error");
    timer = setTimeout(refreshJobs, 5000);
  }
}

refreshJobs();
