"""What the API shows of a cookie file: its name and the domains it covers, never a value."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class CookieFileOut(BaseModel):
    """One stored cookie file, as its owner sees it."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Pass it as cookies_id in a job's options.")
    name: str
    domains: list[str] = Field(description="The domains its cookies are for.")
    count: int = Field(description="How many cookies it holds.")
    created_at: datetime


class CookieFileList(BaseModel):
    items: list[CookieFileOut]
