"""Requests and responses of the shorts jobs API (``/api/v1/jobs``), and the stored job options.

The field names follow the shorts design's contract (``youtube_url``, ``job_type``, the
``options`` block, ``JobStatusResponse``) so existing clients keep working; underneath, a job is
an ordinary clipmill job of kind ``shorts``, ``transcribe`` or ``download``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from clipmill.config import Settings
from clipmill.jobs.enums import JobKind, JobStatus
from clipmill.jobs.schemas import JobHooks, JobRecord
from clipmill.media.options import Container, DownloadOptions, Quality


class JobType(StrEnum):
    """What a job of the shorts API does."""

    FULL_PROCESSING = "full_processing"  #: transcript, clip plan and per-clip assets
    TRANSCRIBE_ONLY = "transcribe_only"  #: transcript and subtitles of the whole video
    DOWNLOAD_ONLY = "download_only"  #: just the media file (an ordinary download job)

    @property
    def kind(self) -> JobKind:
        return _KIND_OF[self]

    @classmethod
    def of_kind(cls, kind: JobKind) -> JobType | None:
        return next((t for t, k in _KIND_OF.items() if k is kind), None)


_KIND_OF = {
    JobType.FULL_PROCESSING: JobKind.SHORTS,
    JobType.TRANSCRIBE_ONLY: JobKind.TRANSCRIBE,
    JobType.DOWNLOAD_ONLY: JobKind.DOWNLOAD,
}


class OutputFormat(StrEnum):
    """Container of rendered clips (and of the download for ``download_only``)."""

    MP4 = "mp4"  #: H.264 + AAC; plays everywhere
    WEBM = "webm"  #: VP9 + Opus


class Resolution(StrEnum):
    """Height of the source to fetch and of rendered clips (the long side of a vertical clip)."""

    P480 = "480p"
    P720 = "720p"
    P1080 = "1080p"


class AspectRatio(StrEnum):
    """Frame shapes to render each clip in."""

    VERTICAL = "9:16"  #: Shorts, Reels, TikTok
    SQUARE = "1:1"  #: feeds
    PORTRAIT = "4:5"  #: Instagram portrait posts
    LANDSCAPE = "16:9"  #: the source shape, cut only


class Framing(StrEnum):
    """How a clip's picture is made from a wider source."""

    FOLLOW = "follow"  #: a window that follows the main face (the speaker, when it can tell)
    FIT = "fit"  #: the whole frame over a blurred, scaled copy of itself (no crop)
    CENTER = "center"  #: a fixed window in the middle


def frame_size(aspect: AspectRatio, resolution: Resolution) -> tuple[int, int]:
    """(width, height) of a rendered clip: the resolution names the short side (1080p gives
    1080x1920 for 9:16, 1080x1080, 1080x1350 for 4:5 and 1920x1080 for 16:9)."""
    short = int(resolution.value.removesuffix("p"))
    across, down = (int(n) for n in aspect.value.split(":"))
    if across <= down:
        return short, _even(short * down / across)
    return _even(short * across / down), short


def _even(value: float) -> int:
    return int(round(value / 2) * 2)


class CaptionStyle(StrEnum):
    """How captions are burned into rendered clips (SRT/VTT files are written either way).

    Every style shows a few words at a time (about three, or 20 characters) inside the frame's
    safe area, with the word being spoken highlighted.
    """

    BOLD = "bold"  #: large white words, thick outline, the spoken word in colour
    BOXED = "boxed"  #: words on a translucent box, the spoken word in colour
    MINIMAL = "minimal"  #: small lower-third text, the spoken word brighter
    NONE = "none"  #: no burned-in captions

    @classmethod
    def _missing_(cls, value: object) -> CaptionStyle | None:
        # the names of the first API version
        return {"highlight": cls.BOLD, "classic": cls.BOXED}.get(str(value).lower())


class ShortsOptions(BaseModel):
    """The ``options`` block. Durations are seconds.

    ``whisper_model`` is checked against the models this server has (a 422 names them) by the
    service, because the list comes from settings; duration combinations are checked here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2,3}$",
        description="Spoken language (ISO 639-1); null detects it.",
    )
    whisper_model: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Model name; null is the server default.",
    )
    clip_duration: float = Field(default=30.0, ge=5, le=180, description="Preferred clip length.")
    min_clip_duration: float = Field(default=15.0, ge=3, le=180)
    max_clip_duration: float = Field(default=60.0, ge=5, le=300)
    overlap_duration: float = Field(
        default=0.0, ge=0, le=30, description="How much two clips may share."
    )
    max_clips: int = Field(default=5, ge=1, le=50)
    output_format: OutputFormat = OutputFormat.MP4
    resolution: Resolution = Resolution.P1080
    aspect_ratios: list[AspectRatio] = Field(
        default_factory=lambda: [AspectRatio.VERTICAL], min_length=1, max_length=4
    )
    caption_style: CaptionStyle = CaptionStyle.BOLD
    framing: Framing = Field(
        default=Framing.FOLLOW,
        description="follow the speaker's face, fit the whole frame, or centre.",
    )
    cookies_id: str | None = Field(
        default=None,
        max_length=64,
        description="One of your cookie files (POST /api/v1/auth/cookies), for a source URL "
        "that needs a login.",
    )

    @model_validator(mode="after")
    def _durations_fit(self) -> ShortsOptions:
        if self.min_clip_duration > self.max_clip_duration:
            raise ValueError("min_clip_duration must not exceed max_clip_duration")
        if not self.min_clip_duration <= self.clip_duration <= self.max_clip_duration:
            raise ValueError(
                "clip_duration must lie between min_clip_duration and max_clip_duration"
            )
        if self.overlap_duration >= self.min_clip_duration:
            raise ValueError("overlap_duration must be below min_clip_duration")
        if len(set(self.aspect_ratios)) != len(self.aspect_ratios):
            raise ValueError("aspect_ratios must not repeat")
        return self

    def download_options(self, *, audio_only: bool = False) -> DownloadOptions:
        """What to fetch: audio alone is enough to transcribe; clips need the picture too."""
        if audio_only:
            return DownloadOptions.model_validate(
                {"quality": Quality.audio, "cookies_id": self.cookies_id}
            )
        return DownloadOptions.model_validate(
            {
                "quality": Quality(self.resolution.value),
                "container": Container(self.output_format),
                "cookies_id": self.cookies_id,
            }
        )


class JobSpec(JobHooks):
    """What every new job says, whether its media comes from a URL or an upload."""

    model_config = ConfigDict(extra="forbid")

    job_type: JobType = JobType.FULL_PROCESSING
    priority: int = Field(default=0, ge=-10, le=10, description="Higher runs first.")
    options: ShortsOptions = Field(default_factory=ShortsOptions)


class JobCreate(JobSpec):
    """``POST /api/v1/jobs``: exactly one of ``youtube_url`` or ``source_url``."""

    youtube_url: str | None = Field(default=None, min_length=1, max_length=4096)
    source_url: str | None = Field(default=None, min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _exactly_one_url(self) -> JobCreate:
        if (self.youtube_url is None) == (self.source_url is None):
            raise ValueError("give exactly one of youtube_url or source_url")
        return self

    @property
    def url(self) -> str:
        return self.youtube_url or self.source_url or ""


def incoming_dir(settings: Settings) -> Path:
    """Where an upload is received and checked before its job exists (the API host's disk)."""
    return settings.data_dir / "incoming"


class UploadRef(BaseModel):
    """An accepted upload: a file in storage (role ``upload``) that belongs to the job."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Storage key (made from the job id, never from the name).")
    filename: str = Field(description="The name the client sent (shown, never used as a path).")
    size: int
    duration: float | None = None


class ShortsJobOptions(BaseModel):
    """``job.options`` of shorts and transcribe jobs: where the media comes from, and how."""

    model_config = ConfigDict(frozen=True)

    url: str | None = None
    url_field: str | None = Field(
        default=None, description="youtube_url or source_url, as requested."
    )
    upload: UploadRef | None = None
    shorts: ShortsOptions = Field(default_factory=ShortsOptions)


class SourceChapter(BaseModel):
    start: float
    end: float
    title: str = ""


class SourceMetadata(BaseModel):
    """source/metadata.json: what the downloading stage learned about the media."""

    media_file: str = Field(description="Artifact name of the media, e.g. source/media.mp4.")
    title: str | None = None
    duration: float | None = None
    chapters: list[SourceChapter] = []
    origin: str = Field(description="url or upload")
    url: str | None = None
    webpage_url: str | None = None
    filename: str | None = None


class JobStatusResponse(BaseModel):
    """The shorts design's job status shape."""

    id: str
    youtube_url: str | None = Field(default=None, description="The source URL; null for uploads.")
    job_type: JobType | None
    status: JobStatus
    progress: float = Field(description="0-100 over all stages.")
    priority: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: JobRecord) -> JobStatusResponse:
        return cls(
            id=job.id,
            youtube_url=job.source_url,
            job_type=JobType.of_kind(job.kind),
            status=job.status,
            progress=round(job.progress, 2),
            priority=job.priority,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )


class Rendition(BaseModel):
    """One rendered shape of a clip. In clips.json ``video``/``thumbnail`` are artifact names;
    in a job's result they are file ids."""

    aspect_ratio: AspectRatio
    video: str
    thumbnail: str
    width: int
    height: int
    duration: float
    size: int


class ClipStatus(StrEnum):
    """Whether a clip of a job has its files."""

    READY = "ready"  #: rendered: its files are in ``assets`` and ``renditions``
    FAILED = "failed"  #: its render failed (``error`` says why); the job's other clips stand


class ClipFailure(BaseModel):
    """Why a clip has no files: the stable code and the message of the error its render hit."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class PlannedClip(BaseModel):
    """The clip metadata contract, as clips.json stores it (asset values are artifact names;
    in a job's result they are file ids)."""

    model_config = ConfigDict(extra="ignore")

    clip_id: str
    title: str
    description: str
    start_time: float
    end_time: float
    duration: float
    transcript_segment: str
    score: float
    tags: list[str] = []
    hashtags: list[str] = []
    reason: str | None = None
    assets: dict[str, str] = Field(
        default_factory=dict, description="srt and vtt: the clip's captions as files."
    )
    renditions: list[Rendition] = Field(default_factory=list)
    caption_style: CaptionStyle | None = Field(
        default=None, description="This clip's style when an edit changed it; else the job's."
    )
    aspect_ratios: list[AspectRatio] | None = Field(
        default=None, description="This clip's shapes when an edit changed them; else the job's."
    )
    revision: int = Field(default=0, description="Raised by every edit that re-renders it.")
    status: ClipStatus = Field(
        default=ClipStatus.READY,
        description="failed: this clip did not render (see error); edit it to render it again.",
    )
    error: ClipFailure | None = Field(default=None, description="Why a failed clip failed.")


class TranscriptSegmentOut(BaseModel):
    start: float
    end: float
    text: str


class ShortsResults(BaseModel):
    """What a finished job adds to ``GET /api/v1/jobs/{id}``; asset values are file ids here."""

    video_title: str | None = None
    duration: float | None = None
    language: str | None = None
    transcript: str | None = None
    transcript_segments: list[TranscriptSegmentOut] | None = None
    analysis_results: dict[str, Any] | None = None
    generated_clips: list[PlannedClip] | None = None
    transcript_files: dict[str, str] = Field(
        default_factory=dict, description="Subtitle/text format -> file id."
    )
