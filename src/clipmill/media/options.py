"""Download options: the request schema, and the one place they become yt-dlp params.

Users never pass yt-dlp options. ``DownloadOptions`` is a closed vocabulary (unknown keys are
rejected) and ``to_ytdlp_params`` maps it onto an allowlist of yt-dlp params, always adding the
safety settings: output named by a fixed stem inside the job's work dir, no playlists, native HLS,
no external downloader, and ffmpeg restricted to local files read by single-file demuxers (its
``ffmpeg_location`` is a directory of wrappers that add the whitelists, see ``containers``).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from clipmill.config import Settings
from clipmill.media import ffmpeg, naming
from clipmill.media.ffmpeg import FORMAT_WHITELIST, PROTOCOL_WHITELIST

MEDIA_STEM = "media"
"""Every file of a download is ``<workdir>/media.<ext>`` (plus ``.<lang>.srt`` etc.)."""

SAFE_PROTOCOLS = frozenset({"http", "https", "m3u8_native", "http_dash_segments"})
"""Protocols yt-dlp downloads natively in Python, where the connect-time guard applies.
Anything else (rtmp, plain ``m3u8`` via ffmpeg, f4m, ...) would hand networking to ffmpeg."""

MAX_SECTIONS = 20
MAX_FORMAT_LENGTH = 200


class Quality(StrEnum):
    """Which rendition to download."""

    best = "best"
    """Highest resolution available (video and audio)."""
    p2160 = "2160p"
    """At most 2160 lines (4K); the best below if there is none."""
    p1440 = "1440p"
    """At most 1440 lines."""
    p1080 = "1080p"
    """At most 1080 lines."""
    p720 = "720p"
    """At most 720 lines."""
    p480 = "480p"
    """At most 480 lines."""
    p360 = "360p"
    """At most 360 lines."""
    audio = "audio"
    """Audio only (kept in its original codec unless ``audio_format`` is set)."""

    @property
    def max_height(self) -> int | None:
        return int(self.value[:-1]) if self.value.endswith("p") else None


class Container(StrEnum):
    """Container for video downloads."""

    mp4 = "mp4"
    """Plays everywhere; streams are remuxed into it."""
    mkv = "mkv"
    """Holds any codec, subtitles and attachments."""
    webm = "webm"
    """VP9/AV1 + Opus; re-encoded when the source codecs do not fit."""


class AudioFormat(StrEnum):
    """Codec/container for audio-only downloads."""

    mp3 = "mp3"
    m4a = "m4a"
    """AAC in an MP4 container."""
    flac = "flac"
    wav = "wav"
    opus = "opus"
    aac = "aac"
    """Raw AAC stream (ADTS), ``.aac``."""


class SubtitleFormat(StrEnum):
    srt = "srt"
    vtt = "vtt"
    ass = "ass"


AudioBitrate = (
    Literal["96k", "128k", "160k", "192k", "256k", "320k"]
    | Annotated[int, Field(ge=96, le=320, description="kbps")]
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubtitleOptions(_Model):
    """Which subtitles to fetch and how to deliver them."""

    languages: list[
        Annotated[str, Field(pattern=r"^(all|[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3})$")]
    ] = Field(
        default_factory=lambda: ["en"],
        min_length=1,
        max_length=20,
        description="Language codes, or 'all'.",
        examples=[["en", "de"]],
    )
    auto_generated: bool = Field(default=False, description="Also accept automatic captions.")
    format: SubtitleFormat = Field(
        default=SubtitleFormat.srt, description="Convert subtitles to this."
    )
    embed: bool = Field(default=False, description="Also embed them into the video file.")


class ThumbnailOptions(_Model):
    """Whether to deliver the thumbnail as a file and/or embed it as cover art."""

    write: bool = Field(default=True, description="Deliver the thumbnail as a JPEG file.")
    embed: bool = Field(default=False, description="Embed it into the media file as cover art.")


class Section(_Model):
    """A time range to keep, in seconds from the start."""

    start: float = Field(ge=0, description="Start, seconds.", examples=[30.0])
    end: float = Field(description="End, seconds; greater than start.", examples=[45.5])

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: float, info: ValidationInfo) -> float:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be greater than start")
        return end


class DownloadOptions(_Model):
    """What to download and how to deliver it."""

    quality: Quality = Field(
        default=Quality.best, description="Rendition to pick.", examples=["1080p"]
    )
    format: str | None = Field(
        default=None,
        max_length=MAX_FORMAT_LENGTH,
        description="Advanced: a yt-dlp format selector; overrides quality.",
        examples=["bv*[height<=720]+ba/b[height<=720]"],
    )
    audio_format: AudioFormat | None = Field(
        default=None, description="Audio-only, converted to this format.", examples=["mp3"]
    )
    audio_bitrate: AudioBitrate | None = Field(
        default=None,
        description="Bitrate of the audio_format, one of 96k..320k or kbps: mp3, m4a and aac "
        "take 96-320, opus 96-256; flac and wav are lossless and take none.",
        examples=["192k"],
    )
    container: Container | None = Field(
        default=None, description="Container for video downloads.", examples=["mp4"]
    )
    subtitles: SubtitleOptions | None = None
    thumbnail: ThumbnailOptions | None = None
    embed_metadata: bool = Field(
        default=False, description="Write title, uploader, chapters into the file."
    )
    sections: list[Section] = Field(
        default_factory=list,
        max_length=MAX_SECTIONS,
        description="Time ranges to keep; each becomes its own file. Must not overlap.",
        examples=[[{"start": 10, "end": 20}]],
    )
    filename: str | None = Field(
        default=None,
        max_length=naming.MAX_TEMPLATE_LENGTH,
        description="Download name template with %(field)s placeholders.",
        examples=["%(title)s [%(id)s].%(ext)s"],
    )
    cookies_id: str | None = Field(
        default=None,
        max_length=64,
        description="One of your cookie files (POST /api/v1/auth/cookies), for content that "
        "needs a login; only its id is stored with the job.",
    )

    @property
    def audio_only(self) -> bool:
        return self.quality is Quality.audio or self.audio_format is not None

    @property
    def audio_bitrate_kbps(self) -> int | None:
        if self.audio_bitrate is None:
            return None
        return int(str(self.audio_bitrate).removesuffix("k"))

    @field_validator("format")
    @classmethod
    def _valid_selector(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("format must not be empty")
        check_format_selector(value)
        return value

    @field_validator("audio_bitrate")
    @classmethod
    def _bitrate_fits_the_codec(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        if not _audio_only(info):
            raise ValueError("audio_bitrate applies to audio-only downloads (set audio_format)")
        audio_format: AudioFormat | None = info.data.get("audio_format")
        if audio_format is None:
            raise ValueError(
                "audio_bitrate needs an audio_format (mp3, m4a, aac or opus); without one the "
                "source's audio is kept as it is"
            )
        allowed = bitrate_range(audio_format)
        if allowed is None:
            raise ValueError(f"{audio_format.value} is lossless: audio_bitrate does not apply")
        kbps = int(str(value).removesuffix("k"))
        low, high = allowed
        if not low <= kbps <= high:
            raise ValueError(
                f"audio_bitrate for {audio_format.value} must be {low}k to {high}k, not {kbps}k"
            )
        return value

    @field_validator("container")
    @classmethod
    def _container_needs_video(cls, value: Container | None, info: ValidationInfo) -> Any:
        if value is not None and _audio_only(info):
            raise ValueError("container applies to video; use audio_format for audio-only")
        return value

    @field_validator("thumbnail")
    @classmethod
    def _embeddable(cls, value: ThumbnailOptions | None, info: ValidationInfo) -> Any:
        if value is None or not value.embed:
            return value
        audio_format = info.data.get("audio_format")
        if audio_format in _NO_COVER_ART:
            raise ValueError(f"cannot embed a thumbnail into {audio_format.value} files")
        if info.data.get("container") is Container.webm:
            raise ValueError("cannot embed a thumbnail into webm; use mkv or mp4")
        return value

    @field_validator("sections")
    @classmethod
    def _no_overlap(cls, sections: list[Section]) -> list[Section]:
        ordered = sorted(sections, key=lambda s: s.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:
                raise ValueError(
                    f"sections overlap: {before.start:g}-{before.end:g} and "
                    f"{after.start:g}-{after.end:g}"
                )
        return sections

    @field_validator("filename")
    @classmethod
    def _allowed_template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("filename must not be empty")
        naming.template_fields(value)
        return value


MIN_AUDIO_BITRATE = 96


def bitrate_range(audio_format: AudioFormat) -> tuple[int, int] | None:
    """The kbps range an ``audio_format`` accepts; None for lossless formats.

    The top is what ffmpeg's encoder delivers for mono and stereo alike (libopus refuses more
    than 256k per channel); see ``ffmpeg.AUDIO_ENCODERS``.
    """
    encoder = ffmpeg.AUDIO_ENCODERS["." + audio_format.value]
    if not encoder.lossy or encoder.max_kbps is None:
        return None
    return MIN_AUDIO_BITRATE, encoder.max_kbps


_NO_COVER_ART = frozenset({AudioFormat.wav, AudioFormat.aac, AudioFormat.flac, AudioFormat.opus})
"""Formats yt-dlp can only tag with mutagen (not a dependency) or not at all."""


def _audio_only(info: ValidationInfo) -> bool:
    return info.data.get("quality") is Quality.audio or info.data.get("audio_format") is not None


# --- format selector validation -------------------------------------------------------------

_FILTER = re.compile(r"\[\s*!?\s*([A-Za-z_][\w.-]*)")
FILTER_FIELDS = frozenset({
    "width", "height", "tbr", "abr", "vbr", "asr", "filesize", "filesize_approx", "fps",
    "audio_channels", "aspect_ratio", "ext", "acodec", "vcodec", "container", "protocol",
    "format_id", "format_note", "language", "dynamic_range", "resolution", "source_preference",
    "quality", "preference", "language_preference",
})  # fmt: skip


@functools.cache
def _selector_parser() -> Any:
    from yt_dlp import YoutubeDL

    return YoutubeDL({"quiet": True, "no_warnings": True, "cachedir": False})


_DUMMY_FORMATS = (
    {"format_id": "v", "ext": "mp4", "height": 720, "width": 1280, "vcodec": "avc1",
     "acodec": "none", "protocol": "https", "url": "https://example.invalid/v", "tbr": 900},
    {"format_id": "a", "ext": "m4a", "vcodec": "none", "acodec": "mp4a", "protocol": "https",
     "url": "https://example.invalid/a", "tbr": 128},
    {"format_id": "b", "ext": "mp4", "height": 360, "width": 640, "vcodec": "avc1",
     "acodec": "mp4a", "protocol": "https", "url": "https://example.invalid/b", "tbr": 500},
)  # fmt: skip


def check_format_selector(spec: str) -> None:
    """ValueError unless yt-dlp's own parser accepts ``spec`` (so typos are 422s, not failed
    jobs) and every ``[field...]`` filter names a field yt-dlp knows."""
    ydl = _selector_parser()
    try:
        selector = ydl.build_format_selector(spec)
        ctx = {"formats": [dict(f) for f in _DUMMY_FORMATS], "incomplete_formats": False,
               "has_merged_format": True}  # fmt: skip
        list(selector(ctx))
    except (SyntaxError, ValueError) as exc:
        raise ValueError(f"invalid format selector: {str(exc).splitlines()[0]}") from exc
    except Exception as exc:  # yt-dlp raises assorted errors for odd selectors
        raise ValueError(f"invalid format selector: {exc}") from exc
    for field in _FILTER.findall(spec):
        if field not in FILTER_FIELDS:
            raise ValueError(f"invalid format selector: unknown filter field {field!r}")


# --- the mapping to yt-dlp ------------------------------------------------------------------


def quality_selector(quality: Quality) -> str:
    """A yt-dlp selector for a preset; each falls back to the nearest lower rendition, then to
    the smallest one rather than failing."""
    if quality is Quality.audio:
        return "ba/b"
    if quality is Quality.best:
        return "bv*+ba/b"
    h = quality.max_height
    return f"bv*[height<=?{h}]+ba/b[height<=?{h}]/wv*+ba/w"


def format_spec(options: DownloadOptions) -> str:
    if options.format:
        return options.format
    if options.audio_only:
        return quality_selector(Quality.audio)
    return quality_selector(options.quality)


def _ffmpeg_postprocessor_keys() -> list[str]:
    """Every yt-dlp postprocessor that runs ffmpeg, by the key its config args use."""
    from yt_dlp import postprocessor as pps
    from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor

    keys: list[str] = []
    for value in vars(pps).values():
        if isinstance(value, type) and issubclass(value, FFmpegPostProcessor):
            postprocessor: Any = value  # yt-dlp is untyped
            keys.append(postprocessor.pp_key().lower())
    return sorted(set(keys))


INPUT_WHITELISTS = ("-format_whitelist", FORMAT_WHITELIST,
                    "-protocol_whitelist", PROTOCOL_WHITELIST)  # fmt: skip
"""What goes before every ffmpeg input (see ``containers``)."""


def local_only_ffmpeg_args() -> dict[str, list[str]]:
    """``postprocessor_args`` that put the format and protocol whitelists before every ffmpeg
    input. The ``ffmpeg_location`` wrappers add them too (and cover yt-dlp's ffprobe calls,
    which get no args); these keep yt-dlp safe should it ever run another ffmpeg.

    yt-dlp only applies input args from per-postprocessor keys (``<pp>+ffmpeg_i``), so we
    list every ffmpeg postprocessor."""
    args = {f"{key}+ffmpeg_i": list(INPUT_WHITELISTS) for key in _ffmpeg_postprocessor_keys()}
    # webm conversion re-encodes; yt-dlp's encoder defaults would take minutes per minute
    args["videoconvertor+ffmpeg_o"] = ["-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1"]
    return args


def _audio_output_args(options: DownloadOptions) -> dict[str, list[str]]:
    """Encoder args for FFmpegExtractAudio when a bitrate is asked for: yt-dlp copies the
    stream when the source already has the codec (AAC into m4a, Opus into opus), which would
    ignore the bitrate; output args come after its ``-acodec copy`` and win."""
    kbps, audio_format = options.audio_bitrate_kbps, options.audio_format
    if kbps is None or audio_format is None:
        return {}
    encoder = ffmpeg.AUDIO_ENCODERS["." + audio_format.value]
    return {"extractaudio+ffmpeg_o": encoder.arguments(kbps)}


def _postprocessors(options: DownloadOptions) -> list[dict[str, Any]]:
    pps: list[dict[str, Any]] = []
    subs, thumb = options.subtitles, options.thumbnail
    if subs is not None:
        pps.append({"key": "FFmpegSubtitlesConvertor", "format": subs.format.value,
                    "when": "before_dl"})  # fmt: skip
    if thumb is not None and (thumb.write or thumb.embed):
        pps.append({"key": "FFmpegThumbnailsConvertor", "format": "jpg", "when": "before_dl"})
    embed_thumb = thumb is not None and thumb.embed
    if options.audio_only:
        # "best" keeps the source codec; with cover art wanted, make it one that can hold it
        codec = (
            options.audio_format.value
            if options.audio_format
            else ("m4a" if embed_thumb else "best")
        )
        kbps = options.audio_bitrate_kbps
        pps.append({"key": "FFmpegExtractAudio", "preferredcodec": codec,
                    "preferredquality": str(kbps) if kbps else None,
                    "nopostoverwrites": False})  # fmt: skip
    elif options.container is Container.webm:
        pps.append({"key": "FFmpegVideoConvertor", "preferedformat": "webm"})
    elif options.container is not None:
        pps.append({"key": "FFmpegVideoRemuxer", "preferedformat": options.container.value})
    elif embed_thumb:
        pps.append({"key": "FFmpegVideoRemuxer", "preferedformat": "webm>mkv"})
    if subs is not None and subs.embed and not options.audio_only:
        pps.append({"key": "FFmpegEmbedSubtitle", "already_have_subtitle": True})
    if options.embed_metadata:
        pps.append({"key": "FFmpegMetadata", "add_metadata": True, "add_chapters": True,
                    "add_infojson": False})  # fmt: skip
    if thumb is not None and embed_thumb:
        pps.append({"key": "EmbedThumbnail", "already_have_thumbnail": thumb.write})
    return pps


def _format_sort(options: DownloadOptions) -> list[str]:
    # prefer sources that fit the container, so remuxing (not re-encoding) is enough
    if options.container is Container.mp4:
        return ["res", "ext:mp4:m4a"]
    if options.container is Container.webm:
        return ["res", "ext:webm:webm"]
    return []


def _common_params(settings: Settings, logger: Any) -> dict[str, Any]:
    """Safety settings shared by probing and downloading."""
    return {
        "noplaylist": True,
        "playlist_items": "1",  # a URL that still turns out to be a playlist yields one item
        "hls_prefer_native": True,
        "external_downloader": {"default": "native"},
        "external_downloader_args": {"ffmpeg_i": list(INPUT_WHITELISTS)},
        "postprocessor_args": local_only_ffmpeg_args(),
        "enable_file_urls": False,
        "socket_timeout": settings.socket_timeout,
        # "" is a direct connection: HTTP_PROXY & co. are ignored, because the guard would only
        # see the proxy's address; the operator's proxy gets destination checks (`proxied`)
        "proxy": settings.proxy_url or "",
        "cachedir": False,
        "check_formats": False,
        "quiet": True,
        "noprogress": True,
        "color": "no_color",
        "logger": logger,
    }


def probe_params(settings: Settings, *, logger: Any = None) -> dict[str, Any]:
    """yt-dlp params for looking at a URL without downloading."""
    return {**_common_params(settings, logger), "format": quality_selector(Quality.best),
            "skip_download": True,
            "ffmpeg_location": ffmpeg.guarded_tools_dir(settings.data_dir)}  # fmt: skip


def to_ytdlp_params(
    options: DownloadOptions,
    *,
    workdir: Path,
    settings: Settings,
    ffmpeg_location: str | None = None,
    logger: Any = None,
    progress_hooks: Sequence[Callable[[dict[str, Any]], None]] = (),
    postprocessor_hooks: Sequence[Callable[[dict[str, Any]], None]] = (),
    cookie_file: Path | None = None,
) -> dict[str, Any]:
    """The complete yt-dlp params for a download of ``options`` into ``workdir``.

    ``cookie_file`` is the job's decrypted cookies.txt (see ``clipmill.cookies.jobfile``);
    ``options.cookies_id`` only names it.

    Time sections are not passed on: yt-dlp's ``download_ranges`` makes ffmpeg read the
    network, so ytdlp.download fetches the whole media natively and cuts locally. Thumbnails
    are not written by yt-dlp either (``writethumbnail`` would copy an unbounded response to
    disk); ytdlp.download fetches them with a size cap and the postprocessors below convert and
    embed them.
    """
    subs = options.subtitles
    params: dict[str, Any] = {
        **_common_params(settings, logger),
        "paths": {"home": str(workdir), "temp": str(workdir)},
        "outtmpl": {"default": f"{MEDIA_STEM}.%(ext)s"},
        "restrictfilenames": True,
        "format": format_spec(options),
        "format_sort": _format_sort(options),
        "merge_output_format": options.container.value if options.container else None,
        "retries": 3,
        "fragment_retries": 3,
        "concurrent_fragment_downloads": 1,
        "continuedl": True,
        "nopart": False,
        "updatetime": False,
        "progress_hooks": list(progress_hooks),
        "postprocessor_hooks": list(postprocessor_hooks),
        "postprocessors": _postprocessors(options),
        "postprocessor_args": {**local_only_ffmpeg_args(), **_audio_output_args(options)},
        "writesubtitles": subs is not None,
        "writeautomaticsub": bool(subs and subs.auto_generated),
        "subtitleslangs": list(subs.languages) if subs else [],
        "subtitlesformat": f"{subs.format.value}/best" if subs else "best",
        "writethumbnail": False,
        "cookiefile": str(cookie_file) if cookie_file is not None else None,
    }
    # the whitelisting wrappers unless the caller passes them (or others) itself
    params["ffmpeg_location"] = ffmpeg_location or ffmpeg.guarded_tools_dir(settings.data_dir)
    return {key: value for key, value in params.items() if value is not None}
