"""yt-dlp's progress and postprocessor hooks, as progress a person can read.

yt-dlp reports each file it writes on its own: subtitles first, then each format of a merged
download (video, then audio) from 0 % again, an HLS stream by a byte estimate that jumps as
fragments of a new size arrive, and postprocessing by class name. Shown as is, that reads
"media.f137.mp4.part 100 %", then "0 %", then "Postprocessing: FixupM3u8.".

`DownloadParts` turns it into one download percent over every part (weighted by the sizes the
origin states, equal parts otherwise), an HLS part's percent by finished fragments (which only
grows), and messages in words ("Downloading the audio (part 2 of 2)…"). File names never
appear: they are our work files, not the user's. Nothing here touches the network or disk.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from clipmill.media.models import DownloadProgress
from clipmill.media.outputs import SUBTITLE_EXTS

#: postprocessor keys (yt-dlp's ``pp_key()``) -> what the step does, in words
_STEPS = {
    "Merger": "merging the video and audio",
    "ExtractAudio": "extracting the audio",
    "VideoConvertor": "converting the video",
    "VideoRemuxer": "changing the container",
    "EmbedSubtitle": "adding the subtitles",
    "SubtitlesConvertor": "converting the subtitles",
    "Metadata": "writing the title and chapters",
    "EmbedThumbnail": "adding the thumbnail",
    "ThumbnailsConvertor": "converting the thumbnail",
    "SplitChapters": "splitting the chapters",
    "ModifyChapters": "cutting the chapters",
    "FixupM3u8": "joining the stream's pieces",
    "FixupTimestamp": "fixing the timestamps",
    "FixupDuration": "fixing the duration",
    "FixupDuplicateMoov": "repairing the file",
    "FixupM4a": "repairing the file",
    "FixupStretched": "fixing the aspect ratio",
}
#: bookkeeping steps that change nothing a user would recognise
_SILENT = frozenset({"MoveFiles", "MoveFilesAfterDownload"})

STARTING = "Downloading…"
CONVERTING = "Converting…"


def step_message(postprocessor: str) -> str | None:
    """``"Merger"`` -> ``"Converting: merging the video and audio…"``; None for steps not worth
    showing (yt-dlp's own, and ours, whose names start with ``_``)."""
    if not postprocessor or postprocessor.startswith("_") or postprocessor in _SILENT:
        return None
    words = _STEPS.get(postprocessor)
    return f"Converting: {words}…" if words else CONVERTING


@dataclass(frozen=True)
class _Part:
    format_id: str
    weight: float
    kind: str
    """"video", "audio" or "media" (both, or unknown)."""


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _kind(fmt: dict[str, Any]) -> str:
    vcodec, acodec = fmt.get("vcodec"), fmt.get("acodec")
    if vcodec == "none" and acodec not in (None, "none"):
        return "audio"
    if acodec == "none" and vcodec not in (None, "none"):
        return "video"
    return "media"


@dataclass
class DownloadParts:
    """The formats one download writes, and how far each has come."""

    parts: tuple[_Part, ...] = ()
    done: dict[str, float] = field(default_factory=dict)
    """format id -> fraction 0..1 of that part."""
    _fragment_start: dict[str, tuple[int, int]] = field(default_factory=dict)
    """format id -> (fragment index, bytes received when it began)."""

    @classmethod
    def of(cls, info: dict[str, Any]) -> DownloadParts:
        """From the info dict at ``before_dl``: the chosen format, or each of a merge."""
        formats = info.get("requested_formats") or [info]
        sizes = [_num(f.get("filesize") or f.get("filesize_approx")) for f in formats]
        known = all(s and s > 0 for s in sizes)
        total = sum(s or 0 for s in sizes) if known else float(len(formats))
        parts = tuple(
            _Part(str(f.get("format_id") or i), (s if known and s else 1.0) / total, _kind(f))
            for i, (f, s) in enumerate(zip(formats, sizes, strict=True))
        )
        return cls(parts)

    def _index(self, status: dict[str, Any]) -> int | None:
        fmt_id = str((status.get("info_dict") or {}).get("format_id") or "")
        for i, part in enumerate(self.parts):
            if part.format_id == fmt_id:
                return i
        return 0 if len(self.parts) == 1 else None

    def update(self, status: dict[str, Any]) -> DownloadProgress:
        """A progress report for one call of yt-dlp's progress hook."""
        done = _int(status.get("downloaded_bytes")) or 0
        total = _int(status.get("total_bytes"))
        estimate = _int(status.get("total_bytes_estimate"))
        frag_index = _int(status.get("fragment_index"))
        frag_count = _int(status.get("fragment_count"))
        common = DownloadProgress(
            stage="downloading",
            downloaded_bytes=done,
            total_bytes=total or estimate,
            total_is_estimate=not total and bool(estimate),
            speed=_num(status.get("speed")),
            eta=_num(status.get("eta")),
            fragment_index=frag_index,
            fragment_count=frag_count,
        )
        name = str(status.get("filename") or status.get("tmpfilename") or "")
        stem = name.removesuffix(".part").rpartition(".")[2].lower()
        if stem in SUBTITLE_EXTS:
            # subtitles come before the media and say nothing about how far the media is
            return dataclasses.replace(common, message="Downloading the subtitles…")
        if not self.parts:  # no before_dl call (a direct download): one part
            self.parts = (_Part("", 1.0, "media"),)
        index = self._index(status)
        key = self.parts[index].format_id if index is not None else ""
        finished = status.get("status") == "finished"
        if frag_count:  # HLS/DASH: finished fragments, which only grow
            fraction = self._by_fragments(key, frag_index or 0, frag_count, done, estimate)
        elif total or estimate:
            fraction = min(1.0, done / float(total or estimate or 1))
        else:
            fraction = None
        if finished:
            fraction = 1.0
        if index is not None and fraction is not None:
            self.done[key] = max(self.done.get(key, 0.0), fraction)
        percent = (
            100.0 * sum(p.weight * self.done.get(p.format_id, 0.0) for p in self.parts)
            if fraction is not None or self.done
            else None
        )
        return dataclasses.replace(
            common,
            percent=None if percent is None else min(100.0, percent),
            message=self._message(index),
        )

    def _by_fragments(
        self, key: str, index: int, count: int, done: int, estimate: int | None
    ) -> float:
        """Finished fragments, plus how far into the current one its bytes suggest (at most
        99 % of it: the estimate is an average, and the fragment counts when it is done)."""
        start_index, start_bytes = self._fragment_start.get(key, (-1, 0))
        if index != start_index:
            self._fragment_start[key] = (index, done)
            start_bytes = done
        within = 0.0
        if estimate:
            within = min(0.99, max(0.0, (done - start_bytes) / (estimate / count)))
        return min(1.0, (index + within) / count)

    def _message(self, index: int | None) -> str:
        if len(self.parts) < 2 or index is None:
            return STARTING
        part = self.parts[index]
        what = {"video": "the video", "audio": "the audio"}.get(part.kind, "the media")
        return f"Downloading {what} (part {index + 1} of {len(self.parts)})…"


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None else None
