// The download options form: quality presets, the full format list, audio, subtitles,
// thumbnail/metadata toggles and a time section. `optionsForm(info, scope)` builds it;
// `form.read()` returns the request fields (or throws an Error with a sentence).
import { h, formatBytes } from "../ui.js";

const PRESETS = [
  ["best", "Best"], ["1080p", "1080p"], ["720p", "720p"], ["480p", "480p"], ["360p", "360p"], ["audio", "Audio only"],
];
const AUDIO_FORMATS = [
  ["", "Original (no conversion)"], ["mp3", "MP3"], ["m4a", "M4A (AAC)"], ["opus", "Opus"],
  ["aac", "AAC"], ["flac", "FLAC (lossless)"], ["wav", "WAV (lossless)"],
];
const LOSSLESS = new Set(["", "flac", "wav"]);
const BITRATES = ["96k", "128k", "160k", "192k", "256k", "320k"];
const NO_COVER = new Set(["wav", "aac", "flac", "opus"]);

let counter = 0;
const uid = (name) => `${name}-${++counter}`;

function field(labelText, control, hint) {
  const id = control.id || (control.id = uid("f"));
  return h("div.field", {}, h("label", { for: id }, labelText), control, hint ? h("p.hint.muted", {}, hint) : null);
}

function check(labelText, attrs = {}) {
  const input = h("input", { type: "checkbox", ...attrs });
  return [h("label.check", {}, input, labelText), input];
}

/** "1:23", "83", "1:02:03.5" -> seconds; "" -> null; NaN when unreadable. */
export function parseTime(text) {
  const value = text.trim();
  if (!value) return null;
  if (!/^\d+(:\d{1,2}){0,2}(\.\d+)?$/.test(value)) return NaN;
  return value.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

function describeFormat(f) {
  const video = f.vcodec && f.vcodec !== "none";
  const audio = f.acodec && f.acodec !== "none";
  const kind = video && audio ? "video + audio" : video ? "video only" : audio ? "audio only" : "";
  const size = f.filesize ? `${f.filesize_estimated ? "≈" : ""}${formatBytes(f.filesize)}` : "";
  const res = f.height ? `${f.height}p${f.fps && f.fps > 30 ? Math.round(f.fps) : ""}` : f.resolution || "";
  return [res, f.ext, kind, [f.vcodec, f.acodec].filter((c) => c && c !== "none").join(" / "), size]
    .filter(Boolean).join(" · ");
}

/**
 * The quality chips a source really has: [value, label] pairs, and a sentence when it has one.
 * A preset asks for "at most N lines", so each chip is labelled with the height it delivers
 * (the nearest at or below it); presets that would deliver the same picture are one chip, and
 * a preset below every rendition is left out (it would silently deliver a larger one).
 */
export function qualityChoices(info) {
  const formats = (info && info.formats) || [];
  if (!info) return { presets: PRESETS, note: null }; // playlists and batches: each item differs
  const video = formats.filter((f) => f.height && f.vcodec !== "none");
  const heights = [...new Set(video.map((f) => f.height))].sort((a, b) => a - b);
  const audio = PRESETS.find(([value]) => value === "audio");
  const best = PRESETS[0];
  if (heights.length <= 1) {
    const note = heights.length ? `This source offers one quality: ${heights[0]}p` : formats.length <= 1 ? "This source offers one quality." : null;
    return { presets: note ? [best, audio] : PRESETS, note };
  }
  const seen = new Set();
  const chips = [best];
  for (const [value] of PRESETS.filter(([v]) => v.endsWith("p"))) {
    const limit = Number.parseInt(value, 10);
    const delivered = heights.filter((height) => height <= limit).pop();
    if (!delivered || seen.has(delivered)) continue;
    seen.add(delivered);
    chips.push([value, `${delivered}p`]);
  }
  return { presets: [...chips, audio], note: null };
}

/**
 * @param info   the metadata answer (null for playlists and batches: no format list, no sections)
 * @param scope  "video" | "parent"
 * @param cookies the user's cookie files ([{id, name, domains}])
 * @param remembered the download choices remembered from last time (see preferences.js)
 */
export function optionsForm(info, { scope = "video", cookies = [], remembered = {} } = {}) {
  const presetName = uid("quality");
  const offered = qualityChoices(info);
  const startWith = offered.presets.some(([value]) => value === remembered.quality) ? remembered.quality : "best";
  const presets = h("fieldset.presets", {}, h("legend", {}, "Quality"),
    offered.presets.map(([value, text]) => h("label.chip", {},
      h("input", { type: "radio", name: presetName, value, checked: value === startWith, "data-preset": value }),
      h("span", {}, text))),
    offered.note ? h("p.hint.muted", { "data-one-quality": "" }, offered.note) : null);

  // the full list, behind a disclosure
  const formats = (info && info.formats) || [];
  const formatName = uid("format");
  const formatList = formats.length > 1 ? h("details.more", {},
    h("summary", {}, `More formats (${formats.length})`),
    h("div.formats", { role: "radiogroup", "aria-label": "All formats" },
      [...formats].reverse().map((f) => h("label", {},
        h("input", { type: "radio", name: formatName, value: f.format_id, "data-format": f.format_id,
          "data-video-only": f.vcodec && f.vcodec !== "none" && f.acodec === "none" ? "true" : "false" }),
        h("span.mono", {}, f.format_id), h("span", {}, describeFormat(f)))))) : null;

  const container = h("select", {}, h("option", { value: "" }, "Automatic"),
    ["mp4", "mkv", "webm"].map((c) => h("option", { value: c }, c.toUpperCase())));
  const audioFormat = h("select", { "data-audio-format": "" }, AUDIO_FORMATS.map(([v, t]) => h("option", { value: v }, t)));
  const bitrate = h("select", { "data-audio-bitrate": "" }, h("option", { value: "" }, "Encoder default"),
    BITRATES.map((b) => h("option", { value: b }, b.replace("k", " kbps"))));
  const videoOptions = h("div.option-grid", { "data-video-options": "" }, field("Container", container));
  const audioOptions = h("div.option-grid", { "data-audio-options": "", hidden: true },
    field("Audio format", audioFormat), field("Bitrate", bitrate));

  // subtitles: the languages the preview lists (parents: typed codes)
  const languages = (info && info.subtitles) || [];
  const subChecks = languages.map((lang) => check(lang, { value: lang, "data-sub-lang": lang }));
  const subTyped = h("input", { type: "text", placeholder: "en, de", autocomplete: "off" });
  const subFormat = h("select", {}, ["srt", "vtt", "ass"].map((f) => h("option", { value: f }, f.toUpperCase())));
  const [subEmbedLabel, subEmbed] = check("Embed into the video");
  const [subAutoLabel, subAuto] = check("Accept automatic captions");
  const subtitles = languages.length || scope === "parent" ? h("fieldset", {}, h("legend", {}, "Subtitles"),
    languages.length ? h("div.toggles", {}, subChecks.map(([label]) => label)) : field("Languages (codes, comma-separated)", subTyped),
    h("div.option-grid", {}, field("Format", subFormat)), h("div.toggles", {}, subEmbedLabel, subAutoLabel)) : null;

  const [thumbLabel, thumbWrite] = check("Save the thumbnail");
  const [coverLabel, thumbEmbed] = check("Embed thumbnail as cover");
  const [metaLabel, metadata] = check("Embed title and chapters");
  const toggles = h("fieldset", {}, h("legend", {}, "Extras"), h("div.toggles", {}, thumbLabel, coverLabel, metaLabel));

  const start = h("input", { type: "text", inputmode: "decimal", placeholder: "0:00", autocomplete: "off", "data-start": "" });
  const end = h("input", { type: "text", inputmode: "decimal", placeholder: info && info.duration ? formatEnd(info.duration) : "end", autocomplete: "off", "data-end": "" });
  const section = scope === "video" ? h("details.more", {},
    h("summary", {}, "Only a part (start / end)"),
    h("div.option-grid", {}, field("Start", start, "m:ss or seconds"), field("End", end, "m:ss or seconds"))) : null;

  const cookie = h("select", {}, h("option", { value: "" }, "None"), cookies.map((c) => h("option", { value: c.id }, `${c.name} (${(c.domains || []).slice(0, 3).join(", ")})`)));
  const cookieField = cookies.length ? h("div.option-grid", {}, field("Cookie file (for videos that need a login)", cookie)) : null;

  const root = h("div.options", {}, presets, formatList, videoOptions, audioOptions, subtitles, toggles, section, cookieField);

  const quality = () => (root.querySelector(`input[name="${presetName}"]:checked`) || {}).value || "best";
  const chosenFormat = () => root.querySelector(`input[name="${formatName}"]:checked`);
  const sync = () => {
    const audio = quality() === "audio";
    audioOptions.hidden = !audio;
    videoOptions.hidden = audio;
    bitrate.disabled = LOSSLESS.has(audioFormat.value);
    if (bitrate.disabled) bitrate.value = "";
    if (audioFormat.value === "opus" && bitrate.value === "320k") bitrate.value = "256k";
    bitrate.querySelector('option[value="320k"]').disabled = audioFormat.value === "opus";
    const noCover = audio ? NO_COVER.has(audioFormat.value) : container.value === "webm";
    thumbEmbed.disabled = noCover;
    if (noCover) thumbEmbed.checked = false;
    subEmbed.disabled = audio;
  };
  root.addEventListener("change", (event) => {
    if (event.target.name === presetName) { const f = chosenFormat(); if (f) f.checked = false; }
    if (event.target.name === formatName) {
      const best = root.querySelector(`input[name="${presetName}"][value="best"]`);
      if (best) best.checked = true;
    }
    sync();
  });
  // the choices remembered from last time (only values this form offers)
  const pick = (select, value) => { if (value && [...select.options].some((o) => o.value === value)) select.value = value; };
  pick(container, remembered.container);
  pick(audioFormat, remembered.audio_format);
  pick(bitrate, remembered.audio_bitrate);
  pick(subFormat, remembered.subtitle_format);
  if (typeof remembered.subtitles_embed === "boolean") subEmbed.checked = remembered.subtitles_embed;
  if (typeof remembered.subtitles_auto === "boolean") subAuto.checked = remembered.subtitles_auto;
  sync();

  /** The choices to remember (preferences.js), whatever this download used of them. */
  root.choices = () => ({
    quality: quality(), container: container.value, audio_format: audioFormat.value,
    audio_bitrate: bitrate.value, subtitle_format: subFormat.value,
    subtitles_embed: subEmbed.checked, subtitles_auto: subAuto.checked,
  });

  root.read = () => {
    const body = {};
    const q = quality();
    const picked = chosenFormat();
    if (picked) body.format = picked.dataset.videoOnly === "true" ? `${picked.value}+ba/${picked.value}` : picked.value;
    else if (q !== "best") body.quality = q;
    if (q === "audio") {
      if (audioFormat.value) body.audio_format = audioFormat.value;
      if (audioFormat.value && bitrate.value) body.audio_bitrate = bitrate.value;
    } else if (container.value) body.container = container.value;
    const langs = languages.length
      ? subChecks.filter(([, input]) => input.checked).map(([, input]) => input.value)
      : subTyped.value.split(/[\s,]+/).filter(Boolean);
    if (subtitles && langs.length) {
      body.subtitles = { languages: langs, format: subFormat.value, embed: subEmbed.checked && q !== "audio", auto_generated: subAuto.checked };
    }
    if (thumbWrite.checked || thumbEmbed.checked) body.thumbnail = { write: thumbWrite.checked, embed: thumbEmbed.checked };
    if (metadata.checked) body.embed_metadata = true;
    if (section) {
      const a = parseTime(start.value);
      const b = parseTime(end.value);
      if (Number.isNaN(a) || Number.isNaN(b)) throw new Error("Write start and end as m:ss or seconds, like 1:30 or 90.");
      if (a !== null || b !== null) {
        const from = a || 0;
        const to = b !== null ? b : info && info.duration;
        if (!to || to <= from) throw new Error("The end must come after the start.");
        body.sections = [{ start: from, end: to }];
      }
    }
    if (cookieField && cookie.value) body.cookies_id = cookie.value;
    return body;
  };
  return root;
}

function formatEnd(seconds) {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
