"""Correcting a misheard word of a finished job's transcript, and what follows from it.

Whisper hears "month" where the speaker said "button"; the word then sits in the burned-in
captions, the SRT/VTT and often the title ("Month fix"). A correction changes the one word (its
times stay), and every clip whose span holds that word gets the new text in its
``transcript_segment``, its description and its title (the old word replaced as a whole word,
in the title's own capitalisation) and renders again; the other clips are left alone. These are
the pure parts; `clipmill.shorts.clip_edits.ClipEditor.correct_word` applies them.
"""

from __future__ import annotations

import re
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from clipmill.errors import InvalidOption
from clipmill.shorts.job_schemas import PlannedClip
from clipmill.shorts.transcript import Segment, Transcript, Word, join_words

MAX_WORD_CHARS = 100
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


class WordFix(BaseModel):
    """``PATCH /api/v1/jobs/{id}/transcript/words/{index}``: the word's right text."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        max_length=MAX_WORD_CHARS,
        description='What was said, with its punctuation ("button,"); not empty.',
    )


def clean_text(text: str) -> str:
    """The correction as one caption token: whitespace collapsed, never empty."""
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidOption("The corrected word must not be empty.", field="text")
    return cleaned


def corrected(transcript: Transcript, index: int, text: str) -> tuple[Transcript, Word]:
    """The transcript with word ``index`` (0-based, in time order) reading ``text``; and the
    word as it was. The word's segment text is rebuilt from its words."""
    count = len(transcript.words)
    if not 0 <= index < count:
        raise InvalidOption(
            f"There is no word {index}: the transcript has {count} words (0 to {count - 1}).",
            field="index",
        )
    seen = 0
    segments: list[Segment] = []
    old: Word | None = None
    for segment in transcript.segments:
        if old is None and index < seen + len(segment.words):
            words = list(segment.words)
            old = words[index - seen]
            words[index - seen] = replace(old, text=text, probability=1.0)
            segment = replace(segment, words=tuple(words), text=join_words(words))
        seen += len(segment.words)
        segments.append(segment)
    assert old is not None
    return replace(transcript, segments=tuple(segments)), old


def holds(clip: PlannedClip, word: Word) -> bool:
    """Whether the clip shows the word (its middle is inside, as the clip's words are picked)."""
    return clip.start_time <= (word.start + word.end) / 2 <= clip.end_time


def core(text: str) -> str:
    """A token without the punctuation around it: ``"Month,"`` -> ``Month``."""
    return _EDGES.sub("", text)


def replace_word(text: str, old: str, new: str) -> str:
    """``text`` with each whole-word ``old`` (any case) as ``new``, in the case it had there:
    "Month fix" with month -> button is "Button fix"; "MONTH" becomes "BUTTON"."""
    old, new = core(old), core(new)
    if not old or not new or old == new:
        return text

    def cased(match: re.Match[str]) -> str:
        found = match.group(0)
        if found.isupper() and len(found) > 1:
            return new.upper()
        if found[0].isupper():
            return new[0].upper() + new[1:]
        return new

    return re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", cased, text, flags=re.IGNORECASE)


def follow_correction(
    clip: PlannedClip, transcript: Transcript, old: Word, new_text: str
) -> PlannedClip:
    """The clip with its text, description and title following the corrected word."""
    inside = [w for w in transcript.words if holds(clip, w)]
    return clip.model_copy(
        update={
            "transcript_segment": join_words(inside),
            "description": replace_word(clip.description, old.text, new_text),
            "title": replace_word(clip.title, old.text, new_text)[:200],
        }
    )
