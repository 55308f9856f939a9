"""Word-highlighted captions for one clip, written as ASS for libass to burn in.

Short-video captions are not broadcast subtitles (``clipmill.shorts.subtitles``): a line holds
about three words (at most ``MAX_LINE_CHARS``), it never spans a long pause or a sentence end,
and the word being spoken is drawn in another colour. ``caption_lines`` does the grouping as a
pure function (SRT/VTT can share it through ``as_cues``); ``write_ass`` draws the lines in a
`CaptionStyle`, one event per spoken word, so that each event highlights exactly one word.

The ASS canvas is the output frame (``PlayResX``/``PlayResY`` = its width and height), so sizes
are in output pixels. Lines sit in the centre of the lower third, clear of the top ~15 % and the
bottom ~20 % of a tall frame, where the platforms draw their buttons and titles.

Transcript words are user text: they only ever go into the .ass file, with the characters that
libass reads as markup escaped (``{`` and ``}`` as ``\\{``/``\\}``; a backslash followed by a
WORD JOINER, so ``\\N`` or ``\\h`` stay literal). They never reach an ffmpeg filter string.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2

from clipmill.shorts.job_schemas import CaptionStyle
from clipmill.shorts.sentences import ends_sentence
from clipmill.shorts.subtitles import Cue
from clipmill.shorts.transcript import ATTACHING, Word, join_words

MAX_LINE_WORDS = 3
MAX_LINE_CHARS = 20
PAUSE_BREAK = 0.6
"""A silence this long (seconds) between two words starts a new line."""
HOLD_AFTER = 0.6
"""How long a line stays up after its last word when no line follows at once (seconds)."""
MIN_LINE_SECONDS = 0.3

FONT_NAME = "DejaVu Sans"
"""Debian package fonts-dejavu-core (fontconfig finds it by this family name)."""

_WORD_JOINER = "\u2060"  # zero width, no glyph: breaks ``\N``, ``\h``, ``\{`` without showing


@dataclass(frozen=True)
class CaptionLine:
    """Words shown together, timed in seconds from the clip's start.

    ``words`` keep their own (re-timed) start and end: the highlight follows them.
    """

    start: float
    end: float
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return join_words(self.words)


def clip_words(words: Sequence[Word], *, clip_start: float, clip_end: float) -> list[Word]:
    """The words spoken inside ``[clip_start, clip_end)`` (by their middle), timed from
    ``clip_start`` and clamped into the clip."""
    duration = clip_end - clip_start
    inside = []
    for word in words:
        if clip_start <= (word.start + word.end) / 2 < clip_end:
            start = min(max(0.0, word.start - clip_start), duration)
            end = min(max(start, word.end - clip_start), duration)
            inside.append(Word(start=start, end=end, text=word.text, probability=word.probability))
    return inside


def caption_lines(
    words: Sequence[Word],
    *,
    max_words: int = MAX_LINE_WORDS,
    max_chars: int = MAX_LINE_CHARS,
    pause: float = PAUSE_BREAK,
    limit: float | None = None,
) -> list[CaptionLine]:
    """Group timed words into caption lines.

    A phrase ends at a sentence end or a pause of ``pause`` seconds; each phrase is split into
    as few lines as the limits allow, balanced so a lone word is not left on a line of its own
    when a 2 + 2 split exists. A line stays up until the next one starts, at most
    ``HOLD_AFTER`` seconds past its last word, and never past ``limit``.
    """
    grouped: list[tuple[Word, ...]] = []
    for phrase in _phrases([w for w in words if w.text.strip()], pause):
        grouped.extend(_split_phrase(phrase, max_words, max_chars))
    lines: list[CaptionLine] = []
    for index, group in enumerate(grouped):
        start = group[0].start
        end = max(group[-1].end, start + MIN_LINE_SECONDS) + HOLD_AFTER
        following = grouped[index + 1][0].start if index + 1 < len(grouped) else None
        if following is not None and following > start:
            end = min(end, following)  # never two lines on screen at once
        if limit is not None:
            end = min(end, limit)
        if end > start:
            lines.append(CaptionLine(start=start, end=end, words=group))
    return lines


def _phrases(words: Sequence[Word], pause: float) -> list[list[Word]]:
    phrases: list[list[Word]] = []
    for word in words:
        if phrases and not (
            ends_sentence(phrases[-1][-1]) or word.start - phrases[-1][-1].end >= pause
        ):
            phrases[-1].append(word)
        else:
            phrases.append([word])
    return phrases


def _split_phrase(phrase: Sequence[Word], max_words: int, max_chars: int) -> list[tuple[Word, ...]]:
    """Fewest lines that fit, then fewest single-word lines, then longer lines first."""
    n = len(phrase)
    # best[i]: (cost, cuts) for phrase[i:]; cost = (lines, lone words, -first line length)
    best: list[tuple[tuple[int, int, int], list[int]] | None] = [None] * (n + 1)
    best[n] = ((0, 0, 0), [])
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, min(n, i + max_words) + 1):
            fits = j == i + 1 or len(join_words(phrase[i:j])) <= max_chars
            rest = best[j]
            if not fits or rest is None:
                continue
            (lines, lone, _), cuts = rest
            cost = (lines + 1, lone + (j == i + 1 and n > 1), -(j - i))
            current = best[i]
            if current is None or cost < current[0]:
                best[i] = (cost, [j, *cuts])
    solution = best[0]
    assert solution is not None  # a single word always fits
    out, begin = [], 0
    for cut in solution[1]:
        out.append(tuple(phrase[begin:cut]))
        begin = cut
    return out


def as_cues(lines: Sequence[CaptionLine]) -> list[Cue]:
    """The lines as plain subtitle cues, for ``subtitles.to_srt`` / ``to_vtt``."""
    return [Cue(start=line.start, end=line.end, lines=(line.text,)) for line in lines]


# --- drawing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Look:
    """How one style draws, in fractions of the frame so every output size gets the same look."""

    size: float  # font size / the frame's short side
    text: pysubs2.Color
    highlight: pysubs2.Color
    outline_colour: pysubs2.Color
    back: pysubs2.Color
    border_style: int  # 1 outline + shadow; 4 one box behind the whole line (libass)
    outline: float  # / font size
    shadow: float  # / font size
    bold: bool
    margin: float  # bottom margin / frame height, for a tall frame
    flat_margin: float  # the same for frames that are not tall (1:1, 4:5, 16:9)


_LOOKS: dict[CaptionStyle, _Look] = {
    CaptionStyle.BOLD: _Look(
        size=0.064, text=pysubs2.Color(255, 255, 255), highlight=pysubs2.Color(255, 214, 0),
        outline_colour=pysubs2.Color(0, 0, 0), back=pysubs2.Color(0, 0, 0, 96),
        border_style=1, outline=0.09, shadow=0.04, bold=True, margin=0.27, flat_margin=0.12,
    ),
    CaptionStyle.BOXED: _Look(
        size=0.056, text=pysubs2.Color(255, 255, 255), highlight=pysubs2.Color(90, 220, 255),
        outline_colour=pysubs2.Color(0, 0, 0, 255), back=pysubs2.Color(0, 0, 0, 88),
        border_style=4, outline=0.25, shadow=0.0, bold=True, margin=0.27, flat_margin=0.12,
    ),
    CaptionStyle.MINIMAL: _Look(
        size=0.042, text=pysubs2.Color(200, 200, 200), highlight=pysubs2.Color(255, 255, 255),
        outline_colour=pysubs2.Color(0, 0, 0, 64), back=pysubs2.Color(0, 0, 0, 160),
        border_style=1, outline=0.05, shadow=0.0, bold=False, margin=0.22, flat_margin=0.08,
    ),
}  # fmt: skip
"""pysubs2 colours are RGBA with alpha 0 = opaque (ASS's convention)."""

STYLE_NAME = "Caption"


def ass_style(style: CaptionStyle, *, width: int, height: int) -> pysubs2.SSAStyle:
    """The ASS style of ``style`` for a ``width`` x ``height`` frame (not for NONE)."""
    look = _LOOKS[style]
    size = round(look.size * min(width, height))
    tall = height >= 1.5 * width
    return pysubs2.SSAStyle(
        fontname=FONT_NAME,
        fontsize=size,
        primarycolor=look.text,
        secondarycolor=look.highlight,
        outlinecolor=look.outline_colour,
        backcolor=look.back,
        bold=look.bold,
        borderstyle=look.border_style,
        outline=round(look.outline * size, 1),
        shadow=round(look.shadow * size, 1),
        alignment=pysubs2.Alignment.BOTTOM_CENTER,
        marginl=round(0.08 * width),
        marginr=round(0.08 * width),
        marginv=round((look.margin if tall else look.flat_margin) * height),
    )


def escape_text(text: str) -> str:
    """``text`` as literal ASS event text: no override blocks, no ``\\N``-style escapes."""
    return (
        text.replace("\\", "\\" + _WORD_JOINER)
        .replace("{", "\\{")
        .replace("}", "\\}")
        .replace("\n", " ")
        .replace("\r", " ")
    )


def _colour_tag(colour: pysubs2.Color) -> str:
    return f"&H{colour.b:02X}{colour.g:02X}{colour.r:02X}&"


def highlighted_text(line: CaptionLine, current: int, style: CaptionStyle) -> str:
    """The ASS text of ``line`` with word ``current`` in the style's highlight colour."""
    tag = "{\\1c" + _colour_tag(_LOOKS[style].highlight) + "}"
    text = ""
    for index, word in enumerate(line.words):
        if text and not word.text.startswith(ATTACHING):
            text += " "
        escaped = escape_text(word.text)
        text += f"{tag}{escaped}{{\\r}}" if index == current else escaped
    return text


def build_ass(
    lines: Sequence[CaptionLine], *, style: CaptionStyle, width: int, height: int
) -> pysubs2.SSAFile:
    """One event per spoken word: the whole line, that word highlighted, from its start until
    the next word starts (the last one until the line ends)."""
    document = pysubs2.SSAFile()
    document.info.update({
        "PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0",
        "ScaledBorderAndShadow": "yes", "YCbCr Matrix": "TV.709",
    })  # fmt: skip
    document.styles = {STYLE_NAME: ass_style(style, width=width, height=height)}
    for line in lines:
        for index, word in enumerate(line.words):
            start = line.start if index == 0 else word.start
            end = line.end if index + 1 == len(line.words) else line.words[index + 1].start
            start_ms, end_ms = round(start * 1000), round(end * 1000)
            if end_ms > start_ms:
                document.events.append(
                    pysubs2.SSAEvent(
                        start=start_ms,
                        end=end_ms,
                        style=STYLE_NAME,
                        text=highlighted_text(line, index, style),
                    )
                )
    return document


def write_ass(
    words: Sequence[Word],
    *,
    clip_start: float,
    clip_end: float,
    style: CaptionStyle,
    width: int,
    height: int,
    path: Path,
) -> Path | None:
    """Write the captions of the clip ``[clip_start, clip_end)`` of a transcript's ``words`` to
    ``path``; None (and no file) for ``CaptionStyle.NONE`` or a clip without speech."""
    if style is CaptionStyle.NONE:
        return None
    inside = clip_words(words, clip_start=clip_start, clip_end=clip_end)
    lines = caption_lines(inside, limit=clip_end - clip_start)
    if not lines:
        return None
    document = build_ass(lines, style=style, width=width, height=height)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path), format_="ass", encoding="utf-8")
    return path
