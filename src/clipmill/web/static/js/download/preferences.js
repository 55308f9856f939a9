// The choices a user made last (download quality and formats, the shorts studio's options),
// per browser (localStorage, at once) and per account (/api/v1/me/preferences, when signed in
// or with accounts off): the newer copy wins, so a second browser starts where the first left.
import { api } from "../api.js";
import { currentUser } from "../shell.js";
import { authMode } from "../ui.js";

const KEY = "clipmill.preferences";
// the account's copy is a closed vocabulary (clipmill.accounts.preferences): only these keys
const FIELDS = {
  download: ["quality", "audio_format", "audio_bitrate", "container", "subtitle_format", "subtitles_embed", "subtitles_auto"],
  shorts: ["min_clip_duration", "max_clip_duration", "max_clips", "aspect_ratios", "caption_style", "resolution", "framing"],
};
const SECTIONS = Object.keys(FIELDS);
let server = null; // Promise<boolean>: whether this visitor has an account copy to read and write

function empty() {
  return { download: {}, shorts: {}, updated_at: null };
}

function clean(values, section) {
  const out = {};
  for (const [key, value] of Object.entries(values || {})) {
    if (FIELDS[section].includes(key) && value !== null && value !== undefined && value !== "") out[key] = value;
  }
  return out;
}

/** This browser's copy (never throws: private mode and bad JSON read as "nothing yet"). */
export function localPreferences() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) || "null");
    if (!stored || typeof stored !== "object") return empty();
    return { ...empty(), ...stored, download: clean(stored.download, "download"), shorts: clean(stored.shorts, "shorts") };
  } catch {
    return empty();
  }
}

function storeLocal(prefs) {
  try { localStorage.setItem(KEY, JSON.stringify(prefs)); } catch { /* private mode */ }
}

function hasAccountCopy() {
  // only ask when the answer cannot be 401: accounts off (the local user) or signed in
  if (!server) server = authMode() === "none" ? Promise.resolve(true) : currentUser().then(Boolean, () => false);
  return server;
}

/** The newer of this browser's and the account's copy. */
export async function loadPreferences() {
  const mine = localPreferences();
  if (!(await hasAccountCopy())) return mine;
  try {
    const theirs = await api("/api/v1/me/preferences");
    if (theirs.updated_at && (!mine.updated_at || theirs.updated_at > mine.updated_at)) {
      const merged = { download: clean(theirs.download, "download"), shorts: clean(theirs.shorts, "shorts"), updated_at: theirs.updated_at };
      storeLocal(merged);
      return merged;
    }
  } catch { /* the browser's copy will do */ }
  return mine;
}

/** Remember `values` (every choice of the form) as the `section` ("download" | "shorts") choices. */
export async function savePreferences(section, values) {
  if (!SECTIONS.includes(section)) return;
  const prefs = localPreferences();
  prefs[section] = clean(values, section); // the whole form: a choice set back to its default is forgotten
  prefs.updated_at = new Date().toISOString();
  storeLocal(prefs);
  if (!(await hasAccountCopy())) return;
  try {
    const saved = await api("/api/v1/me/preferences", { method: "PUT", body: { download: prefs.download, shorts: prefs.shorts } });
    if (saved && saved.updated_at) storeLocal({ ...prefs, updated_at: saved.updated_at });
  } catch { /* kept in this browser; the account copy catches up next time */ }
}
