"""Subtitles from word timestamps: SRT (``srt``), WebVTT (``webvtt-py``) and plain text.

Cues follow the usual broadcast limits: at most two lines of 42 characters, a few seconds each,
ending at a sentence end or a pause where possible so a cue never straddles two thoughts.
``clip_subtitles`` re-times the cues of one clip to start at zero for the per-clip files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import srt
import webvtt

from clipmill.shorts.sentences import ends_sentence, split_sentences
from clipmill.shorts.transcript import Transcript, Word, join_words

MAX_LINE_CHARS = 42
MAX_CUE_SECONDS = 7.0
PAUSE_BREAK = 0.8  # a silence this long ends the cue
MIN_CUE_SECONDS = 0.5  # very short cues are stretched into the following silence


@dataclass(frozen=True)
class Cue:
    """One subtitle: lines shown together from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def wrap(words: Sequence[Word], width: int = MAX_LINE_CHARS) -> tuple[str, ...] | None:
    """Split words into at most two balanced lines of ``width``; None if they do not fit."""
    text = join_words(words)
    if len(text) <= width:
        return (text,)
    best: tuple[str, str] | None = None
    for cut in range(1, len(words)):
        first, second = join_words(words[:cut]), join_words(words[cut:])
        fits = len(first) <= width and len(second) <= width
        if fits and (best is None or max(len(first), len(second)) < max(map(len, best))):
            best = (first, second)
    return best


def group_words(words: Sequence[Word]) -> list[list[Word]]:
    """Greedy grouping of words into cue-sized runs."""
    groups: list[list[Word]] = []
    current: list[Word] = []
    for word in words:
        if current:
            too_long = word.end - current[0].start > MAX_CUE_SECONDS
            paused = word.start - current[-1].end >= PAUSE_BREAK
            fits = wrap([*current, word]) is not None
            if too_long or paused or not fits or ends_sentence(current[-1]):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def build_cues(
    words: Sequence[Word], *, offset: float = 0.0, limit: float | None = None
) -> list[Cue]:
    """Cues for ``words``, shifted by ``-offset`` and clamped to [0, limit]."""
    groups = group_words(words)
    cues: list[Cue] = []
    for index, group in enumerate(groups):
        start = group[0].start - offset
        end = group[-1].end - offset
        following = groups[index + 1][0].start - offset if index + 1 < len(groups) else None
        if end - start < MIN_CUE_SECONDS:
            end = (
                start + MIN_CUE_SECONDS
                if following is None
                else min(start + MIN_CUE_SECONDS, following)
            )
        start = max(0.0, start)
        if limit is not None:
            end = min(end, limit)
        lines = wrap(group) or (join_words(group),)
        if end > start:
            cues.append(Cue(start=start, end=end, lines=lines))
    return cues


def transcript_cues(transcript: Transcript) -> list[Cue]:
    return build_cues(transcript.words)


def clip_subtitles(transcript: Transcript, start: float, end: float) -> list[Cue]:
    """Cues for the words whose middle lies in [start, end], timed from the clip's start."""
    words = [w for w in transcript.words if start <= (w.start + w.end) / 2 <= end]
    return build_cues(words, offset=start, limit=end - start)


def _cues(source: Transcript | Sequence[Cue]) -> list[Cue]:
    return transcript_cues(source) if isinstance(source, Transcript) else list(source)


def to_srt(source: Transcript | Sequence[Cue]) -> str:
    """SubRip text for a transcript or for cues (e.g. from ``clip_subtitles``)."""
    subtitles = [
        srt.Subtitle(
            index=i,
            start=dt.timedelta(seconds=cue.start),
            end=dt.timedelta(seconds=cue.end),
            content=cue.text,
        )
        for i, cue in enumerate(_cues(source), start=1)
    ]
    return srt.compose(subtitles, reindex=False)


def _vtt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def to_vtt(source: Transcript | Sequence[Cue]) -> str:
    """WebVTT text for a transcript or for cues."""
    document = webvtt.WebVTT()
    for cue in _cues(source):
        document.captions.append(
            webvtt.Caption(_vtt_time(cue.start), _vtt_time(cue.end), list(cue.lines))
        )
    return document.content


def to_text(transcript: Transcript) -> str:
    """Plain text, one sentence per line."""
    sentences = split_sentences(transcript.words, duration=transcript.duration)
    return "\n".join(s.text for s in sentences) + ("\n" if sentences else "")
