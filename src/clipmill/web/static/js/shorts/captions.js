// The choices a shorts job or a clip edit offers, each with a small visual hint.
import { h } from "../ui.js";

export const CAPTION_STYLES = [
  ["bold", "Bold", "Large words, thick outline"],
  ["boxed", "Boxed", "Words on a box"],
  ["minimal", "Minimal", "Small lower third"],
  ["none", "None", "No burned-in captions"],
];

export const ASPECT_RATIOS = [
  ["9:16", "Vertical", "Shorts, Reels, TikTok"],
  ["1:1", "Square", "Feeds"],
  ["4:5", "Portrait", "Instagram posts"],
  ["16:9", "Landscape", "The source shape"],
];

/** Radio buttons for the caption style, each showing a sample caption in that style. */
export function captionChoices(name, chosen = "bold") {
  return h("fieldset.choices", { "data-caption-styles": true },
    h("legend", {}, "Captions"),
    ...CAPTION_STYLES.map(([value, label, hint]) => h("label.choice", {},
      h("input", { type: "radio", name, value, checked: value === chosen }),
      h("span.caption-hint", { dataset: { style: value }, "aria-hidden": "true" },
        value === "none" ? h("span.caption-sample", {}, "—") :
          h("span.caption-sample", {}, "Say ", h("span.caption-word", {}, "this"), " now")),
      h("span.choice-text", {}, h("strong", {}, label), h("span.muted", {}, hint)))));
}

/** Checkboxes for the frame shapes, each with a tiny frame of that shape. */
export function aspectChoices(name, chosen = ["9:16"]) {
  return h("fieldset.choices", { "data-aspect-ratios": true },
    h("legend", {}, "Shapes"),
    ...ASPECT_RATIOS.map(([value, label, hint]) => h("label.choice", {},
      h("input", { type: "checkbox", name, value, checked: chosen.includes(value) }),
      h("span.shape-hint", { dataset: { ratio: value }, "aria-hidden": "true" }),
      h("span.choice-text", {}, h("strong", {}, `${label} ${value}`), h("span.muted", {}, hint)))));
}

export const checkedValues = (root, name) =>
  [...root.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => input.value);
