"""What makes a clip title readable, checked from the outside (tests and bench/title_quality.py).

Written apart from ``clipmill.shorts.titles`` on purpose, so the planner is not graded by its
own rules. A title passes when it is

1. the clip's own words: a contiguous run of the clip's transcript, ignoring case and
   punctuation;
2. not cut at a word that needs a partner: it does not start on a coordinating conjunction
   ("and", "so", "because"...) nor end on an article, a preposition, a conjunction, an
   auxiliary, a subject pronoun or "to" ("...before I", "...of the");
3. one of three shapes: a whole sentence of the clip (leading fillers such as "So," dropped), a
   clause (three or more words, one of which can be a verb), or a noun phrase (two or more
   words, ending on a noun, every word a determiner, adjective, noun, participle or a joining
   "of/and/in/at/for/with"; in a two-word phrase the first word may not be a bare verb, as in
   "Cut sleep").

Everything else is a *fragment*: "Failure taught", "Cut sleep", "Drainage slowly", "Saddle".
Parts of speech come from lemminflect's dictionary (the words each form can be), no model.
"""

from __future__ import annotations

import re
from enum import StrEnum

WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")


def word_set(text: str) -> frozenset[str]:
    """A closed word class written as one readable string."""
    return frozenset(text.split())


DETERMINERS = word_set(
    "a an the this that these those my your his her its our their some any every each no another"
)
PREPOSITIONS = word_set(
    "of to in on at for with from by about into onto over under after before than through "
    "between without within during against toward towards upon via per as"
)
CONJUNCTIONS = word_set(
    "and or but nor so yet because if when while although though unless until since whereas whether"
)
AUXILIARIES = word_set(
    "is are was were be been being am do does did have has had will would shall should can "
    "could may might must"
)
CANNOT_START = word_set("and or but nor so because than of which whereas plus then also")
CANNOT_END = (
    DETERMINERS | PREPOSITIONS | CONJUNCTIONS | AUXILIARIES
    | word_set("i we they he she to not very really just")
)  # fmt: skip
FILLERS = word_set("so and but okay ok well now also then plus anyway alright right")
NP_JOINERS = word_set("of and in at for with")


class TitleShape(StrEnum):
    """How a title reads, best to worst."""

    SENTENCE = "sentence"  # a whole sentence of the clip
    CLAUSE = "clause"  # part of a sentence with a verb, cut at a sensible word
    NOUN_PHRASE = "noun phrase"  # "Cooking pasta at home", "The sticky sauce"
    FRAGMENT = "fragment"  # "Failure taught", "Cut sleep", "...before I"
    NOT_OWN_WORDS = "not own words"  # not a run of the clip's transcript


GOOD_SHAPES = frozenset({TitleShape.SENTENCE, TitleShape.CLAUSE, TitleShape.NOUN_PHRASE})


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("\u2019", "'"))


def _readings(word: str) -> set[str]:
    from lemminflect import getAllLemmas

    return set(getAllLemmas(word))


def is_own_words(title: str, clip_text: str) -> bool:
    """True when the title's words appear, in order and next to each other, in the clip."""
    said, clip = words_of(title), words_of(clip_text)
    if not said:
        return False
    size = len(said)
    return any(clip[i : i + size] == said for i in range(len(clip) - size + 1))


def _sentences(clip_text: str) -> list[list[str]]:
    out = []
    for piece in re.split(r"(?<=[.!?])\s+", clip_text):
        words = words_of(piece)
        while words and words[0] in FILLERS:
            words = words[1:]
        if words:
            out.append(words)
    return out


def _is_noun_phrase(words: list[str]) -> bool:
    if len(words) < 2:
        return False
    head = _readings(words[-1])
    if head and "NOUN" not in head and "PROPN" not in head:
        return False
    for word in words[:-1]:
        if word in DETERMINERS or word in NP_JOINERS:
            continue
        readings = _readings(word)
        participle = word.endswith(("ing", "ed"))
        if readings and not readings & {"NOUN", "PROPN", "ADJ"} and not participle:
            return False
    if len(words) == 2:
        first = _readings(words[0])
        bare_verb = "VERB" in first and "ADJ" not in first and not words[0].endswith("ing")
        if bare_verb or words[0] in NP_JOINERS:
            return False
    return True


def title_shape(title: str, clip_text: str) -> TitleShape:
    """The shape of ``title`` as a title of the clip whose transcript is ``clip_text``."""
    if not is_own_words(title, clip_text):
        return TitleShape.NOT_OWN_WORDS
    words = words_of(title)
    if len(words) < 2 or words[0] in CANNOT_START or words[-1] in CANNOT_END:
        return TitleShape.FRAGMENT
    if words in _sentences(clip_text):
        return TitleShape.SENTENCE
    if len(words) >= 3 and any(
        w in AUXILIARIES or "VERB" in _readings(w) or "AUX" in _readings(w) for w in words
    ):
        return TitleShape.CLAUSE
    if _is_noun_phrase(words):
        return TitleShape.NOUN_PHRASE
    return TitleShape.FRAGMENT


def is_broken(title: str, clip_text: str) -> bool:
    """True for a title that is not a sensible phrase of the clip's own words."""
    return title_shape(title, clip_text) not in GOOD_SHAPES
