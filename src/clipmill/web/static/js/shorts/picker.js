// The transcript as word buttons: pick a clip's first and last word, or correct a misheard word,
// with a pointer or the keys.
//
// A click does what the mode says, and the mode changes only when the user changes it: "start"
// (every click moves the first word, as often as wanted), "end" (every click moves the last
// word) or "fix" (a click opens the word for correcting). Shift always picks the end; F2 opens
// the focused word for correcting in any mode. One word is in the tab order at a time (a roving
// tabindex): arrow keys, Home and End move between words, Enter or Space does what a click does.
import { h } from "../ui.js";

const EPSILON = 0.005;
export const MODES = ["start", "end", "fix"];

export function wordPicker(box, words, { onChange = () => {}, onModeChange = () => {}, onCorrect = null } = {}) {
  words = words.map((word) => ({ ...word }));
  let start = 0;
  let end = Math.max(0, words.length - 1);
  let mode = "start";
  let focused = 0;

  const buttons = words.map((word, index) => h("button.word", {
    type: "button", tabindex: "-1", dataset: { index, word: word.index ?? index, start: word.start, end: word.end },
  }, word.text));
  box.replaceChildren(...buttons.flatMap((button, index) => (index ? [" ", button] : [button])));
  box.dataset.pickMode = mode;

  const paint = () => {
    buttons.forEach((button, index) => {
      button.dataset.in = String(index >= start && index <= end);
      button.dataset.edge = String(index === start || index === end);
      const role = index === start && index === end ? "first and last word" : index === start ? "first word" : index === end ? "last word" : null;
      if (role) button.setAttribute("aria-description", role);
      else button.removeAttribute("aria-description");
      button.setAttribute("aria-pressed", String(index >= start && index <= end));
      button.tabIndex = index === focused ? 0 : -1;
    });
  };

  const span = () => (words.length ? { start: words[start].start, end: words[end].end, startIndex: start, endIndex: end } : null);

  const changed = (why) => {
    paint();
    onChange(span(), why);
  };

  const setMode = (next) => {
    if (!MODES.includes(next) || (next === "fix" && !onCorrect)) return;
    mode = next;
    box.dataset.pickMode = mode;
    onModeChange(mode);
  };

  const pick = (index, asEnd) => {
    focused = index;
    if (asEnd || mode === "end") {
      end = index;
      if (end < start) [start, end] = [end, start];
      changed("end");
    } else if (mode === "fix") {
      paint();
      edit(index);
    } else {
      start = index;
      if (end < start) end = start;
      changed("start");
    }
  };

  // -- correcting a word: the button gives way to a text field until Enter or Escape ----------
  let editing = null;
  const edit = (index) => {
    if (!onCorrect || editing) return;
    const button = buttons[index];
    const input = h("input.word-input", {
      type: "text", value: words[index].text, maxlength: "100", spellcheck: "true",
      "aria-label": `Correct the word "${words[index].text}" (Enter saves, Escape cancels)`,
      dataset: { wordInput: "true", index },
    });
    input.size = Math.max(4, words[index].text.length + 2);
    editing = { index, input };
    button.hidden = true;
    button.after(input);
    input.focus();
    input.select();

    const close = () => {
      if (!editing || editing.input !== input) return;
      editing = null;
      input.remove();
      button.hidden = false;
      button.focus();
    };
    const save = async () => {
      const text = input.value.trim().split(/\s+/).join(" ");
      if (text === words[index].text) return close();
      input.disabled = true;
      try {
        const word = await onCorrect(words[index], text);
        words[index] = { ...words[index], text: word ? word.text : text };
        button.textContent = words[index].text;
        button.dataset.corrected = "true";
        close();
      } catch {
        input.disabled = false; // the editor says what went wrong; the text stays to fix it
        input.focus();
      }
    };
    input.addEventListener("keydown", (event) => {
      event.stopPropagation(); // arrows and Home/End edit the text, not move between words
      if (event.key === "Enter") {
        event.preventDefault();
        save();
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("click", (event) => event.stopPropagation());
  };

  const moveFocus = (index) => {
    focused = Math.max(0, Math.min(buttons.length - 1, index));
    paint();
    buttons[focused].focus();
  };

  box.addEventListener("click", (event) => {
    const button = event.target.closest(".word");
    if (!button) return;
    pick(Number(button.dataset.index), event.shiftKey);
  });
  box.addEventListener("keydown", (event) => {
    const button = event.target.closest(".word");
    if (!button) return;
    const index = Number(button.dataset.index);
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (event.key in moves) moveFocus(index + moves[event.key]);
    else if (event.key === "Home") moveFocus(0);
    else if (event.key === "End") moveFocus(buttons.length - 1);
    else if (event.key === "F2" && onCorrect) {
      focused = index;
      paint();
      edit(index);
    } else if (event.key === "Enter" || event.key === " ") pick(index, event.shiftKey);
    else return;
    event.preventDefault();
  });

  box.addEventListener("keyup", (event) => {
    // Space activates a button on key up: the key down already picked the word
    if (event.key === " " && event.target.closest(".word")) event.preventDefault();
  });

  /** Scroll the box (only the box, not the page) so the word sits a third of the way down.
   * Measured in the box's own coordinates: a word's offsetTop counts from its offsetParent,
   * which need not be the box. */
  const reveal = (button) => {
    const top = button.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
    box.scrollTop = Math.max(0, top - box.clientHeight / 3);
  };

  /** Select the words of a span given in seconds (a clip's snapped times). */
  const select = (from, to) => {
    if (!words.length) return;
    // a word belongs to the span when its middle does (as the clip's text is made server-side)
    const middle = (w) => (w.start + w.end) / 2;
    const first = words.findIndex((w) => middle(w) >= from - EPSILON);
    let last = -1;
    words.forEach((w, i) => { if (middle(w) <= to + EPSILON) last = i; });
    start = first < 0 ? 0 : first;
    end = last < start ? start : last;
    focused = start;
    paint();
    if (buttons[start]) reveal(buttons[start]);
  };

  paint();
  return { span, select, setMode, edit: () => edit(focused), get mode() { return mode; } };
}
