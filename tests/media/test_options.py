"""DownloadOptions: field-level validation errors, and the mapping to yt-dlp params."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from clipmill.media.ffmpeg import FORMAT_WHITELIST, PROTOCOL_WHITELIST
from clipmill.media.models import DownloadResult
from clipmill.media.options import (
    AudioFormat,
    DownloadOptions,
    Quality,
    check_format_selector,
    to_ytdlp_params,
)
from tests.media.conftest import make_settings
from tests.support.media_factory import MediaFiles, ffmpeg_exe
from tests.support.media_server import MediaServer


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
    whitelist = ["-format_whitelist", FORMAT_WHITELIST, "-protocol_whitelist", PROTOCOL_WHITELIST]
    assert params["external_downloader_args"]["ffmpeg_i"] == whitelist
    # yt-dlp runs ffmpeg and ffprobe through the whitelisting wrappers under the data dir
    bin_dir = Path(params["ffmpeg_location"])
    assert bin_dir == (tmp_path / "data" / "bin").absolute()
    assert (bin_dir / "ffmpeg").stat().st_mode & 0o777 == 0o700
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


# --- audio bitrate per codec ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"audio_format": "opus", "audio_bitrate": "320k"}, "opus must be 96k to 256k"),
        ({"audio_format": "opus", "audio_bitrate": 257}, "opus must be 96k to 256k"),
        ({"audio_format": "flac", "audio_bitrate": "192k"}, "flac is lossless"),
        ({"audio_format": "wav", "audio_bitrate": 128}, "wav is lossless"),
        ({"quality": "audio", "audio_bitrate": "128k"}, "needs an audio_format"),
        ({"audio_bitrate": "128k"}, "audio-only downloads"),
    ],
)
def test_bitrate_is_checked_per_codec(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        options(**fields)
    (error,) = caught.value.errors()
    assert error["loc"] == ("audio_bitrate",) and message in error["msg"]


@pytest.mark.parametrize(
    ("audio_format", "bitrate"),
    [("mp3", "320k"), ("mp3", 96), ("m4a", "320k"), ("aac", 96), ("opus", "256k"), ("opus", 96)],
)
def test_bitrates_each_codec_takes(audio_format: str, bitrate: Any) -> None:
    chosen = options(audio_format=audio_format, audio_bitrate=bitrate)
    assert chosen.audio_bitrate_kbps == int(str(bitrate).removesuffix("k"))


def test_bitrate_reencodes_even_when_the_codec_matches(tmp_path: Path) -> None:
    """yt-dlp copies AAC into m4a (and Opus into opus) as is; the output args re-encode."""
    params = _params(tmp_path, audio_format="m4a", audio_bitrate="96k")
    assert params["postprocessor_args"]["extractaudio+ffmpeg_o"] == ["-c:a", "aac", "-b:a", "96k"]
    opus = _params(tmp_path, audio_format="opus", audio_bitrate=160)
    assert opus["postprocessor_args"]["extractaudio+ffmpeg_o"] == [
        "-c:a", "libopus", "-b:a", "160k",
    ]  # fmt: skip
    plain = _params(tmp_path, audio_format="m4a")["postprocessor_args"]
    assert "extractaudio+ffmpeg_o" not in plain


@pytest.fixture(scope="module")
def noisy(media_files: MediaFiles) -> dict[str, str]:
    """Stereo noise (a tone would let encoders undershoot any bitrate): AAC in MP4, Opus in
    WebM, so m4a and opus targets hit yt-dlp's same-codec copy path."""
    made = {}
    for ext, codec in (("mp4", ["-c:a", "aac", "-b:a", "256k"]),
                       ("webm", ["-c:a", "libopus", "-b:a", "256k"])):  # fmt: skip
        path = media_files.root / f"noise-stereo.{ext}"
        subprocess.run(
            [ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
             "anoisesrc=d=4:c=pink:r=48000:a=0.3", "-f", "lavfi", "-i",
             "anoisesrc=d=4:c=white:r=48000:a=0.2", "-filter_complex", "amerge=inputs=2",
             *codec, str(path)],
            check=True, capture_output=True,
        )  # fmt: skip
        made[ext] = media_files.rel(path)
    return made


def _delivered_kbps(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=bit_rate", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return int(json.loads(out)["format"]["bit_rate"]) / 1000


@pytest.mark.integration
@pytest.mark.parametrize(
    ("source", "audio_format", "kbps", "sections"),
    [
        ("mp4", "m4a", 96, False),  # AAC source: yt-dlp would copy it at 256k
        ("mp4", "aac", 128, False),
        ("mp4", "mp3", 128, True),  # and the cut keeps it
        ("webm", "opus", 96, False),  # Opus source: same
        ("webm", "opus", 256, False),
        ("webm", "m4a", 320, False),
    ],
)
def test_delivered_bitrate_is_the_one_asked_for(
    download: Callable[..., DownloadResult],
    media_server: MediaServer,
    noisy: dict[str, str],
    source: str,
    audio_format: str,
    kbps: int,
    sections: bool,
) -> None:
    cut = {"sections": [{"start": 0.5, "end": 3.5}]} if sections else {}
    result = download(
        media_server.url(noisy[source]), audio_format=audio_format, audio_bitrate=kbps, **cut
    )
    (audio,) = [f for f in result.files if f.role == "audio"]
    assert _delivered_kbps(audio.path) == pytest.approx(kbps, rel=0.15)
