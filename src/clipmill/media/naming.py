"""Names users see for downloaded files: filename templates and safe download names.

Files on disk are always named by job id and a fixed stem (see ``options.MEDIA_STEM``); titles
never touch the filesystem. The *download name* is what ``Content-Disposition`` offers, so it
must be harmless on every OS and in every header: no path separators, no ``..``, no control or
bidi characters, quotes made safe, at most 200 bytes, real extension kept.

Templates use yt-dlp's ``%(field)s`` look but only a small allowlist of fields and conversions:
yt-dlp's full template language can run arbitrary traversals and huge paddings, which a request
field must not be able to do.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Mapping

MAX_NAME_BYTES = 200
MAX_TEMPLATE_LENGTH = 200

TEMPLATE_FIELDS: frozenset[str] = frozenset({
    "id", "title", "fulltitle", "uploader", "uploader_id", "channel", "channel_id",
    "upload_date", "release_date", "timestamp", "duration", "duration_string", "ext",
    "resolution", "width", "height", "fps", "format_id", "extractor", "extractor_key",
    "webpage_url_domain", "playlist", "playlist_title", "playlist_index", "playlist_count",
    "section_start", "section_end", "section_number", "language",
})  # fmt: skip
"""Fields a filename template may use."""

_PLACEHOLDER = re.compile(
    r"%(?:(?P<percent>%)|\((?P<field>[^()%]*)\)(?P<flags>[-0 +#]*)(?P<width>\d{0,3})"
    r"(?:\.(?P<precision>\d{1,3}))?(?P<conv>[sd]))"
)

_UNSAFE_CHARS = re.compile(r"[\\/<>:|?*\x00]")
_DOTS = re.compile(r"\.{2,}")
_SPACES = re.compile(r"\s+")

_CONTENT_TYPES = {
    "mp4": "video/mp4", "m4v": "video/mp4", "mkv": "video/x-matroska", "webm": "video/webm",
    "mov": "video/quicktime", "m4a": "audio/mp4", "mp3": "audio/mpeg", "flac": "audio/flac",
    "wav": "audio/wav", "opus": "audio/ogg", "ogg": "audio/ogg", "aac": "audio/aac",
    "srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
}  # fmt: skip


def template_fields(template: str) -> list[str]:
    """The fields ``template`` uses; ValueError naming the problem if it is not allowed."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise ValueError(f"template is longer than {MAX_TEMPLATE_LENGTH} characters")
    fields: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        _reject_stray_percent(template[position : match.start()])
        position = match.end()
        if match.group("percent"):
            continue
        field = match.group("field")
        if field not in TEMPLATE_FIELDS:
            allowed = ", ".join(sorted(TEMPLATE_FIELDS))
            raise ValueError(f"field {field!r} is not allowed in filenames; use one of {allowed}")
        fields.append(field)
    _reject_stray_percent(template[position:])
    return fields


def _reject_stray_percent(text: str) -> None:
    if "%" in text:
        raise ValueError(
            "unsupported placeholder: write %(field)s or %(field)d (or %% for a percent sign)"
        )


def render_template(template: str, values: Mapping[str, object]) -> str:
    """Fill ``template`` with ``values``; missing fields become ``NA`` as in yt-dlp."""
    template_fields(template)

    def substitute(match: re.Match[str]) -> str:
        if match.group("percent"):
            return "%"
        value = values.get(match.group("field"))
        spec = "%" + match.group("flags") + match.group("width")
        if match.group("precision"):
            spec += "." + match.group("precision")
        if match.group("conv") == "d":
            try:
                return (spec + "d") % int(value)  # type: ignore[call-overload]
            except (TypeError, ValueError):
                return "NA"
        return (spec + "s") % ("NA" if value is None else str(value))

    return _PLACEHOLDER.sub(substitute, template)


def safe_download_name(name: str, ext: str, *, fallback: str = "download") -> str:
    """A name safe for Content-Disposition and any filesystem, ending in ``.ext``."""
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:10].lower()
    stem = unicodedata.normalize("NFC", name)
    if ext and stem.lower().endswith("." + ext):
        stem = stem[: -len(ext) - 1]
    # control (Cc) and format (Cf: bidi overrides that can fake an extension) characters go
    stem = "".join(
        " " if unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} else ch for ch in stem
    )
    stem = _UNSAFE_CHARS.sub("_", stem).replace('"', "'")
    stem = _SPACES.sub(" ", _DOTS.sub(".", stem)).strip(" .-_")
    suffix = f".{ext}" if ext else ""
    stem = _truncate_utf8(stem, MAX_NAME_BYTES - len(suffix.encode())).rstrip(" .")
    return (stem or fallback) + suffix


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def content_type_for(ext: str) -> str:
    ext = ext.lower().lstrip(".")
    return (
        _CONTENT_TYPES.get(ext) or mimetypes.guess_type(f"x.{ext}")[0] or "application/octet-stream"
    )
