"""Find the moments worth clipping: the public entry point ``plan_clips``.

Steps, each in its own module: words -> sentences (``sentences``, split where the audio
pauses when Whisper left out the punctuation), edges snapped to the pauses heard in the audio
(``boundaries``), sentences -> topics from word overlap, discourse cues and pauses (``topics``,
``cues``), every sentence-aligned span inside one topic between the min and max duration ->
candidates, each scored from named sub-scores (``scoring``), then a greedy pick of the best
non-overlapping ones. A candidate never starts right after a lead-in ("Here is the shocking
part:") or ends on one, never ends on a sentence that announces a new topic, and never stops
before a sentence that carries on the last one ("And since then..."). Titles are phrases of the
clip's own words, distinct within the plan (``titles``); reasons are sentences (``reasons``);
tags are the clip's most salient content lemmas (``keywords``, ``vectors``). When the talk holds
fewer clips than asked, the plan's ``note`` says so and why. An optional ranker (``llm``) may
re-order the local top picks, retitle them and suggest hashtags; if it fails the local plan
stands.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from clipmill.shorts import embeddings as sentence_embeddings
from clipmill.shorts.boundaries import heard_pauses, snap_to_silence
from clipmill.shorts.clips import Clip, ClipPlan, ClipPlanOptions, RankSource
from clipmill.shorts.cues import is_leadin
from clipmill.shorts.features import AudioFeatures, analyze_audio
from clipmill.shorts.hooks import continues_previous
from clipmill.shorts.llm import ClipRanker, apply_choices
from clipmill.shorts.reasons import clip_reason
from clipmill.shorts.scoring import ScoredSpan, Scorer, ScoreWeights, Span, SubScore
from clipmill.shorts.sentences import Sentence, split_sentences
from clipmill.shorts.titles import (
    hashtag,
    make_description,
    make_title,
    title_key,
    video_keywords,
)
from clipmill.shorts.topics import Topic, opens_topic, segment_topics
from clipmill.shorts.transcript import Transcript
from clipmill.shorts.vectors import build_text_model

log = logging.getLogger(__name__)

RANKER_POOL_FACTOR = 2  # the ranker chooses among this many times max_clips local picks


def clip_edges(sentences: Sequence[Sentence]) -> tuple[list[bool], list[bool], list[bool]]:
    """Where a clip may start and end: (can start, can end, continued by the next sentence).

    Not right after a lead-in, whose payoff it would cut off; not on a lead-in; not on a
    sentence that opens a new topic ("Now let's talk about..."), which belongs to the next clip;
    and, inside a topic, not before a sentence that carries on this one ("And since then...").
    """
    leadin = [is_leadin(s.text) for s in sentences]
    can_start = [i == 0 or not leadin[i - 1] for i in range(len(sentences))]
    can_end = [not leadin[i] and not opens_topic(s) for i, s in enumerate(sentences)]
    continued = [
        i + 1 < len(sentences) and continues_previous(sentences[i + 1].text)
        for i in range(len(sentences))
    ]
    return can_start, can_end, continued


def generate_candidates(
    sentences: Sequence[Sentence], topics: Sequence[Topic], options: ClipPlanOptions
) -> list[Span]:
    """Sentence-aligned spans within one topic, plus whole-topic runs that rescue short topics."""
    can_start, can_end, continued = clip_edges(sentences)
    spans: list[Span] = []
    for topic in topics:
        last = topic.last_sentence
        for i in range(topic.first_sentence, last + 1):
            if not can_start[i]:
                continue
            for j in range(i, last + 1):
                duration = sentences[j].end - sentences[i].start
                if duration > options.max_clip_duration:
                    break
                if (
                    duration >= options.min_clip_duration
                    and can_end[j]
                    and (j == last or not continued[j])
                ):
                    spans.append(Span(i, j, sentences[i].start, sentences[j].end, topic.index))
    # a topic shorter than the minimum can only appear as part of a run of whole topics
    for t, topic in enumerate(topics):
        has_short = False
        for k in range(t, len(topics)):
            has_short = has_short or topics[k].end - topics[k].start < options.min_clip_duration
            duration = topics[k].end - topic.start
            if duration > options.max_clip_duration:
                break
            first, last = topic.first_sentence, topics[k].last_sentence
            if (
                k > t
                and has_short
                and duration >= options.min_clip_duration
                and can_start[first]
                and can_end[last]
            ):
                spans.append(Span(first, last, topic.start, topics[k].end, topic.index))
    return spans


def overlap(a: Span, b: Span) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


def pick(scored: Iterable[ScoredSpan], limit: int, allowed_overlap: float) -> list[ScoredSpan]:
    """Greedy: best first, skipping any that overlap a chosen one by more than allowed."""
    chosen: list[ScoredSpan] = []
    for candidate in scored:
        if len(chosen) >= limit:
            break
        if all(overlap(candidate.span, c.span) <= allowed_overlap + 1e-6 for c in chosen):
            chosen.append(candidate)
    return chosen


def _build_clip(
    clip_id: str,
    scored: ScoredSpan,
    scorer: Scorer,
    padding: float,
    taken: set[str],
) -> Clip:
    """A planned clip; its title is added to ``taken`` so the next clip gets another one."""
    span, sentences, model = scored.span, scorer.sentences, scorer.model
    head, tail = sentences[span.first], sentences[span.last]
    tags = tuple(dict.fromkeys(model.keywords(span.first, span.last + 1, 5)))
    title = make_title(
        sentences, model, span.first, span.last, scored.parts[SubScore.HOOK], taken=taken
    )
    taken.add(title_key(title))
    return Clip(
        clip_id=clip_id,
        title=title,
        description=make_description(sentences, span.first, span.last),
        start_time=max(0.0, span.start - min(padding, head.pause_before / 2)),
        end_time=span.end + min(padding, tail.pause_after / 2),
        transcript_segment=" ".join(s.text for s in sentences[span.first : span.last + 1]),
        score=scored.score,
        sub_scores={p.value: v for p, v in scored.parts.items()},
        explanations={p.value: n for p, n in scored.notes.items()},
        tags=tags,
        hashtags=(),
        reason=clip_reason(scorer, scored),
        first_sentence=span.first,
        last_sentence=span.last,
        topic=span.topic,
    )


def _tidy(clips: Sequence[Clip], local_titles: dict[str, str]) -> list[Clip]:
    """After a ranker: a title it repeated goes back to the local one, and a hashtag that
    only repeats a tag goes."""
    out: list[Clip] = []
    taken: set[str] = set()
    for clip in clips:
        title = clip.title
        if title_key(title) in taken:
            title = local_titles[clip.clip_id]
        taken.add(title_key(title))
        tags = {hashtag(t) for t in clip.tags}
        hashtags = tuple(h for h in dict.fromkeys(clip.hashtags) if h not in tags)
        out.append(replace(clip, title=title, hashtags=hashtags))
    return out


def _seconds(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _talk_length(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def shortfall_note(
    options: ClipPlanOptions, found: int, candidates: int, speech: bool, duration: float
) -> str | None:
    """Why the plan holds fewer clips than asked (None when it holds as many)."""
    asked = options.max_clips
    if found >= asked:
        return None
    lengths = f"{_seconds(options.min_clip_duration)}-{_seconds(options.max_clip_duration)} s"
    if not speech:
        return f"No speech was recognised, so there is nothing to clip; asked for {asked}."
    hint = " Shorter clips may find more." if options.min_clip_duration > 5 else ""
    if not candidates:
        return (
            f"No part of the talk ({_talk_length(duration)}) stands alone at {lengths}; "
            f"asked for {asked}.{hint}"
        )
    moments = "moment that stands" if found == 1 else "moments that stand"
    overlap = "" if options.overlap_duration else " without overlapping"
    return (
        f"The talk ({_talk_length(duration)}) has {found} {moments} alone at {lengths}"
        f"{overlap}; asked for {asked}.{hint}"
    )


def plan_clips(
    transcript: Transcript,
    *,
    options: ClipPlanOptions | None = None,
    audio_path: Path | None = None,
    chapters: Sequence[Any] | None = None,
    ranker: ClipRanker | None = None,
    weights: ScoreWeights | None = None,
    features: AudioFeatures | None = None,
    use_embeddings: bool = True,
) -> ClipPlan:
    """Plan up to ``options.max_clips`` stand-alone clips from a word-timed transcript.

    ``audio_path`` (the 16 kHz mono WAV) enables silence-snapped edges and audio energy;
    ``chapters`` are (start, end, title) and act as hard boundaries; ``ranker`` is optional.
    Sentence embeddings (all-MiniLM-L6-v2, ``embeddings``) join word overlap in finding topics
    when their package is installed, unless ``use_embeddings`` is False.
    """
    options = options or ClipPlanOptions()
    weights = weights or ScoreWeights()
    if features is None and audio_path is not None:
        features = analyze_audio(Path(audio_path))
    heard = heard_pauses(transcript.words, features) if features is not None else None
    sentences = split_sentences(
        transcript.words, duration=transcript.duration, chapters=chapters, heard_pauses=heard
    )
    if features is not None:
        sentences = snap_to_silence(sentences, features, transcript.duration)
    model = build_text_model([s.text for s in sentences])
    vectors = None
    if use_embeddings and sentences and sentence_embeddings.available():
        vectors = sentence_embeddings.embed([s.text for s in sentences])
    topics = segment_topics(sentences, model, chapters=chapters, embeddings=vectors)
    spans = generate_candidates(sentences, topics, options)
    scorer = Scorer(
        sentences, model, target_duration=options.clip_duration, features=features,
        weights=weights,
    )  # fmt: skip
    scorer.prepare(spans, [(t.first_sentence, t.last_sentence) for t in topics])
    ranked = sorted((scorer.score(s) for s in spans), key=lambda c: (-c.score, c.span.start))
    pool_size = options.max_clips * (RANKER_POOL_FACTOR if ranker is not None else 1)
    pool = [
        scorer.score(c.span, explain=True)
        for c in pick(ranked, pool_size, options.overlap_duration)
    ]
    taken: set[str] = set()
    clips = [
        _build_clip(f"c{n}", c, scorer, options.padding, taken) for n, c in enumerate(pool, start=1)
    ]
    local_titles = {clip.clip_id: clip.title for clip in clips}
    ranked_by = RankSource.LOCAL
    if ranker is not None and clips:
        reordered = apply_choices(clips, ranker.rerank(clips))
        if reordered is not None:
            clips, ranked_by = reordered, RankSource.LLM
        else:
            log.info("clip ranker gave no usable answer; keeping the local ranking")
    final = tuple(
        replace(clip, clip_id=f"clip-{n:02d}")
        for n, clip in enumerate(_tidy(clips, local_titles)[: options.max_clips], start=1)
    )
    return ClipPlan(
        options=options,
        sentences=tuple(sentences),
        topics=tuple(topics),
        candidate_count=len(spans),
        clips=final,
        ranked_by=ranked_by,
        keywords=tuple(video_keywords(model)),
        note=shortfall_note(options, len(final), len(spans), bool(sentences), transcript.duration),
    )
