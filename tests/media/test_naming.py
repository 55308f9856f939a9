"""Download names: templates render only allowed fields; names are safe whatever the title."""

from __future__ import annotations

import pytest

from clipmill.media.naming import (
    content_type_for,
    render_template,
    safe_download_name,
    template_fields,
)

HOSTILE = [
    "../../etc/passwd",
    "..",
    "a/b\\c",
    'say "hi"',
    "tab\tnew\nline\r\x00nul\x1b[31mred",
    "evil\u202egnp.exe",  # right-to-left override that would fake the extension
    "   .hidden ",
    "C:\\Windows\\system32",
    "con<>:|?*",
    "🎬 ünïcödé 日本語",
    "é" * 300,
]


@pytest.mark.parametrize("title", HOSTILE)
def test_safe_names(title: str) -> None:
    name = safe_download_name(title, "mp4")
    assert name.endswith(".mp4")
    assert len(name.encode()) <= 200
    assert "/" not in name and "\\" not in name
    assert ".." not in name
    assert '"' not in name
    assert not any(ord(ch) < 32 or ch == "\x7f" for ch in name)
    assert "\u202e" not in name
    assert not name.startswith(".")
    name.encode("utf-8")  # never split a character


def test_safe_names_keep_readable_titles() -> None:
    assert safe_download_name("My Video: Part 1", "mp4") == "My Video_ Part 1.mp4"
    assert safe_download_name("🎬 ünïcödé", "m4a") == "🎬 ünïcödé.m4a"
    assert safe_download_name("clip.mp4", "mp4") == "clip.mp4"
    assert safe_download_name("..", "mp4") == "download.mp4"
    assert safe_download_name("", "srt", fallback="video") == "video.srt"


def test_template_fields_and_rendering() -> None:
    template = "%(title)s [%(id)s] %(playlist_index)03d %(uploader)s %(title).5s 100%%"
    assert template_fields(template) == ["title", "id", "playlist_index", "uploader", "title"]
    rendered = render_template(template, {"title": "Hello World", "id": "x1", "playlist_index": 7})
    assert rendered == "Hello World [x1] 007 NA Hello 100%"


@pytest.mark.parametrize(
    "template", ["%(formats)s", "%(title)s%", "%(title)9999s", "%(title)r", "%(title,id)s",
                 "%(title&yes|no)s", "%()s", "%s"],
)  # fmt: skip
def test_rejected_templates(template: str) -> None:
    with pytest.raises(ValueError):
        template_fields(template)


def test_content_types() -> None:
    assert content_type_for("mp4") == "video/mp4"
    assert content_type_for(".m4a") == "audio/mp4"
    assert content_type_for("srt") == "application/x-subrip"
    assert content_type_for("jpg") == "image/jpeg"
    assert content_type_for("weird") == "application/octet-stream"
