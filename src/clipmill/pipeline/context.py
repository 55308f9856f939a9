"""JobContext: everything a pipeline may touch while it runs one attempt of one job."""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clipmill.cancellation import CancelToken
from clipmill.config import Settings
from clipmill.cookies.jobfile import CookieSource, mask, private_cookie_file
from clipmill.errors import ClipmillError, JobCancelled
from clipmill.jobs.enums import JobStage
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.progress import ProgressReporter
from clipmill.jobs.schemas import FileRecord, JobRecord
from clipmill.storage.base import Storage


@dataclass
class JobContext:
    """One running attempt. Pipelines report through it and never write jobs themselves; every
    write carries the attempt, so a superseded run cannot change the job."""

    job: JobRecord
    jobs: JobLifecycle
    reporter: ProgressReporter
    storage: Storage
    settings: Settings
    cancel: CancelToken
    workdir: Path
    result: dict[str, Any] = field(default_factory=dict)
    cookies: CookieSource | None = None
    _secrets: set[str] = field(default_factory=set, repr=False)

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def attempt(self) -> int:
        return self.job.attempts

    @property
    def options(self) -> dict[str, Any]:
        return self.job.options

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise JobCancelled("The job was cancelled.")

    def stage(
        self, stage: JobStage, message: str | None = None, progress: float | None = None
    ) -> None:
        self.check_cancelled()
        self.reporter.set_stage(self.job_id, self.attempt, stage, message, progress)

    def progress(
        self, percent: float, *, message: str | None = None, force: bool = False, **info: Any
    ) -> None:
        self.reporter.report(
            self.job_id, self.attempt, percent, info=info or None, message=message, force=force
        )

    def log(self, line: str, level: str = "info") -> None:
        self.reporter.log(self.job_id, self.mask_secrets(line), level, attempt=self.attempt)

    def mask_secrets(self, text: str) -> str:
        """``text`` without the values of any cookie file this attempt opened."""
        return mask(text, self._secrets) if self._secrets else text

    @contextlib.contextmanager
    def cookie_file(self, cookies_id: str | None) -> Iterator[Path | None]:
        """The owner's cookie file ``cookies_id``, decrypted into a private file (0600, in a
        0700 directory of the work dir) while the block runs; None without an id."""
        if cookies_id is None:
            yield None
            return
        if self.cookies is None:
            raise ClipmillError(
                "This worker has no cookie vault; the job cannot use cookies.",
                code="cookies_unavailable",
            )
        cookies = self.cookies.cookie_text(self.job.owner_id, cookies_id)
        self._secrets |= cookies.secrets
        with private_cookie_file(cookies, self.workdir) as path:
            yield path

    def set_title(self, title: str) -> None:
        self.jobs.update(self.job_id, self.attempt, title=title)

    def save_file(
        self, path: Path, *, role: str, name: str, content_type: str | None = None
    ) -> FileRecord:
        """Move a finished file into storage under a key made from ids, never from titles."""
        self.check_cancelled()
        content_type = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        key = f"{self.job_id}/{path.name}"
        size = self.storage.put(key, path, content_type=content_type)
        return self.jobs.add_file(
            self.job_id,
            self.attempt,
            role=role,
            key=key,
            name=name,
            size=size,
            content_type=content_type,
        )
