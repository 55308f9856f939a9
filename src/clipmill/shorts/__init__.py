"""Shorts: transcribe a long video, find the moments worth clipping, write subtitles.

Public API (rendering, reframing and captions live in their own modules):

- ``Transcriber`` / ``WhisperTranscriber`` / ``FakeTranscriber`` (``shorts.testing``)
- ``Transcript``, ``Segment``, ``Word``: the stored transcript (transcript.json)
- ``plan_clips(transcript, options=ClipPlanOptions(...)) -> ClipPlan`` (analysis/clips.json)
- ``to_srt``, ``to_vtt``, ``to_text``, ``clip_subtitles``
"""

from clipmill.shorts.clips import Clip, ClipPlan, ClipPlanOptions, RankSource
from clipmill.shorts.llm import ClipRanker, LlmRanker, RankerChoice
from clipmill.shorts.plan import plan_clips
from clipmill.shorts.scoring import ScoreWeights, SubScore
from clipmill.shorts.sentences import Chapter, Sentence
from clipmill.shorts.subtitles import Cue, clip_subtitles, to_srt, to_text, to_vtt
from clipmill.shorts.topics import Topic
from clipmill.shorts.transcribe import (
    Transcriber,
    WhisperTranscriber,
    available_models,
    resolve_model,
)
from clipmill.shorts.transcript import Segment, Transcript, Word

__all__ = [
    "Chapter",
    "Clip",
    "ClipPlan",
    "ClipPlanOptions",
    "ClipRanker",
    "Cue",
    "LlmRanker",
    "RankSource",
    "RankerChoice",
    "ScoreWeights",
    "Segment",
    "Sentence",
    "SubScore",
    "Topic",
    "Transcriber",
    "Transcript",
    "WhisperTranscriber",
    "Word",
    "available_models",
    "clip_subtitles",
    "plan_clips",
    "resolve_model",
    "to_srt",
    "to_text",
    "to_vtt",
]
