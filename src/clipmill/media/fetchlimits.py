"""Byte caps and deadlines for what yt-dlp fetches besides the media itself.

yt-dlp reads pages, feeds, manifests and error bodies whole (``response.read()``), however long
they are and however slowly they arrive: a 600 MB page, or a page that never ends, takes the
process with it. ``install(ydl, limits)`` wraps every response that YoutubeDL opens:

- **Byte cap.** A read-all stops after ``max_bytes`` *decompressed* bytes (ResponseTooLarge,
  ``response_too_large``), reading in ``READ_CHUNK`` pieces so memory stays bounded. Bodies over
  the network are read through yt-dlp's requests handler, whose urllib3 decoder inflates gzip,
  deflate and brotli at most a chunk at a time; yt-dlp's urllib handler inflates whole bodies in
  memory, so it is kept to non-network URLs (``data:``). Outside the media phase (below) sized
  reads count towards the cap too: subtitles are read in blocks by yt-dlp's HTTP downloader.
- **Deadlines.** Fetches happen in phases (``FetchBudget.phase``): a probe, a job's extraction
  (pages and manifests until the format is chosen), its side files (subtitles, thumbnail), one
  pull of a playlist's entries. Each phase has a wall-clock deadline; a read-all in the media
  phase (a manifest fetched again, a key) gets its own. A slow origin blocks inside a read, where
  no check runs, so a watchdog thread shuts down the socket of every open response of a budget
  whose deadline passed; the read returns and the wrapper raises TimedOut (``timed_out``) in
  place of the broken read. In the dedicated child process (``interrupt_main_thread``) the
  watchdog also signals the main thread, which interrupts a wait for response headers too.
- **Cancel.** A budget created inside ``scope(cancel=...)`` stops the same way when the event is
  set (an API client that went away), raising JobCancelled.

Media is read in sized blocks in the media phase and is not counted here: ``max_filesize`` and
``socket_timeout`` bound it. Errors raised here are ClipmillErrors, which ``map_error`` finds
however deeply yt-dlp wrapped them.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import signal
import threading
import time
import urllib.parse
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

from clipmill.cancellation import CancelSignal
from clipmill.errors import ClipmillError, JobCancelled, ResponseTooLarge, TimedOut
from clipmill.media.sizes import human_bytes

READ_CHUNK = 64 * 1024
"""Bytes per read while reading a whole response (bounds what one read can inflate to)."""

_WATCH_INTERVAL = 0.1
_ALARM_GRACE = 1.0  # seconds a tripped budget has to stop by itself before the main thread's alarm
_ALARM_REPEAT = 1.0  # seconds between alarms while a tripped deadline is still being ignored


@dataclass(frozen=True)
class FetchLimits:
    """What one fetch may cost: ``max_bytes`` decompressed bytes, ``timeout`` seconds."""

    max_bytes: int
    timeout: float

    @classmethod
    def from_settings(cls, settings: Any) -> FetchLimits:
        return cls(settings.max_page_bytes, settings.fetch_timeout)


@dataclass(frozen=True)
class _Phase:
    what: str  #: e.g. "reading the page", used in the TimedOut message
    timeout: float
    deadline: float  #: time.monotonic() value
    setting: str


@dataclass(frozen=True)
class _Scope:
    cancel: CancelSignal | None
    deadline: float | None
    timeout: float | None


_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "clipmill_fetch_scope", default=None
)


@contextlib.contextmanager
def scope(*, cancel: CancelSignal | None = None, timeout: float | None = None) -> Iterator[None]:
    """Bound every budget created in this block (this thread) by ``cancel`` and ``timeout``.

    For callers that reach yt-dlp through services without such parameters (playlist previews):
    the route sets the scope, the listing's budget picks it up.
    """
    outer = _scope.get()
    deadline = None if timeout is None else time.monotonic() + timeout
    if outer is not None:
        cancel = cancel or outer.cancel
        if outer.deadline is not None and (deadline is None or outer.deadline < deadline):
            deadline, timeout = outer.deadline, outer.timeout
    token = _scope.set(_Scope(cancel, deadline, timeout))
    try:
        yield
    finally:
        _scope.reset(token)


class FetchBudget:
    """The byte cap and the deadlines of one YoutubeDL's fetches (see the module docstring)."""

    def __init__(self, limits: FetchLimits) -> None:
        self.limits = limits
        ambient = _scope.get()
        self._cancel = ambient.cancel if ambient else None
        self._scope_deadline = ambient.deadline if ambient else None
        self._scope_timeout = ambient.timeout if ambient else None
        self._phase: _Phase | None = None
        self._media = False
        self._responses: weakref.WeakSet[_TrackedResponse] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._alarm_main = False
        self._tripped_since: float | None = None
        self._last_alarm = 0.0
        _watchdog.add(self)

    # -- phases ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def phase(
        self, what: str, timeout: float | None = None, *, setting: str = "CLIPMILL_FETCH_TIMEOUT"
    ) -> Iterator[None]:
        """Fetches made in this block share one deadline, ``timeout`` (default
        ``limits.timeout``) seconds from now; the phase before is resumed afterwards, its clock
        having stood still meanwhile."""
        before, started = self._phase, time.monotonic()
        self.begin(what, timeout, setting=setting)
        try:
            yield
        finally:
            if before is not None:  # the time spent here does not count for the phase around
                paused = time.monotonic() - started
                before = dataclasses.replace(before, deadline=before.deadline + paused)
            with self._lock:
                self._phase = before

    def begin(
        self, what: str, timeout: float | None = None, *, setting: str = "CLIPMILL_FETCH_TIMEOUT"
    ) -> None:
        """Start a phase of page-like fetches (see ``phase``), ending the current one."""
        self.check()
        seconds = self.limits.timeout if timeout is None else timeout
        with self._lock:
            self._phase = _Phase(what, seconds, time.monotonic() + seconds, setting)
            self._media = False
            if _alarm_installed and threading.current_thread() is threading.main_thread():
                self._alarm_main = True

    def media(self) -> None:
        """From here on, responses carry media: sized reads are not counted and no phase
        deadline runs; a whole-response read still has the cap and a deadline of its own."""
        self.check()
        with self._lock:
            self._phase = None
            self._media = True

    def check(self) -> None:
        """JobCancelled or TimedOut if this budget's cancel is set or a deadline passed."""
        stop = self._stop_reason(time.monotonic())
        if stop is not None:
            raise stop

    def close(self) -> None:
        global _alarm_budget
        _watchdog.discard(self)
        self._alarm_main = False
        if _alarm_budget is self:
            _alarm_budget = None

    def _stop_reason(self, now: float) -> ClipmillError | None:
        if self._cancel is not None and self._cancel.is_set():
            return JobCancelled("cancelled")
        if self._scope_deadline is not None and now > self._scope_deadline:
            return TimedOut(
                f"Gave up after {self._scope_timeout or 0:g} s: the site is too slow or its "
                "response never ends.",
                timeout=self._scope_timeout,
            )
        phase = self._phase
        if phase is not None and now > phase.deadline:
            return _phase_timeout(phase.what, phase.timeout, phase.setting)
        return None

    # -- responses ---------------------------------------------------------------------------
    def track(self, response: Any) -> Any:
        """Put ``response``'s reads under this budget (in place; the object is returned)."""
        tracked = _TrackedResponse(self, response, counted=not self._media)
        with self._lock:
            self._responses.add(tracked)
        # yt-dlp's Response subclasses each define read(); an instance attribute takes
        # precedence over all of them and keeps the object (and its type) as yt-dlp made it
        response.read = tracked.read
        return response

    def _enforce(self, now: float) -> None:
        """Watchdog side: stop the reads (and the main thread's wait) that ran out of time."""
        tripped = self._stop_reason(now) is not None
        with self._lock:
            responses = list(self._responses)
        for tracked in responses:
            if tripped or (tracked.deadline is not None and now > tracked.deadline):
                tracked.interrupt()
        if not tripped:
            self._tripped_since = None
            return
        if self._tripped_since is None:
            self._tripped_since = now
        # a broken-off read stops the work by itself; the alarm is for waits without a response
        # (connect, headers), so it comes only when that did not happen
        overdue = now - self._tripped_since >= _ALARM_GRACE
        if self._alarm_main and overdue and now - self._last_alarm >= _ALARM_REPEAT:
            self._last_alarm = now
            global _alarm_budget
            _alarm_budget = self
            main = threading.main_thread().ident
            if main is not None:
                with contextlib.suppress(OSError, ValueError):
                    signal.pthread_kill(main, signal.SIGALRM)


def _phase_timeout(what: str, timeout: float, setting: str) -> TimedOut:
    return TimedOut(
        f"Gave up {what} after {timeout:g} s: the site is too slow or its response never ends "
        f"(limit: {setting}).",
        timeout=timeout,
    )


class _TrackedResponse:
    """One response's reads: counted against the cap, checked against the deadlines."""

    def __init__(self, budget: FetchBudget, response: Any, *, counted: bool) -> None:
        self.budget = budget
        self.counted = counted  #: sized reads count too (not media)
        self.received = 0
        self.deadline: float | None = None  #: of a read-all in the media phase
        self._response = weakref.ref(response)
        self._read: Callable[..., bytes] = response.read  # the handler's own, bound
        self._interrupted = False

    def read(self, amt: int | None = None) -> bytes:
        if amt is None or amt < 0:
            return self._read_all()
        data = self._read_checked(amt)
        if self.counted:
            self._count(len(data))
        return data

    def _read_all(self) -> bytes:
        if self.budget._phase is None:  # media phase: this manifest or key gets its own deadline
            self.deadline = time.monotonic() + self.budget.limits.timeout
        try:
            parts: list[bytes] = []
            while chunk := self._read_checked(READ_CHUNK):
                self._count(len(chunk))
                parts.append(chunk)
            return b"".join(parts)
        finally:
            self.deadline = None

    def _read_checked(self, amt: int) -> bytes:
        try:
            data = self._read(amt)
        except Exception:
            self.check()  # a read the watchdog broke off raises why, not how
            raise
        self.check()
        return data

    def check(self) -> None:
        self.budget.check()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _phase_timeout("reading a manifest", self.budget.limits.timeout,
                                 "CLIPMILL_FETCH_TIMEOUT")  # fmt: skip

    def _count(self, size: int) -> None:
        self.received += size
        cap = self.budget.limits.max_bytes
        if self.received > cap:
            response = self._response()
            url = getattr(response, "url", None) or "the origin"
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()  # drop the connection: the origin stops sending
            raise ResponseTooLarge(
                f"Stopped reading {url} at {human_bytes(self.received)}: pages, manifests, feeds "
                f"and subtitles are limited to {human_bytes(cap)} (CLIPMILL_MAX_PAGE_BYTES).",
                limit=cap,
            )

    def interrupt(self) -> None:
        """Wake a read blocked on the socket (watchdog thread): shut the socket's read side."""
        if self._interrupted:
            return
        self._interrupted = True
        response = self._response()
        shutdown = getattr(getattr(response, "fp", None), "shutdown", None)
        if shutdown is not None:
            with contextlib.suppress(Exception):  # already closed or released
                shutdown()


class _Watchdog:
    """One daemon thread enforcing every live budget's deadlines, ``_WATCH_INTERVAL`` apart."""

    def __init__(self) -> None:
        self._budgets: weakref.WeakSet[FetchBudget] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, budget: FetchBudget) -> None:
        with self._lock:
            self._budgets.add(budget)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="clipmill-fetch-watchdog", daemon=True
                )
                self._thread.start()
            self._wake.set()

    def discard(self, budget: FetchBudget) -> None:
        with self._lock:
            self._budgets.discard(budget)

    def _run(self) -> None:
        while True:
            with self._lock:
                budgets = list(self._budgets)
                if not budgets:
                    self._wake.clear()
            if not budgets:
                self._wake.wait()
                continue
            now = time.monotonic()
            for budget in budgets:
                budget._enforce(now)
            del budgets
            time.sleep(_WATCH_INTERVAL)


_watchdog = _Watchdog()
_alarm_installed = False
_alarm_budget: FetchBudget | None = None


def interrupt_main_thread() -> None:
    """In a process that runs one job in its main thread (isolation's child): let a passed
    deadline interrupt whatever the main thread waits on (connect, response headers), not only
    reads of a response that exists. Raises TimedOut/JobCancelled there via SIGALRM."""
    global _alarm_installed
    signal.signal(signal.SIGALRM, _on_alarm)
    _alarm_installed = True


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    budget = _alarm_budget
    if budget is not None:
        budget.check()  # raises in the main thread if the deadline is still passed


# --- YoutubeDL -------------------------------------------------------------------------------

_budgets: weakref.WeakKeyDictionary[Any, FetchBudget] = weakref.WeakKeyDictionary()


def install(ydl: Any, limits: FetchLimits) -> FetchBudget:
    """Put every response ``ydl`` opens under a new budget; closed with ``ydl``."""
    from yt_dlp.networking.exceptions import HTTPError

    budget = FetchBudget(limits)
    _network_through_streaming_handler(ydl)
    urlopen = ydl.urlopen

    def bounded_urlopen(request: Any) -> Any:
        budget.check()
        try:
            response = urlopen(request)
        except HTTPError as exc:  # extractors read error bodies too
            budget.track(exc.response)
            raise
        except Exception:
            budget.check()  # a wait the alarm broke off raises why (yt-dlp may have wrapped it)
            raise
        return budget.track(response)

    ydl.urlopen = bounded_urlopen  # extractors and downloaders all call ydl.urlopen
    ydl.add_close_hook(budget.close)
    _budgets[ydl] = budget
    return budget


def budget_of(ydl: Any) -> FetchBudget | None:
    """The budget ``install`` put on ``ydl``, if any."""
    return _budgets.get(ydl)


def _network_through_streaming_handler(ydl: Any) -> None:
    """Keep yt-dlp's urllib handler off http(s): it inflates a compressed body whole, in
    memory, before anyone reads it. The requests handler (preferred anyway) streams it."""
    from yt_dlp.networking.exceptions import UnsupportedRequest

    handlers = ydl._request_director.handlers  # built on first use; yt-dlp has no public hook
    urllib_handler = handlers.get("Urllib")
    if urllib_handler is None or "Requests" not in handlers:
        return  # without requests, urllib is all there is (see the README's requirements)
    validate = urllib_handler.validate

    def validate_non_network(request: Any) -> None:
        if urllib.parse.urlsplit(request.url).scheme.lower() in ("http", "https"):
            raise UnsupportedRequest("http(s) is read through the streaming handler")
        validate(request)

    urllib_handler.validate = validate_non_network
