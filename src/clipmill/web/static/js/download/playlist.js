// A playlist's or channel's entries with checkboxes: all / none / a range ("1-5,8"), more
// entries on demand, and the channel filters the channel API offers.
import { api } from "../api.js";
import { h, formatDuration } from "../ui.js";

/** "1-5,8" -> Set of indexes (1-based); throws with a sentence on bad input. */
export function parseRange(text, max) {
  const picked = new Set();
  for (const part of text.split(/[\s,]+/).filter(Boolean)) {
    const match = /^(\d+)(?:-(\d*))?$/.exec(part);
    if (!match) throw new Error(`"${part}" isn't a number or a range like 1-5.`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : match[2] === "" ? max : Number(match[2]);
    if (from < 1 || to < from) throw new Error(`"${part}" isn't a range from low to high.`);
    for (let i = from; i <= Math.min(to, max); i += 1) picked.add(i);
  }
  return picked;
}

/** Set of indexes -> yt-dlp item syntax, ranges compressed ("1-3,7"). */
export function itemsSpec(indexes) {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts = [];
  for (let i = 0; i < sorted.length; i += 1) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j += 1;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j;
  }
  return parts.join(",");
}

const looksLikeChannel = (url) => /\/(channel|c|user)\/|\/@[^/]+|\/videos\/?$/i.test(url);

/**
 * The entries part of a playlist preview. `listing` is the playlist preview answer.
 * Returns {node, read()}: read() gives {route, body} for the download request (or throws).
 */
export function entriesPicker(listing, url) {
  let entries = [...listing.entries];
  let hasMore = listing.has_more;
  const total = listing.entry_count;
  const boxes = new Map(); // index -> checkbox
  const list = h("ul.entries", { "aria-label": "Videos in the list" });
  const count = h("p.muted", { role: "status", "aria-live": "polite", "data-selection-count": "" });
  const rangeInput = h("input", { type: "text", id: "entry-range", placeholder: "1-5,8", autocomplete: "off", inputmode: "numeric" });
  const rangeError = h("p.field-error", { role: "alert" });
  let everything = true; // "All": entries not listed yet count as selected too

  const updateCount = () => {
    const n = [...boxes.values()].filter((b) => b.checked).length;
    const known = total || entries.length;
    count.textContent = everything && (hasMore || total > entries.length)
      ? `All ${total || "listed"} videos selected.`
      : `${n} of ${known} selected.`;
  };
  const addEntries = (batch) => {
    for (const entry of batch) {
      const box = h("input", { type: "checkbox", value: String(entry.index), checked: everything, "data-entry": String(entry.index) });
      boxes.set(entry.index, box);
      list.append(h("li", {}, h("label", {}, box,
        h("span.index", {}, `${entry.index}.`),
        h("span.entry-title", {}, entry.title || entry.url),
        entry.duration ? h("span.muted", {}, formatDuration(entry.duration)) : null)));
    }
  };
  addEntries(entries);
  list.addEventListener("change", () => { everything = false; updateCount(); });

  const setAll = (on) => { everything = on; for (const box of boxes.values()) box.checked = on; updateCount(); };
  const more = h("button.small", { type: "button", hidden: !hasMore, onclick: async () => {
    more.disabled = true;
    try {
      const page = await api(`/api/v1/playlist/preview?${new URLSearchParams({ url, offset: String(entries.length ? entries[entries.length - 1].index : 0), limit: "50" })}`);
      entries = entries.concat(page.entries);
      hasMore = page.has_more;
      addEntries(page.entries);
      more.hidden = !hasMore;
      updateCount();
    } catch (err) {
      rangeError.textContent = err.sentence || "Couldn't list more videos.";
    } finally { more.disabled = false; }
  } }, "List more");

  const applyRange = () => {
    rangeError.textContent = "";
    try {
      const picked = parseRange(rangeInput.value, total || entries.length);
      everything = false;
      for (const [index, box] of boxes) box.checked = picked.has(index);
      updateCount();
    } catch (err) { rangeError.textContent = err.message; }
  };
  rangeInput.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); applyRange(); } });

  // channels: filters and sort, applied by the server (some after extracting each video)
  const modeName = "list-mode";
  const channelDefault = looksLikeChannel(url);
  const mode = h("fieldset.mode", {}, h("legend", {}, "Download as"),
    h("label.chip", {}, h("input", { type: "radio", name: modeName, value: "playlist", checked: !channelDefault }), h("span", {}, "Picked videos")),
    h("label.chip", {}, h("input", { type: "radio", name: modeName, value: "channel", checked: channelDefault }), h("span", {}, "Channel, filtered")));
  const input = (type, attrs = {}) => h("input", { type, autocomplete: "off", ...attrs });
  const filterFields = {
    date_after: input("date"), date_before: input("date"),
    min_duration: input("number", { min: "0", step: "1", inputmode: "numeric" }),
    max_duration: input("number", { min: "0", step: "1", inputmode: "numeric" }),
    title_contains: input("text", { maxlength: "200" }),
    limit: input("number", { min: "1", max: "10000", step: "1", inputmode: "numeric" }),
  };
  const sort = h("select", {}, [["", "As the site lists"], ["newest", "Newest first"], ["oldest", "Oldest first"],
    ["most_viewed", "Most viewed"], ["longest", "Longest"], ["shortest", "Shortest"]].map(([v, t]) => h("option", { value: v }, t)));
  const labelled = (text, control) => { control.id = control.id || `cf-${Math.random().toString(36).slice(2, 8)}`; return h("div.field", {}, h("label", { for: control.id }, text), control); };
  const filters = h("div.option-grid", { "data-channel-filters": "" },
    labelled("Uploaded on or after", filterFields.date_after), labelled("Uploaded on or before", filterFields.date_before),
    labelled("At least (minutes)", filterFields.min_duration), labelled("At most (minutes)", filterFields.max_duration),
    labelled("Title contains", filterFields.title_contains), labelled("Order", sort), labelled("At most this many videos", filterFields.limit));

  const picker = h("div", { "data-entry-picker": "" },
    h("div.selection", {},
      h("button.small", { type: "button", onclick: () => setAll(true), "data-select-all": "" }, "All"),
      h("button.small", { type: "button", onclick: () => setAll(false), "data-select-none": "" }, "None"),
      h("div.field", {}, h("label", { for: "entry-range" }, "Pick by number"), rangeInput),
      h("button.small", { type: "button", onclick: applyRange, "data-apply-range": "" }, "Apply")),
    rangeError, count, list, more);
  const node = h("div.stack", {}, mode, picker, filters);
  const syncMode = () => {
    const channel = node.querySelector(`input[name="${modeName}"]:checked`).value === "channel";
    picker.hidden = channel;
    filters.hidden = !channel;
  };
  mode.addEventListener("change", syncMode);
  syncMode();
  updateCount();

  const read = () => {
    const channel = node.querySelector(`input[name="${modeName}"]:checked`).value === "channel";
    if (channel) {
      const body = { url };
      for (const key of ["date_after", "date_before", "title_contains"]) if (filterFields[key].value.trim()) body[key] = filterFields[key].value.trim();
      for (const key of ["min_duration", "max_duration"]) if (filterFields[key].value !== "") body[key] = Number(filterFields[key].value) * 60;
      if (filterFields.limit.value) body.limit = Number(filterFields.limit.value);
      if (sort.value) body.sort = sort.value;
      return { route: "/api/v1/channel/download", body };
    }
    const picked = [...boxes].filter(([, box]) => box.checked).map(([index]) => index);
    if (!picked.length) throw new Error("Pick at least one video, or choose All.");
    const allListed = picked.length === boxes.size && everything;
    return { route: "/api/v1/playlist/download", body: allListed ? { url } : { url, items: itemsSpec(picked) } };
  };
  return { node, read };
}
