from __future__ import annotations

from clipmill.shorts.sentences import Chapter, split_sentences
from clipmill.shorts.testing import transcript_from_sentences
from clipmill.shorts.transcript import Word


def words_from(text: str, *, gaps: dict[int, float] | None = None) -> list[Word]:
    """One word per 0.3 s; ``gaps[i]`` adds silence before word i."""
    out, cursor = [], 0.0
    for i, token in enumerate(text.split()):
        cursor += (gaps or {}).get(i, 0.05)
        out.append(Word(cursor, cursor + 0.3, token))
        cursor += 0.3
    return out


def test_splits_on_terminal_punctuation() -> None:
    sentences = split_sentences(words_from("Is it hot? Yes it is. Wow! Fine"))

    assert [s.text for s in sentences] == ["Is it hot?", "Yes it is.", "Wow!", "Fine"]
    assert [s.index for s in sentences] == [0, 1, 2, 3]


def test_abbreviations_and_ellipses_do_not_split() -> None:
    sentences = split_sentences(words_from("Ask Dr. Smith about it... later today."))

    assert [s.text for s in sentences] == ["Ask Dr. Smith about it... later today."]


def test_long_pause_splits_when_punctuation_is_missing() -> None:
    words = words_from("so we boil the water then we add the salt", gaps={5: 1.5})

    sentences = split_sentences(words, pause_boundary=1.2)

    assert [s.text for s in sentences] == ["so we boil the water", "then we add the salt"]
    assert sentences[0].pause_after == sentences[1].pause_before
    assert 1.49 < sentences[1].pause_before < 1.51


def test_chapter_start_is_a_hard_boundary() -> None:
    words = words_from("one two three four five six")
    chapter_start = words[3].start

    sentences = split_sentences(
        words, chapters=[(0, chapter_start, "A"), Chapter(chapter_start, 9)]
    )

    assert [s.text for s in sentences] == ["one two three", "four five six"]


def test_over_long_run_is_split_at_its_widest_pause() -> None:
    text = " ".join(f"w{i}" for i in range(80))
    words = words_from(text, gaps={50: 0.6})

    sentences = split_sentences(words, max_sentence_duration=20.0)

    assert [s.words[0].text for s in sentences] == ["w0", "w50"]
    assert all(s.duration <= 20.0 for s in sentences)


def test_times_and_pauses_come_from_the_words() -> None:
    transcript = transcript_from_sentences(["First one here.", "Second one."], sentence_pause=0.7)

    first, second = split_sentences(transcript.words, duration=transcript.duration)

    assert first.start == transcript.words[0].start
    assert second.end == transcript.words[-1].end
    assert abs(second.pause_before - 0.7) < 1e-9
    assert first.pause_before == first.start
    assert abs(second.pause_after - (transcript.duration - second.end)) < 1e-9


def test_no_words_means_no_sentences() -> None:
    assert split_sentences([]) == []


def test_unpunctuated_run_splits_where_the_audio_pauses_before_a_capital() -> None:
    # Whisper sometimes returns a whole window without punctuation, words back to back
    text = (
        "Today I want to share a few ideas about singing Here is the thing nobody tells you "
        "Most people never hum the note and that is why the voice fails Always sing softly"
    )
    words, cursor = [], 0.0
    for token in text.split():
        words.append(Word(cursor, cursor + 0.35, token))
        cursor += 0.35
    starts = {i for i, w in enumerate(words) if w.text in {"Here", "Most", "Always"}}
    heard = [0.3 if i + 1 in starts else 0.0 for i in range(len(words) - 1)]

    sentences = split_sentences(words, heard_pauses=heard)

    assert [s.words[0].text for s in sentences] == ["Today", "Here", "Most", "Always"]
    assert sentences[0].text.endswith("singing")


def test_a_capitalised_word_without_a_pause_does_not_split() -> None:
    words, cursor = [], 0.0
    for token in ("we drove to Paris and then on to Lyon " * 6).split():
        words.append(Word(cursor, cursor + 0.35, token))
        cursor += 0.35

    sentences = split_sentences(words, heard_pauses=[0.0] * (len(words) - 1))

    assert all(s.words[0].text != "Paris" for s in sentences)
    assert all(s.duration <= 20.0 for s in sentences)
