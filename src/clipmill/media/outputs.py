"""After yt-dlp is done: check the result, cut sections, and describe each file.

Runs on local files only (ffmpeg with the file/pipe whitelist). The duration limit is checked
again on the real file because many origins (direct links, some HLS) do not announce a
duration before the download.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.errors import BrokenMedia, DurationTooLong, FileTooLarge, InvalidOption
from clipmill.media import ffmpeg, naming, workfiles
from clipmill.media.integrity import check_complete
from clipmill.media.models import DownloadedFile, DownloadProgress, FileRole, MediaInfo
from clipmill.media.options import MEDIA_STEM, DownloadOptions, Section

SUBTITLE_EXTS = frozenset({"srt", "vtt", "ass", "ssa", "ttml", "lrc", "json3", "srv1", "srv2",
                           "srv3"})  # fmt: skip
IMAGE_EXTS = frozenset({"jpg", "jpeg", "png", "webp"})


def finish_download(
    *,
    workdir: Path,
    main_file: Path | None,
    options: DownloadOptions,
    info: MediaInfo,
    name_values: Mapping[str, object],
    settings: Settings,
    cancel: CancelSignal,
    on_progress: Callable[[DownloadProgress], None],
) -> tuple[DownloadedFile, ...]:
    """Turn the files yt-dlp left in ``workdir`` into the job's deliverables."""
    main = main_file if main_file is not None and main_file.is_file() else _find_main(workdir)
    if main is None:
        raise BrokenMedia("the download produced no media file")
    check_complete(main)  # ffprobe accepts an MP4 cut short after its index
    probe = ffmpeg.probe_file(main)
    if _is_still_image(probe):
        raise BrokenMedia("the URL points at an image, not at audio or video")
    if probe.duration and probe.duration > settings.max_duration:
        raise DurationTooLong(
            f"media is {probe.duration:.0f} s long; the limit is {settings.max_duration:.0f} s",
            duration=probe.duration,
        )
    role: FileRole = "audio" if options.audio_only or not probe.has_video else "media"
    if probe.format_name == "aac" and main.suffix.lower() != ".aac":
        # yt-dlp writes raw ADTS for "aac" but names it .m4a; name it for what it is
        main = main.rename(main.with_suffix(".aac"))
    kbps = options.audio_bitrate_kbps
    if kbps and not options.sections and _off_target(probe, kbps):
        main = _reencode_audio(main, kbps, cancel=cancel)
    ext = main.suffix.lstrip(".").lower()
    base = _base_name(options.filename, info.title or info.id, {**name_values, "ext": ext}, ext)
    files: list[DownloadedFile] = []
    if options.sections:
        files += _cut_sections(main, options, probe.duration, base, name_values, role, ext,
                               cancel=cancel, on_progress=on_progress)  # fmt: skip
        main.unlink()
    else:
        files.append(_described(main, role, naming.safe_download_name(base, ext)))
    if probe.video is not None:
        # what the user got, to compare with what they asked (a source may lack the quality)
        width, height = probe.video.width, probe.video.height
        files = [dataclasses.replace(f, width=width, height=height) for f in files]
    files += _side_files(workdir, main, base)
    total = sum(f.size for f in files)
    if total > settings.max_filesize:
        raise FileTooLarge(
            f"the files add up to {total} bytes; the limit is {settings.max_filesize}",
            size=total,
        )
    return tuple(files)


BITRATE_TOLERANCE = 0.15


def _off_target(probe: ffmpeg.MediaProbe, kbps: int) -> bool:
    """True when the delivered audio is not at the asked bitrate: yt-dlp keeps a source whose
    codec already is the asked one as it is, whatever bitrate was asked for."""
    audio = probe.audio
    rate = (audio.bit_rate if audio is not None else None) or probe.bit_rate
    return rate is not None and abs(rate / 1000 - kbps) > BITRATE_TOLERANCE * kbps


def _reencode_audio(main: Path, kbps: int, *, cancel: CancelSignal) -> Path:
    encoded = main.with_name(f"{MEDIA_STEM}.rate{main.suffix}")
    # new_session=False: stay in the download's process group so a cancel kills us too
    ffmpeg.extract_audio(main, encoded, sample_rate=None, mono=False, audio_bitrate_kbps=kbps,
                         cancel=cancel, new_session=False)  # fmt: skip
    return encoded.replace(main)


def _is_still_image(probe: ffmpeg.MediaProbe) -> bool:
    name = probe.format_name or ""
    return not probe.has_audio and (name == "image2" or name.endswith("_pipe"))


def _find_main(workdir: Path) -> Path | None:
    candidates = [
        p for p in workfiles.finished_files(workdir)
        if p.suffix.lstrip(".").lower() not in SUBTITLE_EXTS | IMAGE_EXTS
        and p.name.count(".") == 1
    ]  # fmt: skip
    return max(candidates, key=lambda p: p.stat().st_size, default=None)


def _base_name(template: str | None, title: str, values: Mapping[str, object], ext: str) -> str:
    """The download name without extension, from the template or the title."""
    rendered = naming.render_template(template, values) if template else title
    if rendered.lower().endswith("." + ext):
        rendered = rendered[: -len(ext) - 1]
    return rendered


def _cut_sections(
    main: Path,
    options: DownloadOptions,
    duration: float | None,
    base: str,
    name_values: Mapping[str, object],
    role: FileRole,
    ext: str,
    *,
    cancel: CancelSignal,
    on_progress: Callable[[DownloadProgress], None],
) -> list[DownloadedFile]:
    sections = sorted(options.sections, key=lambda s: s.start)
    uses_section_fields = bool(options.filename) and any(
        f.startswith("section_") for f in naming.template_fields(options.filename or "")
    )
    files = []
    for number, section in enumerate(sections, start=1):
        start, end = _clamped(section, duration)
        dst = main.with_name(f"{MEDIA_STEM}.section{number:02d}.{ext}")

        def report(seconds: float, number: int = number, span: float = end - start) -> None:
            on_progress(
                DownloadProgress(
                    stage="postprocessing",
                    percent=min(100.0, 100.0 * seconds / span),
                    message=f"Converting: cutting section {number} of {len(sections)}…",
                )
            )

        # new_session=False: stay in the download's process group so a cancel kills us too
        ffmpeg.cut_section(main, dst, start, end, cancel=cancel, on_progress=report,
                           new_session=False,
                           audio_bitrate_kbps=options.audio_bitrate_kbps)  # fmt: skip
        if uses_section_fields:
            values = {**name_values, "ext": ext, "section_start": start, "section_end": end,
                      "section_number": number}  # fmt: skip
            name = _base_name(options.filename, base, values, ext)
        else:
            name = f"{base} ({_stamp(start)}-{_stamp(end)})"
        files.append(_described(dst, role, naming.safe_download_name(name, ext)))
    return files


def _clamped(section: Section, duration: float | None) -> tuple[float, float]:
    if duration is None:
        return section.start, section.end
    if section.start >= duration:
        raise InvalidOption(
            f"section {section.start:g}-{section.end:g} starts after the end ({duration:.1f} s)",
            field="sections",
        )
    return section.start, min(section.end, duration)


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:04.1f}s"


def _side_files(workdir: Path, main: Path, base: str) -> list[DownloadedFile]:
    """Subtitles (``media.<lang>.<ext>``) and the thumbnail (``media.<image ext>``)."""
    found = []
    for path in workfiles.finished_files(workdir):
        if path == main:
            continue
        parts = path.name.split(".")
        ext = parts[-1].lower()
        if ext in SUBTITLE_EXTS and len(parts) >= 3:
            language = ".".join(parts[1:-1])
            name = naming.safe_download_name(f"{base}.{language}", ext)
            found.append(_described(path, "subtitle", name, language=language))
        elif ext in IMAGE_EXTS and len(parts) == 2:
            found.append(_described(path, "thumbnail", naming.safe_download_name(base, ext)))
    return found


def _described(
    path: Path, role: FileRole, download_name: str, *, language: str | None = None
) -> DownloadedFile:
    return DownloadedFile(
        path=path,
        role=role,
        download_name=download_name,
        content_type=naming.content_type_for(path.suffix),
        size=path.stat().st_size,
        language=language,
    )
