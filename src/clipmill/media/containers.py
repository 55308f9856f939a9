"""What ffmpeg may read from received bytes, and a first look at those bytes.

ffmpeg picks its demuxer by content, not by name, and several demuxers open *other* files or
URLs named inside their input: HLS (m3u8), DASH (mpd), concat/ffconcat, SDP/RTP, IMF, image2
sequences. A downloaded or uploaded ``talk.mp4`` that is really an HLS playlist naming
``file:///...`` would make ffmpeg read a server file and clipmill deliver it. Two layers stop
that, so neither has to be perfect:

1. ``refuse_unless_media`` looks at the first bytes (after any ID3 tag, which ffmpeg skips too)
   and refuses playlists, manifests, concat scripts, SDP, HTML and other text as
   ``UnsupportedMedia`` before any ffmpeg runs on them.
2. Every ffmpeg and ffprobe input gets ``-format_whitelist`` (only the single-file containers in
   ``SINGLE_FILE_DEMUXERS``) and ``-protocol_whitelist file``. ffmpeg checks the format
   whitelist after probing and before the demuxer reads a byte, so content the sniff misses
   still cannot reach a demuxer that opens other files; ffmpeg fails with "Format not on
   whitelist" instead. Our own calls add the options with ``guard_ffmpeg_args``; yt-dlp's calls
   (postprocessors, fixups, its ffprobe calls) go through the wrapper scripts that
   ``write_guard_scripts`` generates and that yt-dlp gets as ``ffmpeg_location``.

Images: probing a ``.jpg`` picks image2 (by extension) over jpeg_pipe, and image2 is the
sequence demuxer, so JPEG inputs are read as ``-f jpeg_pipe`` and yt-dlp's ``-f image2
-pattern_type none`` is dropped (PNG and WebP are probed as png_pipe/webp_pipe by content).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import shlex
import tempfile
from collections.abc import Sequence
from pathlib import Path

from clipmill.errors import DependencyMissing, UnsupportedMedia

SINGLE_FILE_DEMUXERS: dict[str, str] = {
    "mov": "MP4/M4A/MOV/3GP downloads, the merger's and remuxer's output (data references "
    "to other files stay off: enable_drefs defaults to 0)",
    "matroska": "MKV and WebM downloads and outputs (ffmpeg names it matroska,webm)",
    "mpegts": "HLS segments joined by yt-dlp's native downloader; FFmpegFixupM3u8 reads them",
    "flv": "FLV downloads from older sites",
    "mp3": "MP3 downloads and audio_format=mp3",
    "aac": "raw ADTS AAC: audio_format=aac, audio-only HLS renditions",
    "ogg": "Ogg Opus/Vorbis: audio_format=opus",
    "wav": "audio_format=wav and the 16 kHz WAV the transcriber reads",
    "flac": "audio_format=flac",
    "avi": "AVI downloads",
    "mpeg": "MPEG-PS (.mpg, .vob) downloads",
    "webvtt": "subtitles yt-dlp converts or embeds",
    "srt": "subtitles yt-dlp converts or embeds",
    "ass": "subtitles yt-dlp converts or embeds",
    "jpeg_pipe": "thumbnails (one JPEG, by content; not the image2 sequence demuxer)",
    "png_pipe": "thumbnails yt-dlp converts to JPEG",
    "webp_pipe": "thumbnails yt-dlp converts to JPEG",
    "ffmetadata": "the chapter file yt-dlp writes for embed_metadata (text with no references)",
}
"""The demuxers ffmpeg may run on received bytes, and what needs each one. None of them opens
any file or URL but its own input."""

FORMAT_WHITELIST = ",".join(SINGLE_FILE_DEMUXERS)
PROTOCOL_WHITELIST = "file"
"""Inputs are local files only (``-progress pipe:1`` is an output and needs no entry)."""

HEAD_BYTES = 4096
_JPEG_SUFFIXES = (".jpg", ".jpeg")
_MAX_ID3_TAGS = 8


# --- arguments ------------------------------------------------------------------------------


def input_guard(name: str, *, forced_format: bool = False) -> list[str]:
    """The options that go right before ``-i name`` (ffprobe: before the file name)."""
    args = ["-format_whitelist", FORMAT_WHITELIST, "-protocol_whitelist", PROTOCOL_WHITELIST]
    if not forced_format and name.lower().endswith(_JPEG_SUFFIXES):
        args += ["-f", "jpeg_pipe"]
    return args


def guard_ffmpeg_args(args: Sequence[str]) -> list[str]:
    """ffmpeg ``args`` with ``input_guard`` before every ``-i``.

    ``-f image2`` and ``-pattern_type`` (yt-dlp's thumbnail input options) are dropped, so the
    image is read as one picture by content. The generated ``ffmpeg`` wrapper does the same in
    sh; a test holds the two to the same answers.
    """
    out: list[str] = []
    forced = False
    items = iter(args)
    for arg in items:
        if arg in ("-f", "-pattern_type", "-i"):
            value = next(items, None)
            if value is None:
                if arg != "-pattern_type":
                    out.append(arg)
                break
            if arg == "-i":
                out += [*input_guard(value, forced_format=forced), "-i", value]
                forced = False
            elif arg == "-f" and value != "image2":
                out += ["-f", value]
                forced = True
        else:
            out.append(arg)
    return out


def guard_ffprobe_args(args: Sequence[str]) -> list[str]:
    """ffprobe ``args`` with the whitelists in front (ffprobe has a single input)."""
    return [*input_guard(""), *args]


# --- the wrapper scripts yt-dlp runs --------------------------------------------------------

_NO_PROXIES = (
    "unset http_proxy https_proxy ftp_proxy all_proxy no_proxy "
    "HTTP_PROXY HTTPS_PROXY FTP_PROXY ALL_PROXY NO_PROXY\n"
)
"""ffmpeg reads only local files; it has no business with the environment's proxies either."""

_FFMPEG_SCRIPT = """#!/bin/sh
# Generated by clipmill (media/containers.py) and rewritten when it differs: do not edit.
# Puts -format_whitelist/-protocol_whitelist before every input, so received bytes cannot
# make ffmpeg open other files or URLs (HLS, DASH, concat, SDP... are not on the list).
{no_proxies}formats={formats}
state=
forced=
for arg do
    shift
    case $state in
    f)
        state=
        [ "$arg" = image2 ] && continue
        set -- "$@" -f "$arg"
        forced=1
        continue
        ;;
    pattern)
        state=
        continue
        ;;
    input)
        state=
        set -- "$@" -format_whitelist "$formats" -protocol_whitelist {protocols}
        if [ -z "$forced" ]; then
            case $arg in
            *.[jJ][pP][gG] | *.[jJ][pP][eE][gG]) set -- "$@" -f jpeg_pipe ;;
            esac
        fi
        set -- "$@" -i "$arg"
        forced=
        continue
        ;;
    esac
    case $arg in
    -f) state=f ;;
    -pattern_type) state=pattern ;;
    -i) state=input ;;
    *) set -- "$@" "$arg" ;;
    esac
done
case $state in
f) set -- "$@" -f ;;
input) set -- "$@" -i ;;
esac
exec {exe} "$@"
"""

_FFPROBE_SCRIPT = """#!/bin/sh
# Generated by clipmill (media/containers.py) and rewritten when it differs: do not edit.
{no_proxies}exec {exe} -format_whitelist {formats} -protocol_whitelist {protocols} "$@"
"""


def write_guard_scripts(directory: Path, *, ffmpeg: str, ffprobe: str | None) -> Path:
    """Write ``ffmpeg`` (and ``ffprobe`` when there is a real one) wrappers into ``directory``.

    Each is written atomically and only when its content differs, so concurrent download
    processes can all call this. Without a real ffprobe (the imageio-ffmpeg wheel) no ffprobe
    wrapper exists, and yt-dlp falls back to ``ffmpeg -i``, which the ffmpeg wrapper guards.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        if directory.stat().st_mode & 0o777 != 0o700:
            directory.chmod(0o700)
    values = {
        "formats": shlex.quote(FORMAT_WHITELIST),
        "protocols": PROTOCOL_WHITELIST,
        "no_proxies": _NO_PROXIES,
    }
    _install(directory / "ffmpeg", _FFMPEG_SCRIPT.format(exe=shlex.quote(ffmpeg), **values))
    if ffprobe:
        _install(directory / "ffprobe", _FFPROBE_SCRIPT.format(exe=shlex.quote(ffprobe), **values))
    else:
        (directory / "ffprobe").unlink(missing_ok=True)
    if not os.access(directory / "ffmpeg", os.X_OK):  # also false on a noexec mount
        raise DependencyMissing(f"cannot run the ffmpeg wrapper in {directory} (noexec mount?)")
    return directory


def _install(path: Path, content: str) -> None:
    with contextlib.suppress(OSError):
        if path.read_text() == content and path.stat().st_mode & 0o777 == 0o700:
            return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.chmod(tmp, 0o700)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- the content sniff ----------------------------------------------------------------------

_NUL_FREE_CHECKS: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"\A#EXTM3U"), "an HLS playlist"),
    (re.compile(rb"<\s*MPD[\s>]", re.I), "a DASH manifest"),
    (re.compile(rb"<\s*SmoothStreamingMedia[\s>]", re.I), "a Smooth Streaming manifest"),
    (re.compile(rb"<\s*CompositionPlaylist[\s>]", re.I), "an IMF composition playlist"),
    (re.compile(rb"\Affconcat\b", re.I), "an ffconcat script"),
    (re.compile(rb"\Av=0\s*$|^c=IN IP", re.M), "an SDP session description"),
)
"""Content that makes ffmpeg open other files or addresses. ffmpeg's probes read the bytes
as C strings (up to the first NUL), so the checks do too; they run on text and binary alike."""

_TEXT_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\A(<!--.*?-->\s*)*<!doctype\s+html|\A<html[\s>]", re.I | re.S), "an HTML page"),
    (re.compile(r"\A<\?xml", re.I), "an XML document"),
)


def describe_content(head: bytes, *, text_ok: bool = False) -> str | None:
    """What ``head`` (a file's first bytes) is, when it is not an audio or video file.

    None means "binary, let ffmpeg decide". Playlists, manifests, concat scripts and SDP are
    always named; other text only when ``text_ok`` is false (subtitles are text).
    """
    head = _after_id3(head)
    if not head:
        return "an empty file"
    body = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
    prefix = body.split(b"\0", 1)[0]
    for pattern, kind in _NUL_FREE_CHECKS:
        if pattern.search(prefix):
            return kind
    text = _as_text(head)
    if text is None or text_ok:
        return None
    stripped = text.lstrip("\ufeff \t\r\n")
    for text_pattern, kind in _TEXT_CHECKS:
        if text_pattern.search(stripped[:HEAD_BYTES]):
            return kind
    return "a text file"


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of ``path`` after any ID3v2 tags (ffmpeg's probe skips them)."""
    with path.open("rb") as handle:
        for _ in range(_MAX_ID3_TAGS):
            start = handle.tell()
            header = handle.read(10)
            length = _id3_length(header)
            if length is None:
                handle.seek(start)
                break
            handle.seek(start + length)
        return handle.read(size)


def refuse_unless_media(path: Path, *, name: str | None = None, text_ok: bool = False) -> None:
    """UnsupportedMedia when ``path`` is a playlist, manifest, script, page or other text."""
    kind = describe_content(read_head(path), text_ok=text_ok)
    if kind is not None:
        raise UnsupportedMedia(
            f"{name or path.name} is {kind}, not an audio or video file.", content=kind
        )


def _after_id3(data: bytes) -> bytes:
    for _ in range(_MAX_ID3_TAGS):
        length = _id3_length(data[:10])
        if length is None:
            break
        data = data[length:]
    return data


def _id3_length(header: bytes) -> int | None:
    """Total length of the ID3v2 tag ``header`` starts, or None if it starts none."""
    if len(header) < 10 or header[:3] != b"ID3" or 0xFF in header[3:5]:
        return None
    size = header[6:10]
    if any(b & 0x80 for b in size):
        return None
    length = 10 + (size[0] << 21 | size[1] << 14 | size[2] << 7 | size[3])
    return length + 10 if header[5] & 0x10 else length  # a footer follows


def _as_text(data: bytes) -> str | None:
    """``data`` decoded if it is text (UTF-8, or UTF-16/32 with a BOM), else None."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):  # fmt: skip
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    if b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(data) - 3:  # not just a character cut off at the end of the head
            return None
        text = data[: exc.start].decode("utf-8")
    if any((ch < " " and ch not in "\t\n\r\f") or ch == "\x7f" for ch in text):
        return None
    return text
