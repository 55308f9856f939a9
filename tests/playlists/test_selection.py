"""The item syntax: same answers as yt-dlp's own parser, and early stops for bounded selections."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from yt_dlp.utils import PlaylistEntries

from clipmill.errors import InvalidOption
from clipmill.playlists.selection import ItemSelection

SPECS = [
    "1-3,7,10:", "-1", "-3:", "-5--2", "::2", "::-1", "2::3", "-2::-1", "5:2:-1", "0",
    "1:inf", "3-", "1,1,2", ":3", "-100:", "10:-1:-2", "-3:-1", "4", "2-4,-2",
]  # fmt: skip


def ytdlp_selects(spec: str, count: int) -> set[int]:
    """What yt-dlp's --playlist-items would pick from a playlist of ``count`` items."""

    class Ydl:
        params: ClassVar[dict[str, Any]] = {}

    entries = PlaylistEntries(Ydl(), {"entries": list(range(count))})
    return {i for part in entries.parse_playlist_items(spec) for i, _ in entries[part]}


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("count", [0, 1, 5, 12])
def test_selection_matches_ytdlp(spec: str, count: int) -> None:
    selection = ItemSelection.parse(spec)
    ours = {i for i in range(1, count + 1) if selection.contains(i, count)}
    assert ours == ytdlp_selects(spec, count)
    last = selection.last_index(count)
    assert last is None or all(i <= last for i in ours)


def test_the_issue_example_and_negative_indexes() -> None:
    selection = ItemSelection.parse("1-3,7,10:")
    assert not selection.needs_count
    assert [i for i in range(1, 13) if selection.contains(i)] == [1, 2, 3, 7, 10, 11, 12]
    assert selection.last_index() is None  # "10:" is open-ended

    last_three = ItemSelection.parse("-3:")
    assert last_three.needs_count
    assert [i for i in range(1, 11) if last_three.contains(i, 10)] == [8, 9, 10]
    assert [i for i in range(1, 11) if ItemSelection.parse("-1").contains(i, 10)] == [10]
    with pytest.raises(ValueError):
        last_three.contains(1)  # the length is required


def test_a_bounded_selection_knows_where_to_stop() -> None:
    assert ItemSelection.parse("1-3,7").last_index() == 7
    assert ItemSelection.parse("2:5:2").last_index() == 5
    assert ItemSelection.parse("-2").last_index(10) == 9
    assert ItemSelection.parse(None).last_index() is None


@pytest.mark.parametrize("spec", ["1,,2", "a", "1-2-3", "1:2:0", "1..3", "1;2"])
def test_invalid_selections_are_rejected(spec: str) -> None:
    with pytest.raises(InvalidOption):
        ItemSelection.parse(spec)


def test_empty_selects_everything() -> None:
    for spec in (None, "", "  "):
        selection = ItemSelection.parse(spec)
        assert selection.selects_all and selection.contains(99)
