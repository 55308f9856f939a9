"""SIGKILL ``clipmill serve`` in each stage of a job, start it again on the same data dir, and the
job completes once, with the right file, resumed rather than restarted, and nothing of the
killed server runs on.

What a fault injector found before the fix, each kept here as an attack:

- the killed server's download child, left running, deleted the resumed attempt's ``.part``
  once its own socket timed out on the stalled origin (the job failed at ~95 %);
- a kill during ffmpeg postprocessing left the old child and its ffmpeg running in the work dir
  (the new attempt failed ``broken_media``);
- the ``.part`` vanished within a second of every kill (the orphan's next progress message hit a
  broken pipe and its clean-up deleted the file), so each restart downloaded from byte 0.

The real server runs as a subprocess; the media it downloads is served from this process, which
records every request (so a resumed download shows as a ``Range`` request).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from clipmill.media import ffmpeg
from tests.support.media_factory import MediaFiles, ffmpeg_exe
from tests.support.media_server import MediaServer
from tests.support.talk import DEFAULT_SCRIPT, ScriptTopic, Talk, build_talk

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HANG_GUARD = 90.0
"""Seconds before a wait gives up: only reached when something is broken, never a timing."""

CLIPMILL = Path(sys.executable).with_name("clipmill")
TERMINAL = ("completed", "failed", "cancelled")


# --- processes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    """A process, told apart from a later one with the same pid by its start time."""

    pid: int
    started: int
    cmdline: str

    def alive(self) -> bool:
        stat = _stat(self.pid)
        return stat is not None and stat[3] == self.started


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgrp, start time) of a live process, None once it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _all_processes() -> dict[int, tuple[str, int, int, int]]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat
    return table


def descendants(root: int) -> list[Proc]:
    """Every process below ``root``, and every member of their process groups."""
    table = _all_processes()
    below: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, st in table.items() if st[1] in frontier} - below
        below |= frontier
    below |= {pid for pid, st in table.items() if st[2] in below}
    return [Proc(pid, table[pid][3], _cmdline(pid)) for pid in below if pid in table]


def wait_until(predicate: Callable[[], bool], timeout: float = HANG_GUARD) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the hang guard")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the server under test -----------------------------------------------------------------


class Server:
    """``clipmill serve`` on ``data_dir``; start it again and again, kill it with SIGKILL."""

    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {
            **os.environ,
            "CLIPMILL_DATA_DIR": str(data_dir),
            "CLIPMILL_ALLOW_PRIVATE_NETWORKS": "true",
            "CLIPMILL_MAX_CONCURRENT_JOBS": "1",
            "CLIPMILL_WARM_SPARE": "false",
            **{f"CLIPMILL_{k.upper()}": v for k, v in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self.starts = 0
        self.orphans: list[Proc] = []

    def start(self) -> None:
        self.starts += 1
        log = (self.data_dir.parent / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [str(CLIPMILL), "serve", "--port", str(self.port)],
            env=self.env,
            cwd=self.data_dir.parent,  # no .env file there
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def healthy() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log()
            try:
                return self.api.get("/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy)

    def log(self) -> str:
        return (self.data_dir.parent / f"server-{self.starts}.log").read_text(errors="replace")

    def sigkill_and_restart(self) -> None:
        """SIGKILL the server and start it again at once on the same data dir, as a supervisor
        would; by the time it answers, nothing the killed one started may still run."""
        assert self.proc is not None
        killed = self.proc.pid
        left = descendants(killed)
        os.kill(killed, signal.SIGKILL)
        self.proc.wait()
        self.orphans += left
        self.start()
        assert [p for p in left if p.alive()] == []
        running = {pid: _cmdline(pid) for pid in _all_processes()}
        ours = {p.pid for p in descendants(self.proc.pid)}  # the new server's, after the scan
        for pid, cmd in running.items():
            if pid in ours or _stat(pid) is None:
                continue
            # a child names its parent's pid after its three fds; a job's ffmpeg names a file
            # in the data dir
            words = cmd.split()
            if "child_entry()" in words:
                assert words[words.index("child_entry()") + 4] != str(killed), cmd
            assert str(self.data_dir) not in cmd, cmd

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for proc in self.orphans:  # only if a test failed: never leave processes behind
            if proc.alive():
                os.kill(proc.pid, signal.SIGKILL)
        self.api.close()

    # the API, as a user drives it

    def submit_download(self, url: str, **options: Any) -> str:
        response = self.api.post("/api/v1/download", json={"url": url, **options})
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def submit_transcription(self, url: str) -> str:
        body = {"source_url": url, "job_type": "transcribe_only"}
        response = self.api.post("/api/v1/jobs", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_finished(self, job_id: str) -> dict[str, Any]:
        wait_until(lambda: self.job(job_id)["status"] in TERMINAL)
        return self.job(job_id)

    def fetch(self, file: dict[str, Any]) -> bytes:
        response = self.api.get(file["url"])
        assert response.status_code == 200
        return response.content

    def partial(self, job_id: str) -> Path:
        return self.data_dir / "jobs" / job_id / "download" / "media.mp4.part"


@pytest.fixture
def server_on(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def make(**settings: str) -> Server:
        server = Server(tmp_path / "data", **settings)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def part_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def resumed_from(media_server: MediaServer, name: str) -> list[int]:
    """The offsets of the requests for ``name`` that continued a partial file.

    Each attempt also asks for the head of the file (yt-dlp's extractor, and the duration sniff
    with ``bytes=0-262143``); a download that continues has an open range that does not start
    at 0.
    """
    starts = []
    for request in media_server.requests_for(name):
        if request.method == "GET" and request.range and request.range.endswith("-"):
            starts.append(int(request.range.split("=")[1].split("-")[0]))
    return [start for start in starts if start > 0]


class PartWatch:
    """Samples a partial file's size while a resumed download runs: a download that starts
    from byte 0 again (or a .part that vanishes) shows as a size below where it stopped."""

    def __init__(self, part: Path) -> None:
        self.part = part
        self.sizes: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PartWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            with contextlib.suppress(FileNotFoundError):  # renamed once finished
                self.sizes.append(self.part.stat().st_size)


def assert_one_media_file(job: dict[str, Any]) -> dict[str, Any]:
    assert job["status"] == "completed", job
    media = [f for f in job["files"] if f["role"] in ("media", "audio")]
    assert len(media) == 1, job["files"]
    return dict(media[0])


# --- a proxy whose open connections can be frozen ----------------------------------------------


class FreezingProxy:
    """TCP proxy to the media server. ``freeze()`` makes every connection open at that moment go
    silent (an origin that stalls mid-body); connections made later pass normally."""

    def __init__(self, upstream: MediaServer) -> None:
        self.upstream = (upstream.host, upstream.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.frozen: list[threading.Event] = []
        self.closing = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def freeze(self) -> None:
        for event in self.frozen:
            event.set()

    def close(self) -> None:
        self.closing.set()
        self.listener.close()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            frozen, done = threading.Event(), threading.Event()
            self.frozen.append(frozen)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(src, dst, frozen, done, (client, upstream)),
                    daemon=True,
                ).start()  # fmt: skip

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        frozen: threading.Event,
        done: threading.Event,
        both: tuple[socket.socket, socket.socket],
    ) -> None:
        try:
            while data := src.recv(65536):
                if frozen.is_set():
                    break  # swallow it, and everything after: the peer hears nothing
                dst.sendall(data)
            if frozen.is_set():
                while not done.is_set() and not self.closing.is_set() and src.recv(65536):
                    pass  # keep reading so that the origin is not held up by us
        except OSError:
            pass
        finally:
            done.set()
            for sock in both:
                sock.close()


@pytest.fixture
def proxy(media_server: MediaServer) -> Iterator[FreezingProxy]:
    frozen = FreezingProxy(media_server)
    yield frozen
    frozen.close()


# --- media only these tests need -----------------------------------------------------------


@pytest.fixture(scope="module")
def long_video(media_files: MediaFiles) -> Path:
    """40 s of 640x360 H.264: converting it to WebM keeps ffmpeg busy for a few seconds."""
    dst = media_files.root / "sigkill" / "long.mp4"
    if not dst.exists():
        dst.parent.mkdir(exist_ok=True)
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=size=640x360:rate=25:duration=40",
             "-f", "lavfi", "-i", "sine=frequency=300:duration=40",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(dst)],
            check=True,
        )  # fmt: skip
    return dst


@pytest.fixture(scope="module")
def short_talk(media_files: MediaFiles) -> Talk:
    """Half a minute of espeak-ng speech (the first topic of the shorts tests' talk)."""
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    first = DEFAULT_SCRIPT[0]
    script = (ScriptTopic(first.name, first.sentences[:6]),)
    talk = build_talk(media_files.root / "sigkill-talk", script)
    served = media_files.root / "sigkill" / "talk.mp4"
    served.parent.mkdir(exist_ok=True)
    shutil.copyfile(talk.mp4, served)
    return talk


# --- the attacks ---------------------------------------------------------------------------


def test_kill_while_downloading_resumes_from_the_partial_file(
    server_on: Callable[..., Server], media_server: MediaServer, media_files: MediaFiles
) -> None:
    server = server_on()
    server.start()
    media_server.clear_requests()
    job_id = server.submit_download(media_server.slow_url("big.mp4", 300_000))
    part = server.partial(job_id)
    wait_until(lambda: part_size(part) > 600_000)

    with PartWatch(part) as watch:
        stopped_at = part_size(part)
        server.sigkill_and_restart()
        job = server.wait_finished(job_id)

    file = assert_one_media_file(job)
    assert server.fetch(file) == media_files.big.read_bytes()
    (resumed,) = resumed_from(media_server, "/big.mp4")  # one Range request, where it stopped
    assert resumed >= stopped_at
    assert watch.sizes == sorted(watch.sizes)  # never shrank: not deleted, not from byte 0
    assert job["attempts"] == 2


def test_kill_while_the_origin_stalls(
    server_on: Callable[..., Server],
    media_server: MediaServer,
    media_files: MediaFiles,
    proxy: FreezingProxy,
) -> None:
    """The origin goes silent mid-body just before the kill. The killed server's child used to
    live on until its socket timed out, then delete the .part the new attempt was resuming; the
    new attempt's download outlasts that timeout here."""
    server = server_on(socket_timeout="3")
    server.start()
    media_server.clear_requests()
    job_id = server.submit_download(proxy.url("slow/300000/big.mp4"))
    part = server.partial(job_id)
    wait_until(lambda: part_size(part) > 300_000)
    proxy.freeze()
    time.sleep(0.5)  # the child now waits on a silent socket

    with PartWatch(part) as watch:
        stopped_at = part_size(part)
        server.sigkill_and_restart()
        job = server.wait_finished(job_id)

    file = assert_one_media_file(job)
    assert server.fetch(file) == media_files.big.read_bytes()
    (resumed,) = resumed_from(media_server, "/big.mp4")
    assert resumed >= stopped_at
    assert watch.sizes == sorted(watch.sizes)


def test_kill_while_ffmpeg_postprocesses(
    server_on: Callable[..., Server], media_server: MediaServer, long_video: Path
) -> None:
    server = server_on()
    server.start()
    job_id = server.submit_download(media_server.url("sigkill/long.mp4"), container="webm")

    def ffmpeg_at_work() -> bool:
        assert server.proc is not None
        running = [p for p in descendants(server.proc.pid) if "ffmpeg" in p.cmdline]
        return bool(running) and server.job(job_id)["stage"] == "postprocessing"

    wait_until(ffmpeg_at_work)
    server.sigkill_and_restart()  # the child and its ffmpeg went with the server
    job = server.wait_finished(job_id)
    file = assert_one_media_file(job)
    assert file["name"].endswith(".webm")
    delivered = server.data_dir.parent / "delivered.webm"
    delivered.write_bytes(server.fetch(file))
    probe = ffmpeg.probe_file(delivered)
    assert probe.video is not None and probe.video.codec_name in ("vp9", "vp8")
    assert probe.duration is not None and abs(probe.duration - 40.0) < 1.0


def test_kill_while_transcribing(
    server_on: Callable[..., Server], media_server: MediaServer, short_talk: Talk
) -> None:
    server = server_on()
    server.start()
    media_server.clear_requests()
    job_id = server.submit_transcription(media_server.url("sigkill/talk.mp4"))

    def decoding() -> bool:
        assert server.proc is not None
        job = server.job(job_id)
        assert job["status"] not in TERMINAL, job
        return job["stage"] == "transcribing" and bool(descendants(server.proc.pid))

    wait_until(decoding)
    time.sleep(0.5)  # into the model load or the decoding
    killed_at = time.monotonic()
    server.sigkill_and_restart()  # the Whisper child went with the server
    job = server.wait_finished(job_id)
    assert job["status"] == "completed", job
    words = set(str(job["transcript"]).lower().replace(",", " ").replace(".", " ").split())
    assert {"pasta", "water", "sauce"} <= words
    # the finished download stage was kept: only the first attempt fetched the source
    fetched = [r.time for r in media_server.requests_for("/talk.mp4")]
    assert fetched and max(fetched) < killed_at


def test_many_kills_during_one_download_cost_one_attempt_each_and_no_restart_from_zero(
    server_on: Callable[..., Server], media_server: MediaServer, media_files: MediaFiles
) -> None:
    """With a warm spare too: the spare of every killed server must go with it."""
    server = server_on(warm_spare="true")
    server.start()
    media_server.clear_requests()
    job_id = server.submit_download(media_server.slow_url("big.mp4", 400_000))
    part = server.partial(job_id)
    stopped_at: list[int] = []
    with PartWatch(part) as watch:
        for _ in range(3):
            floor = (stopped_at[-1] if stopped_at else 0) + 150_000
            wait_until(lambda floor=floor: part_size(part) > floor)  # progress in this attempt
            stopped_at.append(part_size(part))
            server.sigkill_and_restart()
        job = server.wait_finished(job_id)

    file = assert_one_media_file(job)
    assert server.fetch(file) == media_files.big.read_bytes()
    assert job["attempts"] == 4  # one per kill, and the one that finished
    resumed = resumed_from(media_server, "/big.mp4")  # each attempt continued the last one
    assert len(resumed) == 3 and all(r >= s for r, s in zip(resumed, stopped_at, strict=True))
    assert resumed == sorted(resumed)
    assert watch.sizes == sorted(watch.sizes)  # the partial file only ever grew
