"""Closed vocabularies of the job model."""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    """What a job does. Parents (playlist, channel, batch) own child `download` jobs."""

    DOWNLOAD = "download"  #: one URL to one set of files
    PLAYLIST = "playlist"  #: a playlist, items selected by index
    CHANNEL = "channel"  #: a channel's uploads, filtered and sorted
    BATCH = "batch"  #: many URLs given by the user
    SHORTS = "shorts"  #: a long video into short vertical clips
    TRANSCRIBE = "transcribe"  #: transcript and subtitles for a whole video
    RENDER = "render"  #: one edited clip of a finished shorts job, rendered again

    @property
    def is_parent(self) -> bool:
        return self in (JobKind.PLAYLIST, JobKind.CHANNEL, JobKind.BATCH)


class JobStatus(StrEnum):
    """Where a job is in its life. See `clipmill.jobs.statemachine` for the legal moves."""

    PENDING = "pending"  #: created, not yet handed to a queue
    QUEUED = "queued"  #: waiting for a worker
    PROCESSING = "processing"  #: a worker runs it (a parent: its children run)
    COMPLETED = "completed"  #: finished; results and files are ready
    FAILED = "failed"  #: stopped by an error; `error` says which
    CANCELLED = "cancelled"  #: stopped by a user

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobStage(StrEnum):
    """The step a processing job is on; each kind uses the subset it needs, in this order."""

    INITIALIZING = "initializing"  #: checking options, preparing the work dir
    PROBING = "probing"  #: asking the site what the URL is
    EXPANDING = "expanding"  #: listing a playlist/channel/batch into child jobs
    DOWNLOADING = "downloading"  #: bytes are arriving
    POSTPROCESSING = "postprocessing"  #: merging, converting, embedding, cutting sections
    EXTRACTING_AUDIO = "extracting_audio"  #: 16 kHz mono audio for speech recognition
    TRANSCRIBING = "transcribing"  #: speech to words with timestamps
    ANALYZING = "analyzing"  #: finding and scoring the moments worth clipping
    GENERATING_CLIPS = "generating_clips"  #: cutting, reframing, captioning
    WAITING_FOR_ITEMS = "waiting_for_items"  #: a parent whose children are running
    FINALIZING = "finalizing"  #: storing files and results
    DONE = "done"  #: nothing left to do


class EventType(StrEnum):
    """What a stored or published job event reports."""

    CREATED = "created"
    STATUS = "status"
    STAGE = "stage"
    PROGRESS = "progress"  #: published, throttled, never stored one by one
    LOG = "log"
    CLIP = "clip"  #: a clip of a finished shorts job changed (edited, re-rendered, removed)
