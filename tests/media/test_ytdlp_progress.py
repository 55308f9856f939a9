"""yt-dlp's hooks as progress a person can read (clipmill.media.ytdlp_progress)."""

from __future__ import annotations

import pytest

from clipmill.media.netguard import complete_url
from clipmill.media.ytdlp_progress import DownloadParts, step_message

MERGED = {
    "requested_formats": [
        {"format_id": "v", "vcodec": "avc1", "acodec": "none", "filesize": 900},
        {"format_id": "a", "vcodec": "none", "acodec": "mp4a", "filesize": 100},
    ]
}


def tick(format_id: str, done: int, total: int, status: str = "downloading") -> dict[str, object]:
    return {"status": status, "filename": f"/w/media.f{format_id}.mp4",
            "tmpfilename": f"/w/media.f{format_id}.mp4.part", "downloaded_bytes": done,
            "total_bytes": total, "info_dict": {"format_id": format_id}}  # fmt: skip


def test_a_merged_download_is_one_bar_weighted_by_size() -> None:
    parts = DownloadParts.of(MERGED)
    first = parts.update(tick("v", 450, 900))
    assert first.percent == pytest.approx(45.0)
    assert first.message == "Downloading the video (part 1 of 2)…"
    parts.update(tick("v", 900, 900, "finished"))
    audio = parts.update(tick("a", 0, 100))  # yt-dlp starts the audio at 0 %
    assert audio.percent == pytest.approx(90.0)  # the bar does not drop back
    assert audio.message == "Downloading the audio (part 2 of 2)…"
    assert parts.update(tick("a", 100, 100, "finished")).percent == pytest.approx(100.0)


def test_fragments_only_move_forward_however_the_estimate_jumps() -> None:
    parts = DownloadParts.of({"format_id": "hls-1"})
    seen = []
    for index, done, estimate in [(0, 10, 1000), (0, 90, 1000), (1, 100, 400), (1, 150, 5000),
                                  (2, 300, 600), (3, 400, 400)]:  # fmt: skip
        report = parts.update({"status": "downloading", "downloaded_bytes": done,
                               "total_bytes_estimate": estimate, "fragment_index": index,
                               "fragment_count": 4, "info_dict": {"format_id": "hls-1"},
                               "filename": "/w/media.mp4"})  # fmt: skip
        seen.append(report.percent)
    assert seen == sorted(seen) and 0 < seen[1] < 25 and seen[-1] == pytest.approx(75.0)


def test_subtitles_do_not_fill_the_media_bar() -> None:
    parts = DownloadParts.of(MERGED)
    report = parts.update({"status": "finished", "filename": "/w/media.en.vtt",
                           "downloaded_bytes": 50, "total_bytes": 50})  # fmt: skip
    assert report.percent is None and report.message == "Downloading the subtitles…"


@pytest.mark.parametrize(
    ("key", "said"),
    [("Merger", "Converting: merging the video and audio…"),
     ("FixupM3u8", "Converting: joining the stream's pieces…"),
     ("SomethingNew", "Converting…"), ("MoveFiles", None), ("_Ho", None)],
)  # fmt: skip
def test_postprocessors_in_words(key: str, said: str | None) -> None:
    assert step_message(key) == said


@pytest.mark.parametrize(
    ("typed", "fetched"),
    [("example.com/video", "https://example.com/video"),
     ("www.site.org/x", "https://www.site.org/x"),
     ("  youtu.be/abc?t=3 ", "https://youtu.be/abc?t=3"),
     ("//cdn.example.org/a.mp4", "https://cdn.example.org/a.mp4"),
     ("http://example.com/v", "http://example.com/v"),
     ("not a link", "not a link"), ("file:///etc/passwd", "file:///etc/passwd"),
     ("javascript:alert(1)", "javascript:alert(1)"), ("data:text/html,x", "data:text/html,x"),
     ("mailto:a@example.com", "mailto:a@example.com"), ("video", "video")],
)  # fmt: skip
def test_a_link_without_a_scheme_gets_https(typed: str, fetched: str) -> None:
    assert complete_url(typed) == fetched
