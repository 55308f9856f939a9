// The transcript as word buttons: pick a clip's first and last word with a pointer or the keys.
//
// One word is in the tab order at a time (a roving tabindex): arrow keys, Home and End move
// between words, Enter or Space picks one, Shift picks the end whatever the mode.
import { h } from "../ui.js";

const EPSILON = 0.005;

export function wordPicker(box, words, { onChange = () => {}, onModeChange = () => {} } = {}) {
  let start = 0;
  let end = Math.max(0, words.length - 1);
  let mode = "start";
  let focused = 0;

  const buttons = words.map((word, index) => h("button.word", {
    type: "button", tabindex: "-1", dataset: { index, start: word.start, end: word.end },
  }, word.text));
  box.replaceChildren(...buttons.flatMap((button, index) => (index ? [" ", button] : [button])));

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

  const changed = (why) => {
    paint();
    onChange(span(), why);
  };

  const span = () => (words.length ? { start: words[start].start, end: words[end].end, startIndex: start, endIndex: end } : null);

  const setMode = (next) => {
    mode = next;
    onModeChange(mode);
  };

  const pick = (index, asEnd) => {
    if (asEnd || mode === "end") {
      end = index;
      if (end < start) [start, end] = [end, start];
      changed("end");
    } else {
      start = index;
      if (end < start) end = start;
      focused = index;
      changed("start");
      setMode("end");
    }
  };

  const moveFocus = (index) => {
    focused = Math.max(0, Math.min(buttons.length - 1, index));
    paint();
    buttons[focused].focus();
  };

  box.addEventListener("click", (event) => {
    const button = event.target.closest(".word");
    if (!button) return;
    const index = Number(button.dataset.index);
    focused = index;
    pick(index, event.shiftKey);
  });
  box.addEventListener("keydown", (event) => {
    const button = event.target.closest(".word");
    if (!button) return;
    const index = Number(button.dataset.index);
    const moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (event.key in moves) moveFocus(index + moves[event.key]);
    else if (event.key === "Home") moveFocus(0);
    else if (event.key === "End") moveFocus(buttons.length - 1);
    else if (event.key === "Enter" || event.key === " ") {
      focused = index;
      pick(index, event.shiftKey);
    } else return;
    event.preventDefault();
  });

  box.addEventListener("keyup", (event) => {
    // Space activates a button on key up: the key down already picked the word
    if (event.key === " " && event.target.closest(".word")) event.preventDefault();
  });

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
    const target = buttons[start];
    if (target) box.scrollTop = Math.max(0, target.offsetTop - box.offsetTop - box.clientHeight / 3);
  };

  paint();
  return { span, select, setMode, get mode() { return mode; } };
}
