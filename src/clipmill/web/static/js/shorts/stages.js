// The stages of shorts, transcribe and render jobs, and the live stepper that shows them.
//
// The weights mirror the pipelines' (clipmill/shorts/job_pipeline.py, rerender.py): a job's
// progress is 0-100 over all its stages, so a stage's own progress is read back from it.
import { h, setProgress } from "../ui.js";

const NAMES = {
  initializing: "Prepare",
  downloading: "Fetch",
  extracting_audio: "Audio",
  transcribing: "Transcribe",
  analyzing: "Find moments",
  generating_clips: "Render clips",
  finalizing: "Store",
};

// (tests/shorts_api/test_progress.py checks they stay the same; an upload is fetched in no time)
const PLANS = {
  shorts: [["initializing", 1], ["downloading", 10], ["extracting_audio", 1], ["transcribing", 38],
    ["analyzing", 2], ["generating_clips", 56], ["finalizing", 1]],
  shorts_upload: [["initializing", 1], ["downloading", 1], ["extracting_audio", 1], ["transcribing", 38],
    ["analyzing", 2], ["generating_clips", 56], ["finalizing", 1]],
  transcribe: [["initializing", 1], ["downloading", 10], ["extracting_audio", 2],
    ["transcribing", 95], ["finalizing", 1]],
  transcribe_upload: [["initializing", 1], ["downloading", 1], ["extracting_audio", 2],
    ["transcribing", 95], ["finalizing", 1]],
  render: [["generating_clips", 90], ["finalizing", 10]],
};

/** The stage plan of a job: by kind, and for an upload the plan whose fetch is a copy. */
function planOf(job) {
  const upload = job.options && job.options.upload ? "_upload" : "";
  return PLANS[`${job.kind}${upload}`] || PLANS[job.kind] || PLANS.shorts;
}

/** Seconds left, when the server has an estimate: on live updates at the top, on the full
 * record under progress. */
export function etaOf(job) {
  const p = job && job.progress;
  const eta = p !== null && typeof p === "object" ? p.eta : job && job.eta;
  return typeof eta === "number" && eta > 0 ? eta : null;
}

export const stageName = (stage) => NAMES[stage] || (stage || "").replaceAll("_", " ");

/** Overall percent of a job record: a number on live updates, {percent} on the full record. */
export function percentOf(job) {
  const p = job && job.progress;
  if (p === null || p === undefined) return 0;
  return typeof p === "object" ? Number(p.percent) || 0 : Number(p) || 0;
}

/** Each stage of the job's kind with its state ("done", "current", "todo", "failed") and the
 * current stage's own percent. */
export function stagesOf(job) {
  const plan = planOf(job);
  const overall = percentOf(job);
  const at = plan.findIndex(([stage]) => stage === job.stage);
  const finished = job.status === "completed" || job.stage === "done";
  let before = 0;
  return plan.map(([stage, weight], index) => {
    const start = before;
    before += weight;
    let state = "todo";
    if (finished || (at >= 0 && index < at)) state = "done";
    else if (index === at) {
      if (job.status === "failed" || job.status === "cancelled") state = "failed";
      else if (job.status === "processing") state = "current";
    }
    const own = state === "current" ? Math.max(0, Math.min(100, ((overall - start) / weight) * 100)) : null;
    return { stage, name: stageName(stage), state, percent: own };
  });
}

/** The stepper as an ordered list; `update(job)` redraws it in place. */
export function stepper(label = "Stages") {
  const list = h("ol.stepper", { "aria-label": label, "data-stepper": true });
  const update = (job) => {
    const steps = stagesOf(job);
    list.replaceChildren(...steps.map((step, index) => {
      const words = { done: "done", current: "in progress", todo: "to do", failed: "stopped" }[step.state];
      const item = h("li", {
        dataset: { state: step.state, stage: step.stage },
        "aria-current": step.state === "current" ? "step" : null,
      },
      h("span.step-number", { "aria-hidden": "true" }, step.state === "done" ? "✓" : String(index + 1)),
      h("span.step-name", {}, step.name),
      h("span.visually-hidden", {}, `, ${words}`));
      if (step.state === "current") {
        const bar = h("progress.step-progress", { max: 100, "aria-label": `${step.name} progress` });
        setProgress(bar, step.percent);
        item.append(bar);
      }
      return item;
    }));
  };
  return { element: list, update };
}
