"""The choices a user made last (download quality and format, the shorts studio's options),
kept on the user so a second browser starts where the first left off.

The browser keeps its own copy (localStorage); this is the account's. The values are a closed
vocabulary like the requests they prefill, so a stored preference can never smuggle an option
the request schemas would refuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from clipmill.clock import Clock, SystemClock
from clipmill.errors import NotFound
from clipmill.jobs.models import User
from clipmill.media.options import AudioFormat, Container, Quality, SubtitleFormat

Word = Annotated[str, Field(pattern=r"^[a-z0-9_:-]{1,32}$")]
"""A value of one of the shorts enums (``9:16``, ``bold``, ``1080p``): checked for shape here,
for meaning by the shorts request when it is used."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DownloadPreferences(_Section):
    """What the download options form starts with."""

    quality: Quality | None = None
    audio_format: AudioFormat | None = None
    audio_bitrate: Literal["96k", "128k", "160k", "192k", "256k", "320k"] | None = None
    container: Container | None = None
    subtitle_format: SubtitleFormat | None = None
    subtitles_embed: bool | None = None
    subtitles_auto: bool | None = None


class ShortsPreferences(_Section):
    """What the shorts studio's form starts with."""

    min_clip_duration: int | None = Field(None, ge=3, le=180)
    max_clip_duration: int | None = Field(None, ge=5, le=300)
    max_clips: int | None = Field(None, ge=1, le=50)
    aspect_ratios: list[Word] | None = Field(None, max_length=6)
    caption_style: Word | None = None
    resolution: Word | None = None
    framing: Word | None = None


class PreferencesIn(_Section):
    download: DownloadPreferences = Field(default_factory=DownloadPreferences)
    shorts: ShortsPreferences = Field(default_factory=ShortsPreferences)


class PreferencesOut(PreferencesIn):
    updated_at: datetime | None = Field(
        None, description="When they were last saved (null: never); the newer copy wins."
    )


class PreferenceStore:
    """Reads and replaces a user's preferences (a JSON column on ``users``)."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock | None = None) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()

    def get(self, user_id: str) -> PreferencesOut:
        with self.sessions() as session:
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("No such user.")
            return PreferencesOut.model_validate(user.preferences or {})

    def put(self, user_id: str, preferences: PreferencesIn) -> PreferencesOut:
        saved = PreferencesOut(**preferences.model_dump(), updated_at=self.clock.now())
        with self.sessions() as session, session.begin():
            user = session.get(User, user_id)
            if user is None:
                raise NotFound("No such user.")
            user.preferences = saved.model_dump(mode="json", exclude_none=True)
        return saved
