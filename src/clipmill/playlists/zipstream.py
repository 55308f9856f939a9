"""A ZIP of a parent job's finished items, generated while the client reads it.

Nothing is written to disk and nothing is buffered beyond one read chunk: zipstream-ng emits
local headers, file bytes (read from storage at that moment) and the central directory in
order. Media is already compressed, so members are stored, which also lets the archive know its
exact size up front (a ``Content-Length`` for browsers and download managers).

Member names are ours, never a site's: the item's zero-padded index, then its download name
(already made safe by ``media.naming``), made safe again and unique within the archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from zipfile import ZIP_STORED

from zipstream import ZipStream

from clipmill.accounts.principal import Principal
from clipmill.errors import Forbidden, NotFound, NothingToZip
from clipmill.jobs.enums import JobStatus
from clipmill.jobs.lifecycle import JobLifecycle
from clipmill.jobs.schemas import FileRecord, JobRecord
from clipmill.jobs.service import JobService
from clipmill.media.naming import safe_download_name
from clipmill.storage.base import Storage
from clipmill.storage.signing import LinkSigner

ZIP_CONTENT_TYPE = "application/zip"
TOKEN_PREFIX = "zip:"  # a ZIP link names a job; it can never pass for a file link
PAGE_SIZE = 500
CHUNK = 256 * 1024
_EXT = re.compile(r"(.+)\.([A-Za-z0-9]{1,10})")


@dataclass(frozen=True)
class ZipMember:
    name: str
    file: FileRecord


@dataclass(frozen=True)
class ZipPlan:
    """What an archive will hold; building it reads no file data."""

    job: JobRecord
    name: str  #: the archive's download name
    members: tuple[ZipMember, ...]


class ArchiveService:
    """Plans and streams ZIPs of parent jobs, for owners and for holders of a signed link."""

    def __init__(
        self, jobs: JobService, lifecycle: JobLifecycle, storage: Storage, signer: LinkSigner
    ) -> None:
        self.jobs = jobs
        self.lifecycle = lifecycle
        self.storage = storage
        self.signer = signer

    def token(self, job_id: str) -> str:
        return self.signer.sign(TOKEN_PREFIX + job_id)

    def plan(self, owner: Principal, job_id: str) -> ZipPlan:
        job = self.jobs.get(owner, job_id)
        if not job.kind.is_parent:
            raise NotFound(f"Job {job_id} has no items to zip.", resource="job")
        return self.plan_of(job)

    def plan_for_token(self, token: str) -> ZipPlan:
        subject = self.signer.verify(token)
        if not subject.startswith(TOKEN_PREFIX):
            raise Forbidden("This link is not valid.", code="link_invalid")
        return self.plan_of(self.lifecycle.load(subject.removeprefix(TOKEN_PREFIX)))

    def plan_of(self, job: JobRecord) -> ZipPlan:
        """The plan of a parent the caller is already allowed to read."""
        items: list[tuple[int, list[FileRecord]]] = []
        offset = 0
        while True:  # page through the items: a 1,000-item parent is never one query result
            page = self.lifecycle.children_page(
                job.id, statuses=[JobStatus.COMPLETED], limit=PAGE_SIZE, offset=offset
            )
            files = self.lifecycle.files_of([c.id for c in page.items])
            items += [
                (c.item_index or 0, [f for f in files[c.id] if not f.expired]) for c in page.items
            ]
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
        name = safe_download_name(job.title or f"{job.kind.value}-{job.id}", "zip")
        return ZipPlan(job=job, name=name, members=tuple(member_names(items)))

    def open(self, plan: ZipPlan) -> ZipStream:
        """The archive as a sized stream (``len()`` is its exact size); NothingToZip if empty."""
        archive = ZipStream(compress_type=ZIP_STORED, sized=True)
        for member in plan.members:
            path = self.storage.local_path(member.file.key)
            if path is not None:
                archive.add_path(str(path), member.name)
                continue
            # object storage: the body streams in when the archive reaches the member (the
            # generator makes no request before), so nothing waits on disk or in memory
            archive.add(self.storage.iter_bytes(member.file.key, CHUNK), member.name,
                        size=member.file.size)  # fmt: skip
        if archive.is_empty():
            raise NothingToZip("No item has finished with a file yet.")
        return archive

    def size(self, plan: ZipPlan) -> int | None:
        """The archive's size, or None when there is nothing to zip yet."""
        try:
            return len(self.open(plan))
        except NothingToZip:
            return None


def member_names(items: list[tuple[int, list[FileRecord]]]) -> Iterator[ZipMember]:
    """Members in item order, each named ``<index> - <download name>``, unique and safe."""
    width = max(3, len(str(max((index for index, _ in items), default=0))))
    taken: set[str] = set()
    for index, files in sorted(items, key=lambda item: item[0]):
        prefix = f"{index:0{width}d}"
        for file in files:
            stem, ext = _split_ext(file.name)
            if not stem.startswith(prefix + " - "):
                stem = f"{prefix} - {stem}"
            name = safe_download_name(stem, ext, fallback=prefix)
            yield ZipMember(name=_unique(name, taken), file=file)


def _split_ext(name: str) -> tuple[str, str]:
    match = _EXT.fullmatch(name)
    return (match[1], match[2]) if match else (name, "")


def _unique(name: str, taken: set[str]) -> str:
    stem, ext = _split_ext(name)
    candidate, n = name, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})"
    taken.add(candidate.casefold())
    return candidate
