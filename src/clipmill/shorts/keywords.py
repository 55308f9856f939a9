"""Content words: what a sentence is about, as lemmas, without the words every talk uses.

Speech is full of words that carry no subject: pronouns and auxiliaries (scikit-learn's English
stop list has those), and the light verbs and fillers of talking ("let me tell you", "I think",
"we're going to", "really", "okay"). Both go. What stays is lemmatised with ``lemminflect``'s
English dictionary, so "mountains" and "mountain" are one term. The same dictionary says which
parts of speech a word can be: a keyword should name a thing, so nouns rank first and words
that can only be adverbs ("slowly") never become tags. Topics, scores, tags and hashtags all
read terms from here, so a keyword can never be "let" or "want".
"""

from __future__ import annotations

import functools
import re

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
CLITICS = ("'s", "'re", "'ll", "'ve", "'d", "'m", "n't", "s'")

# Lemmas that say how someone talks, not what about. Kept to general spoken English.
_SPOKEN_WORDS = """
    let tell want think know say go going gonna wanna gotta get got make take come see look
    use need try mean guess feel put give keep seem start talk speak show happen help work
    like love call find turn ask wonder remember forget share cover check leave stay hear
    believe understand sure okay ok yeah yes yep right alright well really actually
    basically literally just pretty quite very much many lot lots bit kind sort stuff thing
    things way ways time times day days week today tonight tomorrow yesterday now then later
    soon ever still already always never often usually sometimes maybe probably perhaps
    definitely certainly simply totally completely exactly especially people person everyone
    everybody someone somebody anyone anybody something anything everything nothing guy guys
    folk folks good great bad nice easy hard big small little new old first last next same
    different whole able important best better worst worse true real fine main simple single
    certain topic part point idea question answer example reason fact case number percent
    half hundred thousand million billion ninety eighty seventy sixty fifty forty thirty
    twenty here there cause because kinda sorta hmm um uh oh hey wow
"""
SPOKEN = frozenset(_SPOKEN_WORDS.split())
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | SPOKEN
MIN_LENGTH = 3

# how well a word can serve as a tag, by the parts of speech it can take
TAG_WEIGHT = {"NOUN": 1.0, "PROPN": 1.0, "VERB": 0.6, "ADJ": 0.4, "ADV": 0.0}
LEMMA_ORDER = ("NOUN", "VERB", "ADJ", "ADV")


@functools.lru_cache(maxsize=65536)
def _readings(word: str) -> dict[str, tuple[str, ...]]:
    from lemminflect import getAllLemmas

    return dict(getAllLemmas(word))


def parts_of_speech(word: str) -> frozenset[str]:
    """The parts of speech a lower-case word can take ({"NOUN", "VERB"} for "cut"); empty for
    closed-class words ("the") and words the dictionary does not know (names)."""
    return frozenset(_readings(word))


@functools.lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The dictionary form of one lower-case word ("hikers" -> "hiker", "went" -> "go"); a
    noun reading wins, and a word the dictionary does not know is kept as it is."""
    readings = _readings(word)
    for pos in LEMMA_ORDER:
        if readings.get(pos):
            return readings[pos][0].lower()
    return word


@functools.lru_cache(maxsize=65536)
def tag_weight(term: str) -> float:
    """1 for a word that can be a noun (or is unknown: names, brands), less for verbs and
    adjectives, 0 for adverbs."""
    readings = _readings(term)
    if not readings:
        return 1.0
    return max(TAG_WEIGHT.get(pos, 0.0) for pos in readings)


def _strip_clitic(word: str) -> str:
    word = word.replace("\u2019", "'").strip("'-")
    for clitic in CLITICS:
        if word.endswith(clitic) and len(word) > len(clitic) + 1:
            return word[: -len(clitic)]
    return word


def is_content(word: str) -> bool:
    """True for a lemma that can name a subject."""
    return len(word) >= MIN_LENGTH and word not in STOP_WORDS and not word.isdigit()


def surface_terms(text: str) -> list[tuple[str, str]]:
    """(word as spoken, its lemma) for each content word of ``text``, in order."""
    out: list[tuple[str, str]] = []
    for match in WORD.finditer(text):
        spoken = match.group().strip("'\u2019-")
        word = _strip_clitic(spoken.lower())
        if not word or word in STOP_WORDS:
            continue
        base = lemma(word)
        if is_content(base):
            out.append((spoken, base))
    return out


def content_terms(text: str) -> list[str]:
    """The lemmas of the content words of ``text`` (the analyzer of the TF-IDF model)."""
    return [base for _, base in surface_terms(text)]
