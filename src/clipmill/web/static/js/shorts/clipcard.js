// One clip of a finished shorts job: its player, why it was picked, and its files; or, for a
// clip whose render failed, why, and a button to render it again.
import { ApiError } from "../api.js";
import { h, formatBytes, formatDuration } from "../ui.js";

/** A score as a percentage (the planner scores 0-1). */
export const scoreText = (score) =>
  score === null || score === undefined ? "" : `${Math.round(score <= 1 ? score * 100 : score)}`;

export function renditionsOf(clip) {
  const assets = clip.assets || {};
  if (assets.renditions && assets.renditions.length) return assets.renditions;
  return assets.video_url ? [assets] : [];
}

/** A <video> for one rendition; the poster is its thumbnail. */
export function player(rendition, label) {
  const video = h("video", {
    controls: true, preload: "metadata", playsinline: true,
    poster: rendition.thumbnail_url || null, "aria-label": label,
    dataset: { ratio: rendition.aspect_ratio || "9:16" },
  });
  if (rendition.video_url) video.src = rendition.video_url;
  return video;
}

function downloads(clip) {
  const assets = clip.assets || {};
  const renditions = renditionsOf(clip);
  const links = [];
  for (const r of renditions) {
    if (!r.video_url) continue;
    const what = renditions.length > 1 ? `Video ${r.aspect_ratio}` : "Video";
    links.push(h("a.button.small", { href: r.video_url, download: "", "data-download": "video",
      "aria-label": `${what} of ${clip.title}${r.size ? `, ${formatBytes(r.size)}` : ""}` }, what));
  }
  if (assets.captions_srt_url) links.push(h("a.button.small", { href: assets.captions_srt_url, download: "", "data-download": "srt", "aria-label": `SRT captions of ${clip.title}` }, "SRT"));
  if (assets.captions_vtt_url) links.push(h("a.button.small", { href: assets.captions_vtt_url, download: "", "data-download": "vtt", "aria-label": `VTT captions of ${clip.title}` }, "VTT"));
  for (const r of renditions) {
    if (!r.thumbnail_url) continue;
    const what = renditions.length > 1 ? `Thumbnail ${r.aspect_ratio}` : "Thumbnail";
    links.push(h("a.button.small", { href: r.thumbnail_url, download: "", "data-download": "thumbnail", "aria-label": `${what} of ${clip.title}` }, what));
  }
  return h("div.files", { role: "group", "aria-label": "Downloads" }, links);
}

/** Why a clip did not render, as a person reads it: the sentence for its error code (which
 * never blames the user's file for our own check), then the server's own words. */
function failure(clip, { rendering, onRenderAgain }) {
  const error = clip.error || {};
  const sentence = new ApiError(0, error.code, error.message).sentence;
  const again = h("button.primary.small", {
    type: "button", "data-render-again": "", disabled: rendering || !onRenderAgain,
    onclick: (event) => onRenderAgain && onRenderAgain(clip, event.currentTarget),
  }, rendering ? "Rendering…" : "Render again");
  return h("div.clip-failed", { role: "group", "aria-label": "This clip did not render" },
    h("p.clip-failed-title", {}, "This clip did not render."),
    h("p.clip-failed-reason", { "data-clip-error": error.code || "" }, sentence),
    error.message && error.message !== sentence ? h("p.muted", {}, `Details: ${error.message}`) : null,
    again);
}

/** The gallery card of `clip`; `rendering` marks a clip whose new version is on its way;
 * `onRenderAgain(clip, button)` renders a failed clip again. */
export function clipCard(jobId, clip, { rendering = false, onRenderAgain = null } = {}) {
  const failed = clip.status === "failed";
  const renditions = renditionsOf(clip);
  // a failed clip has no picture: the card says why where the player would be
  const frame = failed ? failure(clip, { rendering, onRenderAgain }) : h("div.clip-frame");
  const show = (r) => {
    frame.replaceChildren(player(r, `Clip: ${clip.title}`));
  };
  if (!failed && renditions.length) show(renditions[0]);
  else if (!failed) frame.append(h("p.muted.clip-missing", {}, "This clip's video is no longer kept."));
  let shapes = null;
  if (renditions.length > 1) {
    shapes = h("div.segmented", { role: "group", "aria-label": "Shape shown" },
      renditions.map((r, i) => h("button.small", {
        type: "button", "aria-pressed": i === 0 ? "true" : "false",
        onclick: (event) => {
          for (const b of shapes.querySelectorAll("button")) b.setAttribute("aria-pressed", "false");
          event.currentTarget.setAttribute("aria-pressed", "true");
          show(r);
        },
      }, r.aspect_ratio)));
  }
  const duration = clip.duration ?? (clip.end_time - clip.start_time);
  // a hashtag that only repeats a tag ("sleep", "#sleep") is shown once
  const tags = [...new Set([...(clip.tags || []), ...(clip.hashtags || []).filter((t) => !(clip.tags || []).includes(t.replace(/^#/, "")))])];
  return h("article.clip.card", { dataset: { clipId: clip.clip_id, revision: clip.revision ?? 0, status: clip.status || "ready" } },
    frame,
    shapes,
    h("h3.clip-title", {}, clip.title),
    h("p.clip-meta", {},
      h("span.score", { title: "How likely this moment works as a short" }, `Score ${scoreText(clip.score)}`),
      h("span", {}, formatDuration(duration), h("span.visually-hidden", {}, " long")),
      h("span.muted", {}, `${formatDuration(clip.start_time)}–${formatDuration(clip.end_time)}`),
      rendering ? h("span.badge", { dataset: { status: "processing" } }, "Re-rendering") : null),
    clip.reason ? h("p.clip-reason.muted", {}, clip.reason) : null,
    tags.length ? h("ul.tags", { "aria-label": "Tags" }, tags.map((t) => h("li", {}, t))) : null,
    failed ? null : downloads(clip),
    h("a.button.primary.small.edit-link", { href: `/shorts/${encodeURIComponent(jobId)}/clips/${encodeURIComponent(clip.clip_id)}` }, "Edit clip"));
}
