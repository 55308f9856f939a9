"""The phrases of a sentence that could stand as a title: the sentence, its clauses, its topic.

A title must read as if a person wrote it, so it is cut only where English allows: at a
comma or colon, or before a word that opens a clause ("when", "because", "before"). It never
starts on "and/so/because" nor ends on a word that needs a partner ("the", "of", "to",
"should", "I"). Spoken openers that only soften a point ("It helps to", "You should", "I like
to") go, which leaves the point itself as an instruction: "You should fold the dividend first"
-> "Fold the dividend first". A sentence that announces a topic ("Now let's talk about cooking
pasta at home") offers the topic it names. Parts of speech come from lemminflect's dictionary
(``keywords``); the closed word classes are small lists here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clipmill.shorts.keywords import parts_of_speech

TOKEN = re.compile(r"\S+")
EDGE_PUNCTUATION = "\"'()[]{}\u201c\u201d\u2018\u2019"
BREAK_AFTER = re.compile(r"[,;:\u2013\u2014]$|-{2,}$")


def word_set(text: str) -> frozenset[str]:
    """A closed word class written as one readable string."""
    return frozenset(text.split())


DETERMINERS = word_set(
    "a an the this that these those my your his her its our their some any every each no another"
)
PREPOSITIONS = word_set(
    "of to in on at for with from by about into onto over under after before than through "
    "between without within during against toward towards upon via per as like"
)
AUXILIARIES = word_set(
    "is are was were be been being am do does did have has had will would shall should can "
    "could may might must"
)
# words that open a clause: a phrase may start on one, and the clause before ends there
SUBORDINATORS = word_set(
    "when if because while before after until unless although though since whereas once whenever"
)
COORDINATORS = word_set("and or but nor so yet plus")
CANNOT_START = COORDINATORS | word_set("than of which whereas then also too")
CANNOT_END = (
    DETERMINERS | PREPOSITIONS | AUXILIARIES | SUBORDINATORS | COORDINATORS
    | word_set("i we they he she to not very really just how why what who whose")
)  # fmt: skip
# spoken openers dropped from the front of a phrase (longest first)
FILLERS = word_set("so and but okay ok well now also then plus anyway alright right yeah")
SOFTENERS = (
    ("it", "helps", "to"), ("it", "pays", "to"), ("you", "should"), ("you", "need", "to"),
    ("you", "have", "to"), ("you", "want", "to"), ("i", "like", "to"), ("we", "like", "to"),
    ("make", "sure", "to"), ("remember", "to"), ("try", "to"), ("i", "think"),
    ("you", "know"), ("i", "mean"), ("of", "course"), ("in", "fact"), ("basically",),
    ("actually",),
)  # fmt: skip
# what follows these in a topic announcement is the topic's name
_ANNOUNCED = re.compile(
    r"\b(?:talk|talking|ideas|words|thoughts|tips) about |\blook at |\bturn to |\bon to "
    r"|\bonto |\b(?:topic|subject|covering) is "
)


@dataclass(frozen=True)
class Phrase:
    """Words ``start..stop`` of a sentence (surface forms, punctuation trimmed)."""

    words: tuple[str, ...]
    start: int
    stop: int
    whole: bool  # the whole sentence, give or take its opening fillers
    question: bool  # the sentence asks, so the title keeps its "?"
    subordinate: bool  # opens on "when/if/because...": reads as a dependent clause
    announced: bool = False  # the topic a cue sentence names

    @property
    def text(self) -> str:
        return " ".join(self.words)


def plain(word: str) -> str:
    """A token as a lower-case word, without the punctuation around it."""
    return word.strip(EDGE_PUNCTUATION + ".,;:!?\u2026-").lower().replace("\u2019", "'")


def _trim(tokens: list[str], start: int, stop: int) -> tuple[int, int]:
    """Drop fillers and softeners from the front and partner-needing words from the end."""
    changed = True
    while changed and start < stop:
        changed = False
        if plain(tokens[start]) in FILLERS or not plain(tokens[start]):
            start, changed = start + 1, True
            continue
        for softener in SOFTENERS:
            size = len(softener)
            window = tuple(plain(t) for t in tokens[start : start + size])
            if window == softener and stop - start > size + 1:
                start, changed = start + size, True
                break
    while stop > start and (plain(tokens[stop - 1]) in CANNOT_END or not plain(tokens[stop - 1])):
        stop -= 1
    return start, stop


def _clean(token: str, last: bool) -> str:
    word = token.strip(EDGE_PUNCTUATION)
    return word.rstrip(".,;:!?\u2026-") if last else word.rstrip(",;:\u2026")


def clause_phrases(text: str, max_words: int) -> list[Phrase]:
    """The sentence and each run of its clauses that fits in ``max_words``."""
    tokens = TOKEN.findall(text)
    if not tokens:
        return []
    question = text.rstrip().rstrip(EDGE_PUNCTUATION).endswith("?")
    # clause edges: after punctuation, and before a subordinator
    starts = {0}
    for i, token in enumerate(tokens):
        if BREAK_AFTER.search(token.rstrip(EDGE_PUNCTUATION)) and i + 1 < len(tokens):
            starts.add(i + 1)
        if i > 0 and plain(token) in SUBORDINATORS:
            starts.add(i)
    edges = [*sorted(starts), len(tokens)]
    out: list[Phrase] = []
    seen: set[tuple[int, int]] = set()
    for a, begin in enumerate(edges[:-1]):
        for end in edges[a + 1 :]:
            start, stop = _trim(tokens, begin, end)
            if stop - start < 2 or stop - start > max_words or (start, stop) in seen:
                continue
            if plain(tokens[start]) in CANNOT_START:
                continue
            seen.add((start, stop))
            whole = begin == 0 and end == len(tokens)
            words = tuple(_clean(t, i == stop - 1) for i, t in enumerate(tokens[start:stop], start))
            out.append(
                Phrase(
                    words, start, stop, whole, question and whole,
                    subordinate=plain(tokens[start]) in SUBORDINATORS,
                )
            )  # fmt: skip
    return out


def announced_topic(text: str, max_words: int) -> Phrase | None:
    """The topic a cue sentence names ("Let us look at hiking in the mountains" -> "hiking in
    the mountains"), when it is a phrase of two words or more."""
    tokens = TOKEN.findall(text)
    lowered = " ".join(plain(t) for t in tokens) + " "
    match = _ANNOUNCED.search(lowered)
    if match is None:
        return None
    start = lowered[: match.end()].count(" ")
    start, stop = _trim(tokens, start, len(tokens))
    if plain(tokens[start] if start < len(tokens) else "") in DETERMINERS:
        start += 1
    if not 2 <= stop - start <= max_words:
        return None
    head = parts_of_speech(plain(tokens[stop - 1]))
    if head and not head & {"NOUN", "PROPN"}:
        return None
    words = tuple(_clean(t, i == stop - 1) for i, t in enumerate(tokens[start:stop], start))
    return Phrase(words, start, stop, False, False, False, announced=True)
