"""Channel filters and sort orders, and which entry fields they need.

A channel listing is flat: sites list some facts per video (usually title and duration, rarely
the upload date or view count). ``needed_fields`` says which facts a request depends on, so the
expansion can extract an item fully only when its listing entry lacks one of them, and the API
can tell the user which filters are applied after that per-item extraction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clipmill.media.playlists import ListedEntry


class EntryField(StrEnum):
    """A fact about a video that filters and sorts read."""

    UPLOAD_DATE = "upload_date"
    DURATION = "duration"
    VIEW_COUNT = "view_count"
    TITLE = "title"


class ChannelSort(StrEnum):
    """Order of a channel's items before ``limit`` is applied (default: the site's order)."""

    NEWEST = "newest"  #: latest upload first
    OLDEST = "oldest"  #: earliest upload first
    MOST_VIEWED = "most_viewed"  #: highest view count first
    LONGEST = "longest"  #: longest duration first
    SHORTEST = "shortest"  #: shortest duration first

    @property
    def field(self) -> EntryField:
        return _SORT_FIELDS[self]


_SORT_FIELDS = {
    ChannelSort.NEWEST: EntryField.UPLOAD_DATE,
    ChannelSort.OLDEST: EntryField.UPLOAD_DATE,
    ChannelSort.MOST_VIEWED: EntryField.VIEW_COUNT,
    ChannelSort.LONGEST: EntryField.DURATION,
    ChannelSort.SHORTEST: EntryField.DURATION,
}


class ChannelFilters(BaseModel):
    """Which of a channel's videos to keep. Bounds are inclusive; unset means no bound."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date_after: date | None = Field(None, description="Uploaded on or after this day.")
    date_before: date | None = Field(None, description="Uploaded on or before this day.")
    min_duration: float | None = Field(None, ge=0, description="Seconds.")
    max_duration: float | None = Field(None, ge=0, description="Seconds.")
    min_views: int | None = Field(None, ge=0)
    max_views: int | None = Field(None, ge=0)
    title_contains: str | None = Field(
        None, min_length=1, max_length=200, description="Case-insensitive substring of the title."
    )

    @model_validator(mode="after")
    def _ordered_bounds(self) -> ChannelFilters:
        pairs = (
            ("date_after", "date_before"),
            ("min_duration", "max_duration"),
            ("min_views", "max_views"),
        )
        for low, high in pairs:
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{low} must not be greater than {high}")
        return self

    def fields(self) -> dict[str, EntryField]:
        """The filters that are set, with the entry field each reads."""
        reads = {
            "date_after": EntryField.UPLOAD_DATE,
            "date_before": EntryField.UPLOAD_DATE,
            "min_duration": EntryField.DURATION,
            "max_duration": EntryField.DURATION,
            "min_views": EntryField.VIEW_COUNT,
            "max_views": EntryField.VIEW_COUNT,
            "title_contains": EntryField.TITLE,
        }
        return {name: f for name, f in reads.items() if getattr(self, name) is not None}

    def accepts(self, entry: ListedEntry) -> bool:
        """Whether ``entry`` passes every filter; an unknown fact never passes a filter on it."""
        ranges = (
            (entry.upload_date, self.date_after, self.date_before),
            (entry.duration, self.min_duration, self.max_duration),
            (entry.view_count, self.min_views, self.max_views),
        )
        if not all(_within(value, low, high) for value, low, high in ranges):
            return False
        if self.title_contains is None:
            return True
        return entry.title is not None and self.title_contains.casefold() in entry.title.casefold()


def _within(value: Any, low: Any, high: Any) -> bool:
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def needed_fields(filters: ChannelFilters, sort: ChannelSort | None) -> frozenset[EntryField]:
    """Every entry field the filters and the sort read."""
    wanted = set(filters.fields().values())
    if sort is not None:
        wanted.add(sort.field)
    return frozenset(wanted)


def missing_fields(entry: ListedEntry, fields: Iterable[EntryField]) -> frozenset[EntryField]:
    """The fields of ``fields`` that ``entry`` does not know."""
    return frozenset(f for f in fields if getattr(entry, f.value) is None)


def after_extraction(
    filters: ChannelFilters, sort: ChannelSort | None, missing: Iterable[EntryField]
) -> list[str]:
    """Names of the filters (and ``sort``) that read a field the listing lacks."""
    gone = set(missing)
    names = [name for name, f in filters.fields().items() if f in gone]
    if sort is not None and sort.field in gone:
        names.append("sort")
    return names


def sort_entries(entries: Iterable[ListedEntry], sort: ChannelSort) -> list[ListedEntry]:
    """Entries in ``sort`` order; ties keep the listing order, entries lacking the field go last."""
    name = sort.field.value
    descending = sort in (ChannelSort.NEWEST, ChannelSort.MOST_VIEWED, ChannelSort.LONGEST)

    def key(entry: ListedEntry) -> tuple[int, float, int]:
        value = getattr(entry, name)
        if value is None:
            return (1, 0.0, entry.index)
        number = float(value.toordinal() if isinstance(value, date) else value)
        return (0, -number if descending else number, entry.index)

    return sorted(entries, key=key)
