from __future__ import annotations

import re
import shutil
import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pysubs2
import pytest
import srt

from clipmill.shorts.job_schemas import CaptionStyle
from clipmill.shorts.render.captions import (
    MAX_LINE_CHARS,
    MAX_LINE_WORDS,
    PAUSE_BREAK,
    as_cues,
    ass_style,
    caption_lines,
    clip_words,
    write_ass,
)
from clipmill.shorts.sentences import ends_sentence
from clipmill.shorts.subtitles import to_srt
from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.transcript import Word

SCRIPT = [
    "Did you know that most people ruin their pasta in the first two minutes?",
    "They drop it in early.",
    "Wait.",
    "Extraordinarily unbelievable measurements happen, sometimes.",
]
STYLES = [CaptionStyle.BOLD, CaptionStyle.BOXED, CaptionStyle.MINIMAL]
_OUR_TAGS = re.compile(r"(?<!\\)\{[^}]*(?<!\\)\}")
_HIGHLIGHTED = re.compile(r"(?<!\\)\{\\1c&H[0-9A-F]{6}&\}(.*?)(?<!\\)\{\\r\}")


def words_of(script: list[str]) -> tuple[Word, ...]:
    return transcript_from_sentences(script, start=2.0, pauses={2: 1.0}).words


def literal(ass_text: str) -> str:
    """What libass shows for event text: our override blocks gone, escapes undone."""
    text = _OUR_TAGS.sub("", ass_text)
    return text.replace("\\{", "{").replace("\\}", "}").replace("\u2060", "")


# --- grouping ----------------------------------------------------------------------------------


def test_lines_are_short_and_never_cross_a_sentence_end_or_a_pause() -> None:
    words = clip_words(words_of(SCRIPT), clip_start=2.0, clip_end=60.0)
    lines = caption_lines(words)

    assert [w for line in lines for w in line.words] == words
    for line in lines:
        assert 1 <= len(line.words) <= MAX_LINE_WORDS
        assert len(line.words) == 1 or len(line.text) <= MAX_LINE_CHARS
        assert not any(ends_sentence(w) for w in line.words[:-1])
        assert all(b.start - a.end < PAUSE_BREAK for a, b in pairwise(line.words))
        assert line.start == line.words[0].start
        assert line.end >= line.words[-1].end
    assert all(a.end <= b.start for a, b in pairwise(lines))
    texts = [line.text for line in lines]
    assert "Wait." in texts  # a one-word sentence stands alone
    assert "Extraordinarily" in texts  # too long to share a line


def test_a_phrase_is_balanced_rather_than_leaving_a_word_alone() -> None:
    words = [
        Word(i * 0.4, i * 0.4 + 0.3, text) for i, text in enumerate(["one", "two", "six", "ten"])
    ]

    assert [line.text for line in caption_lines(words)] == ["one two", "six ten"]


def test_clip_words_keep_the_clip_and_are_timed_from_its_start() -> None:
    words = [Word(9.0, 9.4, "before"), Word(9.8, 10.4, "edge"), Word(12.0, 12.5, "in"),
             Word(14.8, 15.4, "after")]  # fmt: skip

    inside = clip_words(words, clip_start=10.0, clip_end=15.0)

    assert [w.text for w in inside] == ["edge", "in"]
    assert inside[0].start == 0.0 and inside[0].end == pytest.approx(0.4)
    assert inside[1].start == pytest.approx(2.0)


def test_lines_as_srt_cues() -> None:
    words = clip_words(words_of(SCRIPT), clip_start=2.0, clip_end=60.0)
    lines = caption_lines(words)

    parsed = list(srt.parse(to_srt(as_cues(lines))))

    assert [s.content for s in parsed] == [line.text for line in lines]
    assert parsed[0].start.total_seconds() == pytest.approx(0.0)


# --- the ASS file ------------------------------------------------------------------------------


@pytest.mark.parametrize("style", STYLES)
def test_each_event_highlights_the_word_being_spoken(style: CaptionStyle, tmp_path: Path) -> None:
    transcript_words = words_of(SCRIPT)
    clip_start, clip_end = 4.0, 14.0
    spoken = [w for w in transcript_words if clip_start <= (w.start + w.end) / 2 < clip_end]

    path = write_ass(
        transcript_words, clip_start=clip_start, clip_end=clip_end, style=style,
        width=1080, height=1920, path=tmp_path / "clip.ass",
    )  # fmt: skip

    assert path is not None
    document = pysubs2.load(str(path))
    assert document.info["PlayResX"] == "1080" and document.info["PlayResY"] == "1920"
    events = list(document.events)
    assert len(events) == len(spoken)
    for event, word in zip(events, spoken, strict=True):
        highlighted = _HIGHLIGHTED.findall(event.text)
        assert highlighted == [word.text]
        assert abs(event.start / 1000 - (word.start - clip_start)) <= 0.2
        assert event.end / 1000 <= clip_end - clip_start
        assert word.text in literal(event.text).split()
        assert len(literal(event.text)) <= MAX_LINE_CHARS or " " not in literal(event.text)
    assert all(a.end <= b.start for a, b in pairwise(events))


def test_styles_draw_differently_and_inside_the_safe_area() -> None:
    width, height = 1080, 1920
    looks = {style: ass_style(style, width=width, height=height) for style in STYLES}

    signatures = {
        (
            s.fontsize,
            repr(s.primarycolor),
            repr(s.secondarycolor),
            s.borderstyle,
            s.outline,
            s.marginv,
        )
        for s in looks.values()
    }
    assert len(signatures) == len(STYLES)
    assert looks[CaptionStyle.MINIMAL].fontsize < looks[CaptionStyle.BOLD].fontsize
    assert looks[CaptionStyle.BOLD].outline > looks[CaptionStyle.MINIMAL].outline
    assert looks[CaptionStyle.BOXED].borderstyle != looks[CaptionStyle.BOLD].borderstyle
    for look in looks.values():
        assert look.fontname == "DejaVu Sans"
        bottom = height - look.marginv
        top_of_two_lines = bottom - 2.4 * look.fontsize
        assert bottom <= 0.8 * height
        assert top_of_two_lines >= 0.15 * height
        assert bottom >= 0.55 * height  # the lower part of the frame, not the middle


def test_no_file_for_none_or_for_a_clip_without_speech(tmp_path: Path) -> None:
    words = words_of(SCRIPT)
    common = {"width": 720, "height": 1280}

    assert write_ass(words, clip_start=2, clip_end=9, style=CaptionStyle.NONE,
                     path=tmp_path / "a.ass", **common) is None  # fmt: skip
    assert write_ass(words, clip_start=100, clip_end=110, style=CaptionStyle.BOLD,
                     path=tmp_path / "b.ass", **common) is None  # fmt: skip
    assert not list(tmp_path.iterdir())


HOSTILE = ["{\\an8}", "a}b", "\\N", "{\\c&H0000FF&}x", "\\", "{"]


def test_markup_in_words_is_shown_literally(tmp_path: Path) -> None:
    words = [Word(0.5 + i * 0.5, 0.9 + i * 0.5, text) for i, text in enumerate(HOSTILE)]

    path = write_ass(words, clip_start=0, clip_end=5, style=CaptionStyle.BOLD,
                     width=320, height=568, path=tmp_path / "x.ass")  # fmt: skip

    assert path is not None
    events = pysubs2.load(str(path)).events
    shown = [literal(e.text) for e in events]
    assert " ".join(HOSTILE[:3]) in shown
    assert any(" ".join(HOSTILE[3:]) in s for s in shown)
    for event, word in zip(events, HOSTILE, strict=True):
        assert _HIGHLIGHTED.findall(event.text) == [pysubs2_escaped(word)]


def pysubs2_escaped(word: str) -> str:
    return word.replace("\\", "\\\u2060").replace("{", "\\{").replace("}", "\\}")


def _burn(ass: Path, tmp_path: Path, at: float, name: str) -> np.ndarray:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    out = tmp_path / f"{name}.gray"
    subprocess.run(
        [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "color=c=gray:s=320x568:d=5", "-ss", f"{at}", "-vf", f"ass={ass.name}",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", str(out)],
        check=True, cwd=ass.parent,
    )  # fmt: skip
    return np.frombuffer(out.read_bytes(), np.uint8).reshape(568, 320).astype(int)


def test_libass_draws_markup_words_as_text_in_the_lower_third(tmp_path: Path) -> None:
    words = [Word(0.5, 1.5, "{\\an8}"), Word(1.6, 2.5, "}{\\fs200}")]
    path = write_ass(words, clip_start=0, clip_end=5, style=CaptionStyle.BOLD,
                     width=320, height=568, path=tmp_path / "x.ass")  # fmt: skip
    assert path is not None

    frame = _burn(path, tmp_path, 1.0, "hostile")

    changed = np.abs(frame - 128) > 40
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.size, "nothing drawn"
    assert rows.min() > 0.5 * 568 and rows.max() < 0.8 * 568  # not moved to the top by \an8
    columns = np.flatnonzero(changed.any(axis=0))
    assert columns.max() - columns.min() > 100  # the braces and letters are drawn
    assert rows.max() - rows.min() < 0.15 * 568  # \fs200 did not blow the text up
