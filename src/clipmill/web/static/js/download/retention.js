// When a finished job's files go (the server's `retention`): "Kept until <date>", a warning when
// little time is left, a "Keep longer" button (up to the operator's maximum), and "Deleted on
// <date>" once the sweeper took them, so a card never offers a link that answers 410.
import { api } from "../api.js";
import { formatTime, h, notice } from "../ui.js";

const DAY_MS = 86400000;
const SOON_SHARE = 0.2; // warn in the last fifth of the time a file is kept, or its last day

/** Whether the job's files were all deleted by retention (its card then links none). */
export const filesDeleted = (job) => Boolean(job.retention && job.retention.deleted_at && !job.retention.files_kept);

/** How soon the files go: "soon" inside the last day or fifth of their time, else "kept". */
export function urgency(job, now = Date.now()) {
  const r = job.retention;
  if (!r || !r.expires_at) return null;
  const end = Date.parse(r.expires_at);
  const start = Date.parse(job.finished_at || job.created_at || r.expires_at);
  const left = end - now;
  return left < DAY_MS || left < SOON_SHARE * (end - start) ? "soon" : "kept";
}

/** POST /keep for `job`; resolves to the job as the server now sees it (or null on an error,
 *  which it shows). */
export async function keepLonger(job) {
  try {
    const fresh = await api(`/api/v1/jobs/${encodeURIComponent(job.id)}/keep`, { method: "POST", body: {} });
    const until = fresh.retention && fresh.retention.expires_at;
    const last = fresh.retention && !fresh.retention.can_keep_longer;
    notice(`Kept until ${formatTime(until)}${last ? ", the longest this server keeps files" : ""}.`, "ok");
    return fresh;
  } catch (err) {
    notice(err.sentence || "Could not keep the files longer. Try again.", "error");
    return null;
  }
}

/**
 * The retention line of a finished job's card, or null when there is nothing to say.
 * `onKept(fresh)` receives the job after "Keep longer" (no button without it).
 */
export function retentionLine(job, { onKept } = {}) {
  const r = job.retention;
  if (!r || !["completed", "failed", "cancelled"].includes(job.status)) return null;
  if (filesDeleted(job)) {
    const again = job.url ? h("a", { href: `/?url=${encodeURIComponent(job.url)}` }, "Download again") : null;
    return h("p.retention", { "data-retention": "deleted" },
      `Deleted on ${formatTime(r.deleted_at)}, after the retention period. `, again);
  }
  if (!r.expires_at) return null;
  const level = urgency(job);
  const text = level === "soon" ? `Files deleted soon: kept until ${formatTime(r.expires_at)}.` : `Kept until ${formatTime(r.expires_at)}.`;
  let button = null;
  if (onKept && r.can_keep_longer) {
    button = h("button.small", {
      type: "button", "data-action": "keep", "aria-label": `Keep longer: ${job.title || job.url || "this job"}`,
      onclick: async (event) => {
        const pressed = event.currentTarget;
        pressed.disabled = true;
        const fresh = await keepLonger(job);
        if (fresh) onKept(fresh);
        else pressed.disabled = false;
      },
    }, "Keep longer");
  }
  const limit = !r.can_keep_longer && r.keep_limit ? h("span.muted", {}, " The longest this server keeps files.") : null;
  return h("p.retention", { "data-retention": level }, h("span", { "data-retention-text": "" }, text), limit, button ? " " : null, button);
}
