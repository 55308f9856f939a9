"""A generator of espeak-ng talks with ground truth, so the planner is judged on talks it never saw.

``compose(spec)`` writes a script from a seed: 2 to 8 topics drawn from word banks (with
distinct vocabularies, or from one family so that topics share words), sentences of varied
length from templates, discourse cues at topic changes or none at all, and planted hooks (a
question, a surprising claim, or a lead-in with a colon followed by its payoff). ``render``
speaks it with ``build_talk`` in the spec's voice with seeded pauses; ``transcribe_talk`` runs
the real bundled Whisper model once and caches the transcript beside the audio.

The ground truth is the script itself: each sentence's true times, its topic, whether it is a
hook or a lead-in. Nothing here knows how the planner works.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from clipmill.shorts.transcript import Transcript
from tests.support.talk import DEFAULT_VOICE, ScriptTopic, Talk, Voice, build_talk


@dataclass(frozen=True)
class Bank:
    """The words of one subject; ``family`` groups subjects that share ``FAMILY_WORDS``."""

    key: str
    title: str
    family: str
    nouns: tuple[str, ...]
    verbs: tuple[str, ...]
    adjectives: tuple[str, ...]


def _bank(key: str, title: str, family: str, nouns: str, verbs: str, adjectives: str) -> Bank:
    return Bank(key, title, family, tuple(nouns.split()), tuple(verbs.split()),
                tuple(adjectives.split()))  # fmt: skip


BANKS: tuple[Bank, ...] = (
    _bank("pasta", "cooking pasta at home", "kitchen",
          "pasta sauce pot tomato garlic noodle colander basil cheese", "boil stir drain season",
          "firm sticky salty tender"),
    _bank("bread", "baking bread", "kitchen",
          "dough flour yeast oven loaf crust butter starter tray", "knead bake shape slice",
          "crusty fluffy dense golden"),
    _bank("coffee", "brewing coffee", "kitchen",
          "coffee bean grinder espresso filter kettle mug milk roast", "grind brew pour weigh",
          "bitter fresh strong smooth"),
    _bank("hiking", "hiking in the mountains", "outdoors",
          "mountain trail boot summit compass ridge hiker valley blister", "hike climb pack rest",
          "steep rocky muddy remote"),
    _bank("cycling", "cycling to work", "outdoors",
          "bicycle helmet tire chain saddle brake gear lane pedal", "ride pump oil lock",
          "flat rusty quick safe"),
    _bank("camping", "camping by a lake", "outdoors",
          "tent campfire lake stove lantern firewood canoe mosquito blanket",
          "pitch light paddle gather", "smoky quiet damp cozy"),
    _bank("network", "the home network", "tech",
          "router network cable signal modem antenna bandwidth hallway",
          "restart connect move test",
          "wireless slow stable crowded"),
    _bank("backups", "backing up your photos", "tech",
          "backup photo drive cloud folder archive album disk", "copy sync restore label",
          "external encrypted safe old"),
    _bank("battery", "phone battery life", "tech",
          "battery charger brightness notification app widget socket", "charge dim unplug disable",
          "warm drained full bright"),
    _bank("vegetables", "growing vegetables", "garden",
          "carrot lettuce compost bed harvest weed row sprout cucumber", "sow weed thin mulch",
          "crisp sandy shady ripe"),
    _bank("houseplants", "caring for houseplants", "garden",
          "houseplant windowsill fern cactus orchid drainage humidity fertilizer",
          "repot mist prune rotate", "leafy droopy humid sunny"),
    _bank("budget", "planning a monthly budget", "money",
          "budget expense receipt rent grocery spreadsheet envelope subscription bill",
          "track cancel list compare", "monthly fixed hidden tight"),
    _bank("investing", "investing for retirement", "money",
          "fund stock retirement portfolio fee dividend index market pension",
          "invest diversify rebalance hold", "cheap volatile steady careful"),
    _bank("guitar", "learning the guitar", "music",
          "guitar chord string finger fret tuner pick metronome song", "tune strum practice press",
          "sore sharp loud clean"),
    _bank("choir", "singing in a choir", "music",
          "choir voice breath note harmony rehearsal lyric conductor throat", "sing breathe hum",
          "high low soft clear"),
)  # fmt: skip

FAMILY_WORDS: dict[str, tuple[str, ...]] = {
    "kitchen": ("kitchen", "water", "heat", "pan", "recipe", "taste", "counter"),
    "outdoors": ("weather", "backpack", "jacket", "route", "water", "morning", "map"),
    "tech": ("computer", "screen", "software", "file", "password", "phone", "setting"),
    "garden": ("soil", "plant", "water", "sun", "seed", "leaf", "spring"),
    "money": ("money", "month", "bank", "account", "spending", "plan", "saving"),
    "music": ("music", "practice", "rhythm", "teacher", "lesson", "sound", "stage"),
}

# {n} {m}: nouns, {v}: a verb, {a}: an adjective. No numbers, questions or claim words here, so
# the planted hooks are the only sentences that open like hooks (a "you" may appear, as in talk).
TEMPLATES_SHORT = (
    "Always {v} the {n} first.",
    "The {n} should stay {a}.",
    "A {a} {n} helps a lot.",
    "Check the {n} every week.",
    "Keep the {m} near the {n}.",
    "The {n} matters more than the {m}.",
)
TEMPLATES_MEDIUM = (
    "Most of the time the {n} and the {m} work well together.",
    "I like to {v} the {n} before I touch the {m}.",
    "The {n} gets {a} when you leave it alone for too long.",
    "A good {n} makes the whole {m} much easier.",
    "Keep the {n} close to the {m} so it is easy to reach.",
    "People often forget to {v} the {n} after using the {m}.",
    "My friend always says a {a} {n} is worth the effort.",
    "It helps to {v} the {n} slowly and look at the {m}.",
)
TEMPLATES_LONG = (
    "When the {n} starts to look {a}, take a moment to {v} the {m} before you go any further.",
    "If you {v} the {n} slowly and carefully, the {m} stays {a} and everything feels calmer.",
    "My neighbour showed me how to {v} the {n}, and since then my {m} has been {a} most days.",
    "A {a} {n} and a clean {m} will save you a lot of trouble later in the week.",
    "Some people {v} the {n} by hand, while others leave the {m} to do most of the work.",
)
CUES = (
    "Now let us talk about {t}.",
    "Next, I want to talk about {t}.",
    "Moving on, let us look at {t}.",
    "Another thing worth covering is {t}.",
    "Let us turn to {t}.",
    "The next topic is {t}.",
    "Okay, so now on to {t}.",
)
LAST_CUES = ("Finally, let us talk about {t}.", "The last topic is {t}.")
WEAK_CUES_INSIDE = ("Next, {v} the {n}.", "Finally, {v} the {n} and the {m}.", "Now {v} the {n}.")
HOOK_QUESTIONS = (
    "Did you know that ninety percent of people never {v} their {n}?",
    "Why does the {n} always end up {a}?",
    "What happens when you {v} the {n} too early?",
    "Have you ever wondered why the {n} gets {a} so fast?",
)
HOOK_CLAIMS = (
    "Most people get the {n} completely wrong.",
    "The biggest mistake is to ignore the {n}.",
    "This one simple trick makes your {n} twice as {a}.",
)
LEADINS = (
    "Here is the shocking part:",
    "Here is the thing nobody tells you:",
    "And here is the secret:",
    "This is the surprising part:",
)
PAYOFFS = (
    "most people never {v} the {n}, and that is why the {m} fails.",
    "the {n} matters far more than the {m} ever will.",
    "you should {v} the {n} before anything else, every single time.",
)
HOOK_KINDS = ("question", "claim", "leadin")


@dataclass(frozen=True)
class TalkSpec:
    """What to generate: every talk is a pure function of its spec."""

    name: str
    seed: int
    minutes: float
    topics: int
    voice: Voice = DEFAULT_VOICE
    cues: bool = True  # discourse cues open each topic after the first
    shared: bool = False  # topics from one family, sharing words
    topic_pause: float | None = None  # extra silence between topics; None: like any sentence
    weak_cues_inside: bool = True  # "Next, ..." and "Finally, ..." inside topics too


@dataclass(frozen=True)
class Composed:
    """A script plus the pauses between its sentences."""

    spec: TalkSpec
    script: tuple[ScriptTopic, ...]
    pauses: tuple[float, ...]


def _words(sentence: str) -> int:
    return len(sentence.split())


def _fill(template: str, bank: Bank, rng: random.Random, shared: bool) -> str:
    nouns = list(bank.nouns)
    n = rng.choice(nouns)
    pool = list(FAMILY_WORDS[bank.family]) if shared and rng.random() < 0.6 else nouns
    m = rng.choice([w for w in pool if w != n])
    text = template.format(
        n=n, m=m, v=rng.choice(bank.verbs), a=rng.choice(bank.adjectives), t=bank.title
    )
    return text[:1].upper() + text[1:]


def _plain(bank: Bank, rng: random.Random, shared: bool) -> str:
    group = rng.choices((TEMPLATES_SHORT, TEMPLATES_MEDIUM, TEMPLATES_LONG), (3, 5, 3))[0]
    return _fill(rng.choice(group), bank, rng, shared)


def _pick_banks(spec: TalkSpec, rng: random.Random) -> list[Bank]:
    if spec.shared:
        families = sorted({b.family for b in BANKS})
        rng.shuffle(families)
        chosen: list[Bank] = []
        for family in families:  # fill from whole families, so neighbours share words
            members = [b for b in BANKS if b.family == family]
            rng.shuffle(members)
            chosen.extend(members)
        return chosen[: spec.topics]
    banks = list(BANKS)
    rng.shuffle(banks)
    chosen = []
    for bank in banks:  # distinct: no two topics from one family while families last
        if all(b.family != bank.family for b in chosen) or len(chosen) >= 6:
            chosen.append(bank)
        if len(chosen) == spec.topics:
            break
    return chosen


def seconds_for(sentence: str, voice: Voice) -> float:
    """Rough spoken length, to plan topic lengths (the rendered times are the truth)."""
    return _words(sentence) * 60.0 / voice.speed + 0.3


def compose(spec: TalkSpec) -> Composed:
    """The script of ``spec`` (deterministic in its seed)."""
    rng = random.Random(spec.seed)
    banks = _pick_banks(spec, rng)
    budget = spec.minutes * 60.0
    weights = [rng.uniform(0.75, 1.25) for _ in banks]
    targets = [budget * w / sum(weights) for w in weights]
    script: list[ScriptTopic] = []
    hook_turn = rng.randrange(len(HOOK_KINDS))
    for index, (bank, target) in enumerate(zip(banks, targets, strict=True)):
        sentences: list[str] = []
        hooks: list[int] = []
        leadins: list[int] = []
        if index > 0 and spec.cues:
            cues = LAST_CUES if index == len(banks) - 1 and rng.random() < 0.6 else CUES
            sentences.append(_fill(rng.choice(cues), bank, rng, spec.shared))
        elif index == 0:
            sentences.append(_fill("Today I want to share a few ideas about {t}.", bank, rng,
                                   spec.shared))  # fmt: skip
        # a hook every ~50 s, never within 19 s of the topic's end (a clip must fit after it)
        next_hook = rng.uniform(0.0, 6.0)
        elapsed = sum(seconds_for(s, spec.voice) for s in sentences)
        while elapsed < target or len(sentences) < 4:
            if elapsed >= next_hook and target - elapsed >= 19.0:
                kind = HOOK_KINDS[hook_turn % len(HOOK_KINDS)]
                hook_turn += 1
                hooks.append(len(sentences))
                if kind == "leadin":
                    leadins.append(len(sentences))
                    sentences.append(rng.choice(LEADINS))
                    sentences.append(_fill(rng.choice(PAYOFFS), bank, rng, spec.shared))
                else:
                    group = HOOK_QUESTIONS if kind == "question" else HOOK_CLAIMS
                    sentences.append(_fill(rng.choice(group), bank, rng, spec.shared))
                next_hook = elapsed + rng.uniform(40.0, 60.0)
            elif spec.weak_cues_inside and len(sentences) > 2 and rng.random() < 0.08:
                sentences.append(_fill(rng.choice(WEAK_CUES_INSIDE), bank, rng, spec.shared))
            else:
                sentences.append(_plain(bank, rng, spec.shared))
            elapsed = sum(seconds_for(s, spec.voice) for s in sentences)
        script.append(ScriptTopic(bank.key, tuple(sentences), tuple(hooks), tuple(leadins)))
    pauses: list[float] = []
    for index, topic in enumerate(script):
        for position in range(len(topic.sentences)):
            if index == 0 and position == 0:
                continue
            pause = rng.uniform(0.25, 0.6)
            if position == 0 and spec.topic_pause is not None:
                pause = spec.topic_pause
            pauses.append(round(pause, 3))
    return Composed(spec, tuple(script), tuple(pauses))


def cache_root() -> Path:
    """Where rendered talks and their transcripts live across sessions (as for the test talk)."""
    override = os.environ.get("CLIPMILL_TEST_CACHE")
    return Path(override) if override else Path(tempfile.gettempdir()) / "clipmill-test-talk"


def render(spec: TalkSpec, cache_root: Path, *, video: bool = False) -> Talk:
    """Speak ``spec``'s script (cached by content under ``cache_root``)."""
    composed = compose(spec)
    return build_talk(cache_root, composed.script, voice=spec.voice, pauses=composed.pauses,
                      video=video)  # fmt: skip


def transcribe_talk(talk: Talk, model: str = "tiny.en") -> Transcript:
    """The talk through the real Whisper model, cached as JSON beside its audio."""
    cached = talk.directory / f"transcript-{model}.json"
    if cached.exists():
        return Transcript.from_dict(json.loads(cached.read_text()))
    from clipmill.shorts.transcribe import WhisperTranscriber

    transcript = WhisperTranscriber(model).transcribe(talk.wav, language="en")
    partial = cached.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps(transcript.to_dict()))
    os.replace(partial, cached)
    return transcript


# Talks the test suite runs (short, to keep it fast) and the benchmark's wider set.
TEST_SPECS: tuple[TalkSpec, ...] = (
    TalkSpec("three-topics-cued", seed=11, minutes=1.35, topics=3),
    TalkSpec("three-topics-no-cues", seed=15, minutes=1.4, topics=3, cues=False,
             voice=Voice("en-us+f3", 160, 60)),
    TalkSpec("two-topics-gb", seed=13, minutes=1.1, topics=2, voice=Voice("en-gb", 145, 40)),
)  # fmt: skip


def bench_specs(seed: int = 100) -> list[TalkSpec]:
    """The benchmark's talks: 1 to 10 minutes, 2 to 8 topics, five voices, cues or none,
    distinct or shared vocabularies, with and without a longer pause between topics.

    Another ``seed`` gives other talks of the same kinds (to check a change on talks it was not
    tuned on)."""
    voices = (
        Voice("en-us", 150, 50),
        Voice("en-gb", 140, 45),
        Voice("en-us+f3", 165, 65),
        Voice("en-gb-x-rp", 155, 35),
        Voice("en-us+m3", 135, 55),
    )
    plan = (
        # name, minutes, topics, cues, shared, topic pause
        ("short-cued", 1.3, 3, True, False, None),
        ("short-cued-b", 1.6, 4, True, False, 1.2),
        ("short-no-cues", 1.4, 3, False, False, None),
        ("short-shared", 1.5, 3, True, True, None),
        ("short-shared-no-cues", 1.5, 2, False, True, None),
        ("medium-cued", 4.0, 5, True, False, None),
        ("medium-no-cues", 3.5, 4, False, False, None),
        ("medium-shared", 4.5, 5, True, True, 1.0),
        ("medium-shared-no-cues", 3.0, 3, False, True, None),
        ("long-cued", 9.0, 8, True, False, None),
        ("long-shared", 7.0, 6, True, True, None),
        ("long-no-cues", 11.0, 6, False, False, None),
    )
    specs = []
    for number, (name, minutes, topics, cues, shared, pause) in enumerate(plan):
        specs.append(
            TalkSpec(
                name,
                seed=seed + number,
                minutes=minutes,
                topics=topics,
                voice=voices[number % len(voices)],
                cues=cues,
                shared=shared,
                topic_pause=pause,
            )
        )
    return specs


def group_of(spec: TalkSpec) -> str:
    """The benchmark's talk groups: length, then cues and vocabulary."""
    length = "short" if spec.minutes < 2 else "medium" if spec.minutes < 6 else "long"
    return f"{length}, {'cues' if spec.cues else 'no cues'}, " + (
        "shared words" if spec.shared else "distinct words"
    )
