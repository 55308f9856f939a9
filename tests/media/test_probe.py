"""Probing URLs on the local media server with real yt-dlp, and the error codes users see."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from clipmill.config import Settings
from clipmill.errors import ClipmillError
from clipmill.media import isolation, ytdlp
from clipmill.media.models import MediaInfo
from clipmill.media.netguard import NetGuard
from tests.media.conftest import make_settings
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration


def probe(url: str, settings: Settings) -> MediaInfo:
    return ytdlp.probe(url, guard=NetGuard.from_settings(settings), settings=settings)


def error_of(url: str, settings: Settings) -> ClipmillError:
    with pytest.raises(ClipmillError) as caught:
        probe(url, settings)
    return caught.value


def test_probe_mp4(media_files: MediaFiles, media_server: MediaServer, media_settings: Settings):
    info = probe(media_server.url("sample.mp4"), media_settings)
    assert info.title == "sample"
    assert info.duration == pytest.approx(media_files.mp4_duration, abs=0.2)
    assert info.extractor == "Generic"
    assert not info.is_live
    assert [f.ext for f in info.formats] == ["mp4"]
    assert info.formats[0].protocol == "http"


def test_probe_webm(media_files: MediaFiles, media_server: MediaServer, media_settings: Settings):
    info = probe(media_server.url("sample.webm"), media_settings)
    assert info.duration == pytest.approx(media_files.webm_duration, abs=0.2)
    assert info.formats[0].ext == "webm"


def test_probe_hls_master(
    media_files: MediaFiles, media_server: MediaServer, media_settings: Settings
) -> None:
    info = probe(media_server.url("hls/master.m3u8"), media_settings)
    assert info.heights == media_files.hls_heights
    assert info.duration == pytest.approx(media_files.hls_duration, abs=0.2)
    best = max(info.formats, key=lambda f: f.height or 0)
    assert best.protocol == "m3u8_native"
    assert best.vcodec and best.vcodec.startswith("avc1")
    assert best.acodec and best.acodec.startswith("mp4a")
    assert best.filesize and best.filesize_estimated  # bitrate x duration


def test_probe_html_page(
    media_files: MediaFiles, media_server: MediaServer, media_settings: Settings
) -> None:
    info = probe(media_server.url("page.html"), media_settings)
    assert info.title.startswith(media_files.page_title)
    assert info.thumbnail == media_server.url("thumb.jpg")
    assert info.subtitles == ("en",)
    assert info.duration == pytest.approx(media_files.mp4_duration, abs=0.2)
    assert len(info.formats) == 1


def test_probe_in_child_process(
    media_files: MediaFiles, media_server: MediaServer, media_settings: Settings
) -> None:
    info = isolation.run_probe(media_server.url("hls/master.m3u8"), settings=media_settings)
    assert info.heights == media_files.hls_heights


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("target", "code"),
    [
        ("nomedia.html", "unsupported_url"),
        ("missing.mp4", "page_not_found"),
        ("status/500", "origin_error"),
        ("status/410", "page_not_found"),
    ],
)
def test_probe_errors(
    media_server: MediaServer, media_settings: Settings, target: str, code: str
) -> None:
    error = error_of(media_server.url(target), media_settings)
    assert error.code == code, error.message
    if code in ("origin_error", "page_not_found"):
        assert error.details["status"] == int(target.split("/")[-1]) if "/" in target else 404


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("not a url", "invalid_url"),
        ("ftp://127.0.0.1/video.mp4", "invalid_url"),
        ("file:///etc/passwd", "invalid_url"),
    ],
)
def test_bad_urls(media_settings: Settings, url: str, code: str) -> None:
    assert error_of(url, media_settings).code == code


def test_a_404_says_the_page_was_not_found(
    media_server: MediaServer, media_settings: Settings
) -> None:
    error = error_of(media_server.url("missing.mp4"), media_settings)
    assert error.code == "page_not_found"
    assert "no page at" in error.message and "check the link" in error.message


def test_connection_refused_says_the_site_does_not_answer(media_settings: Settings) -> None:
    port = _closed_port()
    error = error_of(f"http://127.0.0.1:{port}/video.mp4", media_settings)
    assert error.code == "origin_unreachable"
    assert f"Nothing answers at 127.0.0.1:{port}" in error.message
    assert "retry" not in error.message.lower() and "moment" not in error.message


def test_default_settings_block_loopback(media_server: MediaServer, tmp_path: Path) -> None:
    defaults = make_settings(tmp_path, allowed_networks=[])  # the defaults: nothing private
    assert not defaults.allow_private_networks and not defaults.allowed_networks
    before = len(media_server.requests)
    error = error_of(media_server.url("sample.mp4"), defaults)
    assert error.code == "blocked_address"
    assert len(media_server.requests) == before  # refused before any connection


def test_redirect_to_metadata_address_is_blocked(
    media_server: MediaServer, media_settings: Settings
) -> None:
    url = media_server.redirect_url("http://169.254.169.254/latest/meta-data/")
    error = error_of(url, media_settings)
    assert error.code == "blocked_address"
    assert error.details["address"] == "169.254.169.254"


def test_redirect_to_other_loopback_is_blocked_in_child(
    media_server: MediaServer, tmp_path: Path
) -> None:
    """Only 127.0.0.1 is allowed; a redirect to 127.0.0.2 is caught at connect time."""
    settings = make_settings(tmp_path)
    target = media_server.url("sample.mp4").replace("127.0.0.1", "127.0.0.2")
    with pytest.raises(ClipmillError) as caught:
        isolation.run_probe(media_server.redirect_url(target), settings=settings)
    assert caught.value.code == "blocked_address"
    assert caught.value.details["address"] == "127.0.0.2"
