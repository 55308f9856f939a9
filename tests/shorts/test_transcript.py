from __future__ import annotations

import json

from clipmill.shorts.transcript import Segment, Transcript, Word, join_words


def test_transcript_round_trips_through_json() -> None:
    words = (Word(0.5, 0.8, "Hello", 0.9), Word(0.9, 1.2, "world.", 0.8))
    transcript = Transcript("en", 2.0, (Segment(0.5, 1.2, "Hello world.", words),))

    loaded = Transcript.from_dict(json.loads(json.dumps(transcript.to_dict())))

    assert loaded == transcript
    assert loaded.words == words
    assert loaded.text == "Hello world."


def test_words_span_all_segments_in_order() -> None:
    first = Segment(0, 1, "a", (Word(0, 1, "a"),))
    second = Segment(1, 2, "b c", (Word(1, 1.5, "b"), Word(1.5, 2, "c")))

    assert [w.text for w in Transcript("en", 2, (first, second)).words] == ["a", "b", "c"]


def test_join_words_attaches_punctuation_tokens() -> None:
    words = [Word(0, 1, "Ninety"), Word(1, 2, "90"), Word(2, 3, "%"), Word(3, 4, "it's")]

    assert join_words(words) == "Ninety 90% it's"
