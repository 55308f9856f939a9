"""How clips read to a person: titles, reasons, tags and the "fewer than asked" note.

The planner at a git revision (``--baseline``, default HEAD) against the one in the work tree,
on generated talks (``tests/support/talks.py``). By default each talk's script is laid out as a
word-timed transcript (``transcript_from_sentences``), so hundreds of clips are graded in
seconds; ``--whisper`` adds the short talks spoken by espeak-ng and transcribed by the real
tiny.en model (cached beside the audio), misheard words and all.

Metrics, per planner:

- good titles: the share of titles that are a run of the clip's own words with a sensible
  shape (a sentence, a clause or a noun phrase; ``tests/support/title_shape.py`` says exactly
  what passes), and the share of each shape;
- duplicate titles: titles that repeat another clip's title in the same plan;
- debug reasons: reasons holding a digit or "Strongest:";
- repeated tags: a tag said twice in one clip, or a hashtag that only repeats a tag;
- short plans explained: of the plans with fewer clips than asked, the share that say why.

Usage::

    .venv/bin/python bench/title_quality.py [--seeds 100 200] [--max-clips 5 8] [--whisper]
        [--baseline HEAD] [--samples 3]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "bench")]

from plan_quality import load_baseline  # noqa: E402
from tests.support.talks import (  # noqa: E402
    TEST_SPECS,
    bench_specs,
    cache_root,
    compose,
    render,
    transcribe_talk,
)
from tests.support.title_shape import GOOD_SHAPES, TitleShape, title_shape  # noqa: E402

from clipmill.shorts.clips import ClipPlanOptions  # noqa: E402
from clipmill.shorts.features import AudioFeatures, analyze_audio  # noqa: E402
from clipmill.shorts.plan import plan_clips  # noqa: E402
from clipmill.shorts.testing import transcript_from_sentences  # noqa: E402
from clipmill.shorts.transcript import Transcript  # noqa: E402

DEBUG_REASON = re.compile(r"\d|Strongest:")


@dataclass
class Tally:
    """One planner over every talk."""

    titles: int = 0
    shapes: Counter[TitleShape] = field(default_factory=Counter)
    duplicates: int = 0
    debug_reasons: int = 0
    tags: int = 0
    repeated_tags: int = 0
    short_plans: int = 0
    explained: int = 0
    samples: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, plan: Any, asked: int, keep_samples: int) -> None:
        seen: Counter[str] = Counter()
        for clip in plan.clips:
            self.titles += 1
            shape = title_shape(clip.title, clip.transcript_segment)
            self.shapes[shape] += 1
            key = " ".join(clip.title.lower().split())
            self.duplicates += seen[key] > 0
            seen[key] += 1
            self.debug_reasons += bool(DEBUG_REASON.search(clip.reason))
            tags = [t.lower() for t in clip.tags]
            self.tags += len(tags)
            self.repeated_tags += len(tags) - len(set(tags))
            self.repeated_tags += sum(h.lstrip("#").lower() in tags for h in clip.hashtags)
            if len(self.samples) < keep_samples:
                self.samples.append((clip.title, shape.value, clip.reason))
        if len(plan.clips) < asked:
            self.short_plans += 1
            self.explained += bool(getattr(plan, "note", None))

    def row(self) -> dict[str, float]:
        n = self.titles or 1
        good = sum(self.shapes[s] for s in GOOD_SHAPES)
        out = {"titles": float(self.titles), "good titles": good / n}
        out |= {s.value: self.shapes[s] / n for s in TitleShape}
        out |= {
            "duplicate titles": float(self.duplicates),
            "debug reasons": self.debug_reasons / n,
            "repeated tags": self.repeated_tags / (self.tags or 1),
            "short plans": float(self.short_plans),
            "short plans explained": self.explained / (self.short_plans or 1),
        }
        return out


COUNTS = {"titles", "duplicate titles", "short plans"}


def scripted(seeds: Sequence[int]) -> list[tuple[str, Transcript, AudioFeatures | None]]:
    """Each generated script laid out in time (no audio, no recogniser)."""
    talks = []
    for seed in seeds:
        for spec in bench_specs(seed):
            composed = compose(spec)
            sentences = [s for topic in composed.script for s in topic.sentences]
            pauses = dict(enumerate(composed.pauses, start=1))
            talks.append((f"{spec.name}@{seed}", transcript_from_sentences(
                sentences, pauses=pauses), None))  # fmt: skip
    return talks


def spoken() -> list[tuple[str, Transcript, AudioFeatures | None]]:
    """The short talks through espeak-ng and tiny.en (cached), with their audio features."""
    specs = [*TEST_SPECS, *(s for s in bench_specs(100) if s.minutes < 2)]
    out = []
    for spec in specs:
        talk = render(spec, cache_root())
        out.append((spec.name, transcribe_talk(talk), analyze_audio(talk.wav)))
    return out


def run(
    planner: Callable[..., Any],
    talks: Sequence[tuple[str, Transcript, AudioFeatures | None]],
    max_clips: Sequence[int],
    samples: int,
) -> Tally:
    tally = Tally()
    for _, transcript, features in talks:
        for asked in max_clips:
            options = ClipPlanOptions(max_clips=asked)
            plan = planner(transcript, options=options, features=features, use_embeddings=False)
            tally.add(plan, asked, samples)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[100, 200])
    parser.add_argument("--max-clips", type=int, nargs="*", default=[5, 8])
    parser.add_argument("--whisper", action="store_true", help="add the spoken short talks")
    parser.add_argument("--baseline", default="HEAD", help="git revision of the old planner")
    parser.add_argument("--samples", type=int, default=0, help="print this many titles each")
    args = parser.parse_args()

    sets = {"scripted": scripted(args.seeds)}
    if args.whisper:
        sets["spoken (tiny.en)"] = spoken()
    with tempfile.TemporaryDirectory() as tmp:
        old_planner = load_baseline(args.baseline, Path(tmp))
        for name, talks in sets.items():
            old = run(old_planner, talks, args.max_clips, args.samples)
            new = run(plan_clips, talks, args.max_clips, args.samples)
            print(f"\n{name}: {len(talks)} talks, max_clips {args.max_clips}\n")
            print("| metric | old | new |\n|---|---|---|")
            for metric, value in old.row().items():
                shape = "{:.0f}" if metric in COUNTS else "{:.2f}"
                print(f"| {metric} | {shape.format(value)} | {shape.format(new.row()[metric])} |")
            for label, tally in (("old", old), ("new", new)):
                for title, shape_name, reason in tally.samples:
                    print(f"  {label}: {title!r} [{shape_name}] - {reason}")


if __name__ == "__main__":
    main()
