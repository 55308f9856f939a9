"""DownloadOptions: field-level validation errors, and the mapping to yt-dlp params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from clipmill.media.ffmpeg import PROTOCOL_WHITELIST
from clipmill.media.options import (
    AudioFormat,
    DownloadOptions,
    Quality,
    check_format_selector,
    to_ytdlp_params,
)
from tests.media.conftest import make_settings


def options(**fields: Any) -> DownloadOptions:
    """Build from request-style values (strings, dicts), as the API does."""
    return DownloadOptions.model_validate(fields)


def error_locs(**fields: Any) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        options(**fields)
    return [tuple(e["loc"]) for e in caught.value.errors()]


def test_defaults() -> None:
    defaults = DownloadOptions()
    assert defaults.quality is Quality.best
    assert not defaults.audio_only
    assert defaults.sections == []


@pytest.mark.parametrize("quality", [q.value for q in Quality])
def test_every_quality_is_accepted(quality: str) -> None:
    assert options(quality=quality).quality.value == quality


def test_audio_only() -> None:
    assert options(quality="audio").audio_only
    assert options(audio_format="mp3").audio_only
    assert options(audio_format="mp3", audio_bitrate="192k").audio_bitrate_kbps == 192
    assert options(audio_format="opus", audio_bitrate=100).audio_bitrate_kbps == 100


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"quality": "4k"}, ("quality",)),
        ({"container": "avi"}, ("container",)),
        ({"audio_format": "wma"}, ("audio_format",)),
        ({"audio_format": "mp3", "audio_bitrate": "100k"}, ("audio_bitrate",)),
        ({"audio_format": "mp3", "audio_bitrate": 500}, ("audio_bitrate",)),
        ({"audio_bitrate": "192k"}, ("audio_bitrate",)),  # video download
        ({"quality": "audio", "container": "mp4"}, ("container",)),
        ({"format": "bv*+"}, ("format",)),
        ({"format": "((bv"}, ("format",)),
        ({"format": "b[height>abc]"}, ("format",)),
        ({"format": "b[heigth<=720]"}, ("format",)),  # typo in the field name
        ({"format": "b" * 201}, ("format",)),
        ({"format": "  "}, ("format",)),
        ({"sections": [{"start": 5, "end": 5}]}, ("sections", 0, "end")),
        ({"sections": [{"start": -1, "end": 5}]}, ("sections", 0, "start")),
        ({"sections": [{"start": 0, "end": 10}, {"start": 5, "end": 12}]}, ("sections",)),
        ({"sections": [{"start": i, "end": i + 0.5} for i in range(21)]}, ("sections",)),
        ({"filename": "%(formats)s"}, ("filename",)),
        ({"filename": "%(title)s 100%"}, ("filename",)),
        ({"filename": "%(title)9999s"}, ("filename",)),
        ({"filename": "%(title)r"}, ("filename",)),
        ({"filename": "%(title.0)s"}, ("filename",)),
        ({"filename": "x" * 201}, ("filename",)),
        ({"subtitles": {"languages": ["en.*"]}}, ("subtitles", "languages", 0)),
        ({"subtitles": {"format": "txt"}}, ("subtitles", "format")),
        ({"audio_format": "flac", "thumbnail": {"embed": True}}, ("thumbnail",)),
        ({"container": "webm", "thumbnail": {"embed": True}}, ("thumbnail",)),
        ({"cookiefile": "/etc/passwd"}, ("cookiefile",)),  # no raw yt-dlp options
        ({"postprocessors": []}, ("postprocessors",)),
    ],
)
def test_bad_values_are_field_errors(fields: dict[str, Any], loc: tuple[Any, ...]) -> None:
    locs = error_locs(**fields)
    assert any(found[: len(loc)] == loc for found in locs), locs


def test_good_values() -> None:
    chosen = options(
        quality="720p",
        format="bv*[height<=720][ext=mp4]+ba[ext=m4a]/b[height<=?720]",
        container="mkv",
        subtitles={"languages": ["en", "pt-BR"], "format": "vtt", "embed": True},
        thumbnail={"write": True, "embed": True},
        embed_metadata=True,
        sections=[{"start": 20, "end": 30}, {"start": 0, "end": 10}],
        filename="%(title)s [%(id)s] %(upload_date)s %(playlist_index)03d.%(ext)s",
    )
    assert chosen.format and chosen.format.startswith("bv*")
    assert len(chosen.sections) == 2


def test_format_selector_check_uses_ytdlp_parser() -> None:
    check_format_selector("bv*+ba/b")
    check_format_selector("137+140/best")
    with pytest.raises(ValueError, match="invalid format selector"):
        check_format_selector("bv*+ba/b)")
    with pytest.raises(ValueError, match="invalid format selector"):
        check_format_selector("bv*++ba")


def test_schema_documents_fields() -> None:
    schema = DownloadOptions.model_json_schema()
    for name in ("quality", "format", "audio_format", "container", "sections", "filename"):
        assert schema["properties"][name].get("description"), name
    assert schema["properties"]["quality"].get("examples")


def _params(tmp_path: Path, **fields: Any) -> dict[str, Any]:
    settings = make_settings(tmp_path, socket_timeout=7)
    return to_ytdlp_params(options(**fields), workdir=tmp_path / "w", settings=settings)


def test_params_always_carry_the_safety_settings(tmp_path: Path) -> None:
    params = _params(tmp_path, filename="%(title)s.%(ext)s", sections=[{"start": 0, "end": 1}])
    assert params["outtmpl"] == {"default": "media.%(ext)s"}
    assert params["paths"] == {"home": str(tmp_path / "w"), "temp": str(tmp_path / "w")}
    assert params["restrictfilenames"] is True
    assert params["noplaylist"] is True
    assert params["hls_prefer_native"] is True
    assert params["external_downloader"] == {"default": "native"}
    assert params["socket_timeout"] == 7
    assert params["noprogress"] is True and params["quiet"] is True
    assert "download_ranges" not in params
    assert params["enable_file_urls"] is False
    assert params["writethumbnail"] is False
    whitelist = ["-protocol_whitelist", PROTOCOL_WHITELIST]
    assert params["external_downloader_args"]["ffmpeg_i"] == whitelist
    ppa = params["postprocessor_args"]
    # yt-dlp only reads input args from per-postprocessor keys (its pp_key, lowercased)
    for key in ("extractaudio", "merger", "fixupm3u8", "embedthumbnail", "embedsubtitle",
                "metadata", "videoremuxer", "videoconvertor", "thumbnailsconvertor",
                "subtitlesconvertor"):  # fmt: skip
        assert ppa[f"{key}+ffmpeg_i"] == whitelist, key


@pytest.mark.parametrize(
    ("fields", "spec"),
    [
        ({}, "bv*+ba/b"),
        ({"quality": "720p"}, "bv*[height<=?720]+ba/b[height<=?720]/wv*+ba/w"),
        ({"quality": "audio"}, "ba/b"),
        ({"audio_format": "mp3"}, "ba/b"),
        ({"format": "worst"}, "worst"),
    ],
)
def test_format_spec(tmp_path: Path, fields: dict[str, Any], spec: str) -> None:
    assert _params(tmp_path, **fields)["format"] == spec


def test_audio_postprocessor(tmp_path: Path) -> None:
    params = _params(tmp_path, audio_format=AudioFormat.opus, audio_bitrate="160k")
    extract = next(p for p in params["postprocessors"] if p["key"] == "FFmpegExtractAudio")
    assert extract["preferredcodec"] == "opus"
    assert extract["preferredquality"] == "160"


def test_subtitle_and_thumbnail_postprocessors(tmp_path: Path) -> None:
    params = _params(
        tmp_path,
        container="mp4",
        subtitles={"languages": ["en"], "format": "srt", "embed": True, "auto_generated": True},
        thumbnail={"write": False, "embed": True},
        embed_metadata=True,
    )
    keys = [p["key"] for p in params["postprocessors"]]
    assert keys == ["FFmpegSubtitlesConvertor", "FFmpegThumbnailsConvertor", "FFmpegVideoRemuxer",
                    "FFmpegEmbedSubtitle", "FFmpegMetadata", "EmbedThumbnail"]  # fmt: skip
    assert params["writesubtitles"] and params["writeautomaticsub"]
    assert params["subtitleslangs"] == ["en"]
    assert params["merge_output_format"] == "mp4"
