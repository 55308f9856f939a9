"""DownloadService: check a URL and options, preview it, start a download job."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from clipmill.accounts.principal import Principal
from clipmill.cancellation import CancelSignal
from clipmill.config import Settings
from clipmill.downloads.schemas import DownloadRequest, FormatOut, MetadataOut
from clipmill.jobs.enums import JobKind
from clipmill.jobs.schemas import JobRecord
from clipmill.jobs.service import JobService
from clipmill.media.fetcher import MediaFetcher
from clipmill.media.netguard import NetGuard, complete_url
from clipmill.media.options import DownloadOptions


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return value


def metadata_of(info: Any) -> MetadataOut:
    """MediaInfo (from the media layer) to the API's metadata shape."""
    data = _plain(info)
    formats = [FormatOut.model_validate(_plain(f)) for f in data.get("formats") or []]
    chapters = [
        _plain(c)
        if not isinstance(c, (tuple, list))
        else {"start": c[0], "end": c[1], "title": c[2]}
        for c in data.get("chapters") or []
    ]
    subtitles = data.get("subtitles") or []
    if isinstance(subtitles, dict):
        subtitles = sorted(subtitles)
    fields = {k: v for k, v in data.items() if k in MetadataOut.model_fields}
    fields.update(formats=formats, chapters=chapters, subtitles=list(subtitles))
    return MetadataOut.model_validate(fields)


def download_job_options(url: str, options: DownloadOptions) -> dict[str, Any]:
    """The stored options of a download job (the download pipeline reads them back)."""
    return {"url": url, "download": options.model_dump(mode="json", exclude_none=True)}


class DownloadService:
    """Single downloads as a user asks for them: check, preview, start."""

    def __init__(self, jobs: JobService, settings: Settings, fetcher: MediaFetcher) -> None:
        self.jobs = jobs
        self.settings = settings
        self.fetcher = fetcher
        self.guard = NetGuard.from_settings(settings)

    def check_url(self, url: str) -> str:
        """Refuse malformed URLs and blocked addresses before any job exists; returns the URL
        as it will be fetched (``https://`` added where the user left it out)."""
        return self.guard.check_url(complete_url(url))

    def preview(self, url: str, *, cancel: CancelSignal | None = None) -> MetadataOut:
        url = self.check_url(url)
        return metadata_of(self.fetcher.probe(url, cancel=cancel))

    def submit(self, owner: Principal, request: DownloadRequest) -> JobRecord:
        self.check_url(request.url)
        return self.start(
            owner,
            request.url,
            request.options(),
            priority=request.priority,
            webhook_url=request.webhook_url,
        )

    def start(
        self,
        owner: Principal,
        url: str,
        options: DownloadOptions,
        *,
        priority: int = 0,
        title: str | None = None,
        webhook_url: str | None = None,
    ) -> JobRecord:
        return self.jobs.create(
            owner,
            JobKind.DOWNLOAD,
            download_job_options(url, options),
            source_url=url,
            title=title,
            priority=priority,
            webhook_url=webhook_url,
        )
