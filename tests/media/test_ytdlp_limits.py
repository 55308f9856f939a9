"""The checks ytdlp.py adds around yt-dlp, fed with hand-made info dicts (no network)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from clipmill.errors import (
    DurationTooLong,
    FileTooLarge,
    InvalidOption,
    JobCancelled,
    UnsupportedUrl,
)
from clipmill.media import ytdlp
from clipmill.media.models import DownloadProgress
from clipmill.media.options import DownloadOptions
from tests.media.conftest import make_settings


def make_run(tmp_path: Path, **overrides: Any) -> tuple[ytdlp._DownloadRun, list[DownloadProgress]]:
    progress: list[DownloadProgress] = []
    options = DownloadOptions.model_validate(overrides.pop("options", {}))
    run = ytdlp._DownloadRun(
        "https://example.com/v",
        options,
        tmp_path,
        make_settings(tmp_path, **overrides),
        progress.append,
        lambda line: None,
        threading.Event(),
    )
    return run, progress


def fmt(protocol: str, **extra: Any) -> dict[str, Any]:
    return {"url": f"https://cdn.example.com/{protocol}", "protocol": protocol, **extra}


def test_only_native_protocols_are_eligible() -> None:
    info = {
        "formats": [
            fmt("rtmp"),
            fmt("m3u8"),  # handed to ffmpeg by yt-dlp
            fmt("f4m"),
            fmt("rtsp"),
            fmt("https"),
            fmt("m3u8_native"),
            fmt("http_dash_segments"),
        ]
    }
    ytdlp._keep_native_formats(info, None)
    assert [f["protocol"] for f in info["formats"]] == [
        "https",
        "m3u8_native",
        "http_dash_segments",
    ]


def test_media_offered_only_over_ffmpeg_protocols_is_unsupported() -> None:
    with pytest.raises(UnsupportedUrl, match="rtmp"):
        ytdlp._keep_native_formats({"formats": [fmt("rtmp"), fmt("m3u8")]}, None)
    with pytest.raises(UnsupportedUrl):
        ytdlp._keep_native_formats({"url": "rtmp://example.com/live"}, None)


def test_stated_size_is_refused_before_downloading(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path, max_filesize=1_000_000)
    info = {
        "duration": 10.0,
        "requested_formats": [
            fmt("https", vcodec="avc1", filesize=900_000),
            fmt("https", vcodec="none", filesize=200_000),
        ],
    }
    with pytest.raises(FileTooLarge):
        run._preflight(info, None)


def test_stated_duration_over_the_limit(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path, max_duration=60)
    with pytest.raises(DurationTooLong):
        run._preflight({**fmt("https"), "duration": 61.0}, None)


def test_live_streams_are_refused(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path)
    with pytest.raises(DurationTooLong) as caught:
        run._preflight({**fmt("m3u8_native"), "is_live": True}, None)
    assert caught.value.code == "live_stream"


def test_protocol_is_checked_again_before_downloading(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path)
    with pytest.raises(UnsupportedUrl):
        run._preflight({"duration": 5.0, "requested_formats": [fmt("https"), fmt("rtmp")]}, None)


def test_sections_past_a_stated_end(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path, options={"sections": [{"start": 50, "end": 60}]})
    with pytest.raises(InvalidOption):
        run._preflight({**fmt("https"), "duration": 30.0}, None)


def test_progress_hook_sums_every_file(tmp_path: Path) -> None:
    run, progress = make_run(tmp_path, max_filesize=1000)
    run._on_download({"status": "downloading", "filename": "media.f1.mp4", "downloaded_bytes": 600})
    run._on_download({"status": "downloading", "filename": "media.f2.m4a", "downloaded_bytes": 300})
    assert progress[-1].downloaded_bytes == 300
    with pytest.raises(FileTooLarge):
        run._on_download({"status": "downloading", "filename": "media.f2.m4a",
                          "downloaded_bytes": 401})  # fmt: skip


def test_progress_hook_refuses_a_stated_total(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path, max_filesize=1000)
    with pytest.raises(FileTooLarge):
        run._on_download({"status": "downloading", "filename": "m", "downloaded_bytes": 10,
                          "total_bytes": 5000})  # fmt: skip


def test_progress_report_fields(tmp_path: Path) -> None:
    run, progress = make_run(tmp_path)
    run._on_download({"status": "downloading", "filename": "/w/media.mp4", "downloaded_bytes": 50,
                      "total_bytes_estimate": 200, "speed": 10.0, "eta": 15,
                      "fragment_index": 3, "fragment_count": 8})  # fmt: skip
    report = progress[-1]
    assert report.stage == "downloading"
    assert report.percent == 37.5  # 3 of 8 fragments done (the byte estimate is an average)
    assert report.total_bytes == 200 and report.total_is_estimate
    assert (report.fragment_index, report.fragment_count) == (3, 8)
    assert report.message == "Downloading…"  # words, never the work file's name


def test_hooks_stop_on_cancel(tmp_path: Path) -> None:
    run, _ = make_run(tmp_path)
    run.cancel.set()
    with pytest.raises(JobCancelled):
        run._on_download({"status": "downloading", "filename": "m", "downloaded_bytes": 1})
    with pytest.raises(JobCancelled):
        run._on_postprocess({"status": "started", "postprocessor": "Merger"})
