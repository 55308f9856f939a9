"""Clip-plan quality on generated talks: the planner at HEAD against the one in the work tree.

Talks come from ``tests/support/talks.py`` (espeak-ng, five voices, 1 to 10 minutes, 2 to 8
topics, cues or none, distinct or shared vocabularies, planted hooks) and are transcribed with
the real bundled Whisper model (tiny.en), cached beside the audio. The old planner is the code
at a git revision (``--baseline``, default HEAD), copied into a temporary package so both run
in one process on the same transcripts and audio.

Metrics, per talk group and overall:

- Pk and WindowDiff of the topics over the script's true sentences (lower is better; k is half
  the mean true topic length);
- topics right: the share of talks whose topic count is exact;
- edges ok: the share of clip starts within 0.3 s of a true sentence start and clip ends within
  0.3 s of a true sentence end;
- crossing: clips that run across a true topic boundary; opener end: clips ending on the
  sentence that opens the next topic; lead-in cut: clips starting right after a colon lead-in
  or ending on one;
- hook recall: planted hooks that open a clip (``max_clips`` is the talk's hook count, or 5);
- stop tags: tags that are stop words or light verbs of speech ("let", "think", "going").

Usage::

    .venv/bin/python bench/plan_quality.py [--seed 100] [--baseline HEAD] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.support.talk import Talk  # noqa: E402
from tests.support.talks import (  # noqa: E402
    TalkSpec,
    bench_specs,
    cache_root,
    group_of,
    render,
    transcribe_talk,
)

from clipmill.shorts.clips import ClipPlanOptions  # noqa: E402
from clipmill.shorts.features import analyze_audio  # noqa: E402
from clipmill.shorts.keywords import STOP_WORDS  # noqa: E402
from clipmill.shorts.plan import plan_clips  # noqa: E402

TOLERANCE = 0.3
PLANNING_MODULES = (
    "sentences", "boundaries", "topics", "vectors", "features", "scoring", "hooks", "titles",
    "clips", "plan", "llm", "cues", "keywords",
)  # fmt: skip


def load_baseline(revision: str, into: Path) -> Callable[..., Any]:
    """``plan_clips`` as it was at ``revision``, imported from a copy of its modules."""
    package = "clipmill_baseline_shorts"
    folder = into / package
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    pattern = re.compile(r"\bclipmill\.shorts\.(" + "|".join(PLANNING_MODULES) + r")\b")
    for name in PLANNING_MODULES:
        shown = subprocess.run(
            ["git", "show", f"{revision}:src/clipmill/shorts/{name}.py"],
            cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if shown.returncode == 0:
            (folder / f"{name}.py").write_text(pattern.sub(package + r".\1", shown.stdout))
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{package}.plan").plan_clips


@dataclass
class Scores:
    """One planner on one talk."""

    pk: float
    windowdiff: float
    topics_right: bool
    edges_ok: int
    edges: int
    crossing: int
    opener_end: int
    leadin_cut: int
    hooks_found: int
    hooks: int
    stop_tags: int
    tags: int
    clips: int


def reference_topics(talk: Talk) -> list[int]:
    return [s.topic for s in talk.sentences]


def hypothesis_topics(talk: Talk, topic_starts: Sequence[float]) -> list[int]:
    """The found topic of each true sentence (by its middle)."""
    out = []
    for sentence in talk.sentences:
        middle = (sentence.start + sentence.end) / 2
        out.append(sum(1 for start in topic_starts[1:] if start <= middle))
    return out


def pk_windowdiff(reference: Sequence[int], hypothesis: Sequence[int]) -> tuple[float, float]:
    """Beeferman's Pk and Pevzner & Hearst's WindowDiff over a sequence of topic labels."""
    segments = len(set(reference))
    k = max(1, round(len(reference) / segments / 2))
    trials = len(reference) - k
    if trials <= 0:
        return 0.0, 0.0
    pk = wd = 0
    for i in range(trials):
        same_ref = reference[i] == reference[i + k]
        same_hyp = hypothesis[i] == hypothesis[i + k]
        pk += same_ref != same_hyp
        ref_b = sum(a != b for a, b in pairwise(reference[i : i + k + 1]))
        hyp_b = sum(a != b for a, b in pairwise(hypothesis[i : i + k + 1]))
        wd += ref_b != hyp_b
    return pk / trials, wd / trials


def near(value: float, targets: Sequence[float]) -> bool:
    return min(abs(value - t) for t in targets) <= TOLERANCE


def score_plan(talk: Talk, plan: Any) -> Scores:
    pk, wd = pk_windowdiff(
        reference_topics(talk), hypothesis_topics(talk, [t.start for t in plan.topics])
    )
    starts = [s.start for s in talk.sentences]
    ends = [s.end for s in talk.sentences]
    boundaries = [
        (talk.sentences[i - 1].end + talk.sentences[i].start) / 2 for i in talk.topic_starts
    ]
    opener_ends = [talk.sentences[i].end for i in talk.topic_starts]
    leadin_ends = [s.end for s in talk.leadins]
    payoff_starts = [talk.sentences[s.index + 1].start for s in talk.leadins]
    hooks = talk.hooks
    clips = plan.clips
    tags = [tag for clip in clips for tag in clip.tags]
    return Scores(
        pk=pk,
        windowdiff=wd,
        topics_right=len(plan.topics) == len(talk.topic_ranges),
        edges_ok=sum(near(c.start_time, starts) for c in clips)
        + sum(near(c.end_time, ends) for c in clips),
        edges=2 * len(clips),
        crossing=sum(any(c.start_time < b < c.end_time for b in boundaries) for c in clips),
        opener_end=sum(bool(opener_ends) and near(c.end_time, opener_ends) for c in clips),
        leadin_cut=sum(
            (bool(payoff_starts) and near(c.start_time, payoff_starts))
            or (bool(leadin_ends) and near(c.end_time, leadin_ends))
            for c in clips
        ),
        hooks_found=sum(near(h.start, [c.start_time for c in clips]) for h in hooks if clips),
        hooks=len(hooks),
        stop_tags=sum(tag.lower() in STOP_WORDS for tag in tags),
        tags=len(tags),
        clips=len(clips),
    )


def summarise(rows: Sequence[Scores]) -> dict[str, float]:
    n = len(rows) or 1
    edges = sum(r.edges for r in rows) or 1
    return {
        "Pk": sum(r.pk for r in rows) / n,
        "WindowDiff": sum(r.windowdiff for r in rows) / n,
        "topics right": sum(r.topics_right for r in rows) / n,
        "edges ok": sum(r.edges_ok for r in rows) / edges,
        "crossing": sum(r.crossing for r in rows),
        "opener end": sum(r.opener_end for r in rows),
        "lead-in cut": sum(r.leadin_cut for r in rows),
        "hook recall": sum(r.hooks_found for r in rows) / (sum(r.hooks for r in rows) or 1),
        "stop tags": sum(r.stop_tags for r in rows) / (sum(r.tags for r in rows) or 1),
        "clips": sum(r.clips for r in rows),
    }


COUNTS = {"crossing", "opener end", "lead-in cut", "clips"}


def table(results: dict[str, dict[str, list[Scores]]]) -> str:
    """Markdown: one row per talk group, each cell "old -> new"."""
    metrics = list(summarise([]))
    lines = [
        "| talks | n | " + " | ".join(metrics) + " |",
        "|---|---|" + "---|" * len(metrics),
    ]
    for group, by_planner in results.items():
        old, new = summarise(by_planner["old"]), summarise(by_planner["new"])
        cells = []
        for metric in metrics:
            shape = "{:.0f}" if metric in COUNTS else "{:.2f}"
            cells.append(f"{shape.format(old[metric])} → {shape.format(new[metric])}")
        lines.append(f"| {group} | {len(by_planner['new'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratios(results: dict[str, dict[str, list[Scores]]]) -> str:
    """One line per metric over all talks: old, new and new/old."""
    old, new = summarise(results["all"]["old"]), summarise(results["all"]["new"])
    lines = ["| metric (all talks) | old | new | new/old |", "|---|---|---|---|"]
    for metric in old:
        ratio = f"{new[metric] / old[metric]:.2f}" if old[metric] else "-"
        lines.append(f"| {metric} | {old[metric]:.3f} | {new[metric]:.3f} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=100, help="first seed of the talk set")
    parser.add_argument("--baseline", default="HEAD", help="git revision of the old planner")
    parser.add_argument("--only", nargs="*", help="talk names to run")
    parser.add_argument("--verbose", action="store_true", help="print every talk's topics")
    args = parser.parse_args()

    specs: list[TalkSpec] = [
        s for s in bench_specs(args.seed) if not args.only or s.name in args.only
    ]
    with tempfile.TemporaryDirectory() as tmp:
        old_planner = load_baseline(args.baseline, Path(tmp))
        results: dict[str, dict[str, list[Scores]]] = defaultdict(lambda: defaultdict(list))
        seconds = {"old": 0.0, "new": 0.0}
        audio_minutes = 0.0
        for spec in specs:
            talk = render(spec, cache_root())
            transcript = transcribe_talk(talk)
            features = analyze_audio(talk.wav)
            audio_minutes += talk.duration / 60
            options = ClipPlanOptions(max_clips=max(5, len(talk.hooks)))
            for name, planner in (("old", old_planner), ("new", plan_clips)):
                began = time.perf_counter()
                plan = planner(transcript, options=options, features=features)
                seconds[name] += time.perf_counter() - began
                scores = score_plan(talk, plan)
                for group in (group_of(spec), "all"):
                    results[group][name].append(scores)
                if args.verbose:
                    print(f"{spec.name:24s} {name}: {len(plan.topics)}/{len(talk.topic_ranges)} "
                          f"topics, Pk {scores.pk:.2f}, hooks {scores.hooks_found}/{scores.hooks}"
                          f", crossing {scores.crossing}, edges {scores.edges_ok}/{scores.edges}, "
                          f"tags {[c.tags for c in plan.clips][:2]}")  # fmt: skip
    print(f"{len(specs)} talks, {audio_minutes:.1f} minutes of speech; planning took "
          f"{seconds['old']:.1f} s (old) and {seconds['new']:.1f} s (new)\n")  # fmt: skip
    ordered = {g: results[g] for g in sorted(results, key=lambda g: (g == "all", g))}
    print(table(ordered))
    print()
    print(ratios(ordered))


if __name__ == "__main__":
    main()
