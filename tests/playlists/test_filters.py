"""Channel filters and sorts on listed entries, and which of them need per-item extraction."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from clipmill.media.playlists import ListedEntry
from clipmill.playlists.filters import (
    ChannelFilters,
    ChannelSort,
    EntryField,
    after_extraction,
    missing_fields,
    needed_fields,
    sort_entries,
)

ENTRIES = [
    ListedEntry(1, "https://x/1", "a", "Cooking pasta", 60, None, date(2024, 3, 1), 500),
    ListedEntry(2, "https://x/2", "b", "Pasta night LIVE", 3600, None, date(2024, 1, 15), 90),
    ListedEntry(3, "https://x/3", "c", "Bread basics", 300, None, date(2023, 12, 31), 5000),
    ListedEntry(4, "https://x/4", "d", "Q&A", 1200, None, date(2024, 2, 10), 500),
]


def kept(**filters: object) -> list[int]:
    chosen = ChannelFilters.model_validate(filters)
    return [e.index for e in ENTRIES if chosen.accepts(e)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"date_after": "2024-01-15"}, [1, 2, 4]),  # inclusive
        ({"date_before": "2024-01-15"}, [2, 3]),
        ({"date_after": "2024-01-01", "date_before": "2024-02-29"}, [2, 4]),
        ({"min_duration": 300}, [2, 3, 4]),
        ({"max_duration": 300}, [1, 3]),
        ({"min_views": 500}, [1, 3, 4]),
        ({"max_views": 500}, [1, 2, 4]),
        ({"title_contains": "PASTA"}, [1, 2]),  # case-insensitive
        ({"title_contains": "pasta", "max_duration": 100}, [1]),
        ({}, [1, 2, 3, 4]),
    ],
)
def test_each_filter(filters: dict[str, object], expected: list[int]) -> None:
    assert kept(**filters) == expected


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (ChannelSort.NEWEST, [1, 4, 2, 3]),
        (ChannelSort.OLDEST, [3, 2, 4, 1]),
        (ChannelSort.MOST_VIEWED, [3, 1, 4, 2]),  # 1 and 4 tie: listing order
        (ChannelSort.LONGEST, [2, 4, 3, 1]),
        (ChannelSort.SHORTEST, [1, 3, 4, 2]),
    ],
)
def test_each_sort(sort: ChannelSort, expected: list[int]) -> None:
    assert [e.index for e in sort_entries(ENTRIES, sort)] == expected


def test_an_unknown_fact_never_passes_a_filter_and_sorts_last() -> None:
    unknown = ListedEntry(5, "https://x/5", title="Pasta")
    assert not ChannelFilters(min_views=0).accepts(unknown)
    assert ChannelFilters(title_contains="pasta").accepts(unknown)
    assert [e.index for e in sort_entries([unknown, *ENTRIES], ChannelSort.NEWEST)][-1] == 5


def test_needed_and_missing_fields_name_the_filters_that_wait_for_extraction() -> None:
    filters = ChannelFilters(date_after=date(2024, 1, 1), min_views=10, title_contains="x")
    needed = needed_fields(filters, ChannelSort.LONGEST)
    assert needed == {EntryField.UPLOAD_DATE, EntryField.VIEW_COUNT, EntryField.TITLE,
                      EntryField.DURATION}  # fmt: skip
    flat = ListedEntry(1, "https://x/1", title="t", duration=10)  # what a listing shows
    gone = missing_fields(flat, needed)
    assert gone == {EntryField.UPLOAD_DATE, EntryField.VIEW_COUNT}
    assert after_extraction(filters, ChannelSort.LONGEST, gone) == ["date_after", "min_views"]
    assert after_extraction(filters, ChannelSort.MOST_VIEWED, gone)[-1] == "sort"


def test_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        ChannelFilters(min_duration=10, max_duration=5)
    with pytest.raises(ValidationError):
        ChannelFilters(date_after=date(2024, 2, 1), date_before=date(2024, 1, 1))
