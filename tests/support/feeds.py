"""Playlists for tests, served by ``MediaServer`` from a directory: RSS feeds and a fake channel.

    /tiny.mp4                          1 s H.264/AAC, 64x36 (every enclosure is a copy of it)
    /media/<name>.mp4                  copies made on demand by ``FeedSite.media``
    /feeds/<name>.xml                  RSS 2.0 with one <enclosure> per item; yt-dlp's generic
                                       extractor reads it as a playlist
    /fakechannel/<name>/page-<n>.json  the channel's listing, PAGE_SIZE videos a page: id, title
                                       and duration only (like real sites' flat listings)
    /fakechannel/<name>/videos/<id>.html
                                       a video page: <video src> for yt-dlp's generic extractor
                                       (what child downloads use) and a JSON block with the
                                       upload date and view count for ``FakeVideoIE``

``FakeChannelIE`` and ``FakeVideoIE`` are yt-dlp extractors for the fake site, registered only
where a test passes them (``ParentPipelines(extractors=...)``, ``ParentService(extractors=...)``).
``GatedListIE`` lists ``n`` entries lazily and blocks after ``block_after`` of them until its
``release`` event is set: a playlist whose expansion a test can stop halfway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from yt_dlp.extractor.common import InfoExtractor

PAGE_SIZE = 10
_HOST = r"https?://127\.0\.0\.1:\d+"


@dataclass(frozen=True)
class FeedItem:
    title: str
    url: str


@dataclass(frozen=True)
class FakeVideo:
    """A video of the fake channel: what its page says (the listing shows less)."""

    id: str
    title: str
    duration: float
    upload_date: date
    view_count: int


def rss(title: str, items: Sequence[FeedItem]) -> str:
    body = "".join(
        f"<item><title>{escape(i.title)}</title>"
        f'<enclosure url={quoteattr(i.url)} type="video/mp4" length="1"/></item>'
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>"
        f"<description>test feed</description>{body}</channel></rss>"
    )


def make_tiny_mp4(dst: Path) -> Path:
    """A 1-second clip; small enough that 50 downloads of it take no time."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        import imageio_ffmpeg

        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc=size=64x36:rate=10:duration=1",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
        "-movflags", "+faststart", str(dst),
    ]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True)
    return dst


class FeedSite:
    """Writes feeds and channel pages under ``root`` and builds URLs for them."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def media(self, name: str) -> str:
        """URL of ``/media/<name>.mp4``, a copy of tiny.mp4 (made once)."""
        target = self.root / "media" / f"{name}.mp4"
        with self._lock:
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                os.link(self.root / "tiny.mp4", target)
        return self.url(f"media/{name}.mp4")

    def feed(self, name: str, items: Sequence[FeedItem], title: str | None = None) -> str:
        path = self.root / "feeds" / f"{name}.xml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(rss(title or name, items), encoding="utf-8")
        return self.url(f"feeds/{name}.xml")

    def numbered_feed(self, name: str, count: int, *, real_media: bool = False) -> str:
        """A feed of ``count`` items titled "Episode N"; enclosures exist only if ``real_media``."""
        items = [
            FeedItem(
                f"Episode {n}",
                self.media(f"{name}-{n}") if real_media else self.url(f"nothing/{name}-{n}.mp4"),
            )
            for n in range(1, count + 1)
        ]
        return self.feed(name, items, title=f"Feed {name}")

    def channel(self, name: str, videos: Sequence[FakeVideo], *, title: str | None = None) -> str:
        """Write the fake channel ``name``; returns its URL."""
        folder = self.root / "fakechannel" / name
        (folder / "videos").mkdir(parents=True, exist_ok=True)
        pages = [videos[i : i + PAGE_SIZE] for i in range(0, len(videos), PAGE_SIZE)] or [[]]
        for n, page in enumerate(pages, start=1):
            listing = {
                "id": f"UC-{name}",
                "name": title or f"Channel {name}",
                "description": f"The {name} channel.",
                "count": len(videos),
                "next": f"page-{n + 1}.json" if n < len(pages) else None,
                "videos": [{"id": v.id, "title": v.title, "duration": v.duration} for v in page],
            }
            (folder / f"page-{n}.json").write_text(json.dumps(listing))
        for video in videos:
            media = self.media(f"{name}-{video.id}")
            facts = {
                "upload_date": video.upload_date.strftime("%Y%m%d"),
                "view_count": video.view_count,
                "duration": video.duration,
            }
            (folder / "videos" / f"{video.id}.html").write_text(
                f"<!doctype html><html><head><title>{escape(video.title)}</title>"
                f'<meta property="og:title" content={quoteattr(video.title)}></head><body>'
                f'<video src="{media}" controls></video>'
                f'<script type="application/json" id="facts">{json.dumps(facts)}</script>'
                "</body></html>"
            )
        return self.url(f"fakechannel/{name}/")


class FakeChannelIE(InfoExtractor):
    """The fake channel's listing, paged and lazy: page 2 is fetched only when reached."""

    IE_NAME = "fakechannel"
    _VALID_URL = _HOST + r"/fakechannel/(?P<id>[\w-]+)/?$"

    def _real_extract(self, url: str) -> dict[str, Any]:
        base = url.rstrip("/") + "/"
        first = self._download_json(base + "page-1.json", self._match_id(url))

        def entries() -> Iterator[dict[str, Any]]:
            page: dict[str, Any] | None = first
            while page is not None:
                for video in page["videos"]:
                    yield self.url_result(
                        f"{base}videos/{video['id']}.html",
                        FakeVideoIE,
                        video["id"],
                        video["title"],
                        duration=video["duration"],
                    )
                following = page.get("next")
                page = self._download_json(base + following, following) if following else None

        info = self.playlist_result(entries(), first["id"], first["name"], first["description"])
        return {**info, "uploader": first["name"], "channel_id": first["id"],
                "playlist_count": first["count"], "webpage_url": url}  # fmt: skip


class FakeVideoIE(InfoExtractor):
    """A fake channel's video page: upload date and views come only from here."""

    IE_NAME = "fakevideo"
    _VALID_URL = _HOST + r"/fakechannel/[\w-]+/videos/(?P<id>[\w-]+)\.html"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        page = self._download_webpage(url, video_id)
        facts = json.loads(self._search_regex(r'id="facts">(.+?)</script>', page, "facts"))
        return {
            "id": video_id,
            "title": self._og_search_title(page),
            "url": self._search_regex(r'<video src="([^"]+)"', page, "media url"),
            "ext": "mp4",
            "upload_date": facts["upload_date"],
            "view_count": facts["view_count"],
            "duration": facts["duration"],
        }


class GatedListIE(InfoExtractor):
    """``/gated/<n>``: n entries, listed lazily, pausing after ``block_after`` until released."""

    IE_NAME = "gatedlist"
    _VALID_URL = _HOST + r"/gated/(?P<id>\d+)"
    release = threading.Event()
    block_after = 3
    media_base = "http://127.0.0.1:9/"

    def _real_extract(self, url: str) -> dict[str, Any]:
        count = int(self._match_id(url))
        cls = type(self)

        def entries() -> Iterator[dict[str, Any]]:
            for n in range(1, count + 1):
                if n == cls.block_after + 1:
                    cls.release.wait(30)
                yield {
                    "_type": "url",
                    "url": f"{cls.media_base}gated-{n}.mp4",
                    "title": f"Item {n}",
                }

        return self.playlist_result(entries(), f"gated-{count}", f"Gated {count}")


TEST_EXTRACTORS: tuple[type[InfoExtractor], ...] = (FakeChannelIE, FakeVideoIE, GatedListIE)
