"""A small threaded HTTP server for test media on 127.0.0.1.

It behaves like a plain static origin (Content-Type, Content-Length, HEAD, Range -> 206,
404) and adds a few URL prefixes that tests need, none of which keep state on the server:

    /slow/<bytes_per_second>/<path>   serve <path> throttled (cancel, resume tests)
    /chunked/<path>                   serve <path> with Transfer-Encoding: chunked, no length
    /redirect?to=<url>                302 to <url>
    /status/<code>                    answer with that HTTP status
    /stall/<path>                     send headers and a first chunk, then stall until stop()

Hostile origins (pages that never end, bombs), for the byte caps and deadlines:

    /endless/<bps>.html|.m3u8|.vtt    a page, HLS playlist or WebVTT file that never ends:
                                      as fast as possible (bps 0) or <bps> bytes a second
    /endless/<bps>/subtitles.html     a page with a <video> and an endless .vtt <track>
    /endless/<bps>/thumbnail.html     a page with a <video> whose og:image never ends (both
                                      pass their query string on to the endless URL)
    /gzipbomb/<mib>.html              a small gzip body (Content-Encoding: gzip, ~1 KiB per
                                      MiB) that inflates to <mib> MiB of HTML
    /slowheaders/<seconds>.html       a status line, then one header line every <seconds>
                                      seconds, forever (the body never starts)

The endless routes and the bomb record how they ended in ``streams`` (bytes sent, and whether
the client went away), so tests can see that a client stopped reading.

Relative links inside playlists and pages keep the prefix, so ``/slow/50000/hls/master.m3u8``
makes every variant and segment slow too. Every request is logged in ``requests``.
"""

from __future__ import annotations

import functools
import gzip
import itertools
import mimetypes
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CONTENT_TYPES = {
    ".mp4": "video/mp4", ".webm": "video/webm", ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t", ".vtt": "text/vtt", ".srt": "application/x-subrip",
    ".jpg": "image/jpeg", ".png": "image/png", ".html": "text/html; charset=utf-8",
    ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".xml": "application/rss+xml",
}  # fmt: skip

_CHUNK = 16 * 1024


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str
    """The path as requested, prefixes included (``/slow/1000/big.mp4``)."""
    range: str | None
    headers: dict[str, str]
    time: float


@dataclass(frozen=True)
class StreamRecord:
    """How one hostile response (endless page, bomb, slow headers) ended."""

    path: str
    sent: int
    """Bytes written (the compressed ones for the bomb)."""
    client_left: bool
    """True when writing failed because the client closed the connection."""


class MediaServer:
    """Serve ``root`` on 127.0.0.1; use as a context manager or call start()/stop()."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root.resolve()
        self._stopping = threading.Event()
        self._log: list[RequestRecord] = []
        self._streams: list[StreamRecord] = []
        self._log_lock = threading.Lock()
        self._httpd = _Server((host, port), _Handler)
        self._httpd.media = self
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def slow_url(self, path: str, bytes_per_second: int) -> str:
        return self.url(f"slow/{int(bytes_per_second)}/{path.lstrip('/')}")

    def chunked_url(self, path: str) -> str:
        return self.url(f"chunked/{path.lstrip('/')}")

    def stall_url(self, path: str) -> str:
        return self.url(f"stall/{path.lstrip('/')}")

    def redirect_url(self, target: str) -> str:
        return self.url("redirect?to=" + urllib.parse.quote(target, safe=""))

    def status_url(self, code: int) -> str:
        return self.url(f"status/{code}")

    @property
    def requests(self) -> list[RequestRecord]:
        with self._log_lock:
            return list(self._log)

    def requests_for(self, path_suffix: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.path.split("?")[0].endswith(path_suffix)]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()
            self._streams.clear()

    def endless_url(self, bytes_per_second: int, ext: str = "html") -> str:
        return self.url(f"endless/{int(bytes_per_second)}.{ext}")

    def gzip_bomb_url(self, mebibytes: int) -> str:
        return self.url(f"gzipbomb/{int(mebibytes)}.html")

    def slow_headers_url(self, seconds: float) -> str:
        return self.url(f"slowheaders/{seconds:g}.html")

    @property
    def streams(self) -> list[StreamRecord]:
        with self._log_lock:
            return list(self._streams)

    def streams_for(self, path_suffix: str) -> list[StreamRecord]:
        return [r for r in self.streams if r.path.split("?")[0].endswith(path_suffix)]

    def record_stream(self, record: StreamRecord) -> None:
        with self._log_lock:
            self._streams.append(record)

    def record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    def start(self) -> MediaServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def __enter__(self) -> MediaServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    media: MediaServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up mid-response all the time here (that is what cancel tests do)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests read server.requests instead

    def do_HEAD(self) -> None:
        self._handle(head=True)

    def do_GET(self) -> None:
        self._handle(head=False)

    def _handle(self, *, head: bool) -> None:
        media = self.server.media
        media.record(
            RequestRecord(
                method=self.command,
                path=self.path,
                range=self.headers.get("Range"),
                headers=dict(self.headers.items()),
                time=time.monotonic(),
            )
        )
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        try:
            if path == "/redirect":
                target = urllib.parse.parse_qs(parts.query).get("to", [""])[0]
                self._simple(HTTPStatus.FOUND, head, {"Location": target})
            elif match := re.fullmatch(r"/status/(\d{3})", path):
                self._simple(HTTPStatus(int(match.group(1))), head)
            elif match := re.fullmatch(r"/slow/(\d+)(/.*)", path):
                self._file(match.group(2), head, rate=int(match.group(1)))
            elif match := re.fullmatch(r"/chunked(/.*)", path):
                self._file(match.group(1), head, chunked=True)
            elif match := re.fullmatch(r"/stall(/.*)", path):
                self._file(match.group(1), head, stall=True)
            elif match := re.fullmatch(r"/endless/(\d+)\.(html|m3u8|vtt)", path):
                self._endless(int(match.group(1)), match.group(2))
            elif match := re.fullmatch(r"/endless/(\d+)/(subtitles|thumbnail)\.html", path):
                self._page_with_endless(int(match.group(1)), match.group(2))
            elif match := re.fullmatch(r"/gzipbomb/(\d+)\.html", path):
                self._gzip_bomb(int(match.group(1)))
            elif match := re.fullmatch(r"/slowheaders/([0-9.]+)\.html", path):
                self._slow_headers(float(match.group(1)))
            else:
                self._file(path, head)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    # -- hostile origins -----------------------------------------------------------------------
    def _endless(self, rate: int, ext: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[f".{ext}"])
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        self._stream(_endless_body(ext), rate, chunked=True)

    def _page_with_endless(self, rate: int, what: str) -> None:
        endless = self.server.media.url(f"endless/{rate}")
        query = urllib.parse.urlsplit(self.path).query  # passed on: tests tell requests apart
        suffix = f"?{query}" if query else ""
        if what == "subtitles":
            extra = ""
            track = f'<track kind="subtitles" src="{endless}.vtt{suffix}" srclang="en">'
        else:  # an endless "image" (served as text: the fetch must stop before it matters)
            extra, track = f'<meta property="og:image" content="{endless}.html{suffix}">', ""
        body = (
            f"<!DOCTYPE html><html><head><title>Endless {what}</title>{extra}</head><body>"
            f'<video src="/sample.mp4" controls>{track}</video></body></html>'
        ).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[".html"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _gzip_bomb(self, mebibytes: int) -> None:
        body = _gzip_bomb(mebibytes)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", CONTENT_TYPES[".html"])
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        pieces = (body[i : i + _CHUNK] for i in range(0, len(body), _CHUNK))
        self._stream(pieces, 0, chunked=False)

    def _slow_headers(self, interval: float) -> None:
        self.close_connection = True
        lines = itertools.chain(
            [b"HTTP/1.1 200 OK\r\n"], (f"X-Pad-{n}: {n}\r\n".encode() for n in itertools.count())
        )
        self._stream(lines, 0, chunked=False, interval=interval)

    def _stream(
        self, pieces: Iterator[bytes], rate: int, *, chunked: bool, interval: float = 0.0
    ) -> None:
        """Write ``pieces`` (at ``rate`` bytes a second if not 0) until they end, the client
        goes away or the server stops; record how it ended."""
        media = self.server.media
        sent, client_left = 0, False
        started = time.monotonic()
        try:
            for piece in _paced(pieces, rate):
                if media.stopping.is_set():
                    break
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked
                                 else piece)  # fmt: skip
                self.wfile.flush()
                sent += len(piece)
                wait = interval or (sent / rate - (time.monotonic() - started) if rate else 0)
                if wait > 0 and media.stopping.wait(wait):
                    break
            else:
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            client_left = True
        finally:
            media.record_stream(StreamRecord(self.path, sent, client_left))

    def _simple(
        self, status: HTTPStatus, head: bool, headers: dict[str, str] | None = None
    ) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _resolve(self, path: str) -> Path | None:
        root = self.server.media.root
        candidate = (root / path.lstrip("/")).resolve()
        if candidate != root and root not in candidate.parents:
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        return candidate if candidate.is_file() else None

    def _file(
        self,
        path: str,
        head: bool,
        *,
        rate: int | None = None,
        chunked: bool = False,
        stall: bool = False,
    ) -> None:
        file = self._resolve(path)
        if file is None:
            self._simple(HTTPStatus.NOT_FOUND, head)
            return
        size = file.stat().st_size
        ctype = CONTENT_TYPES.get(file.suffix.lower()) or (
            mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        )
        start, end = 0, size - 1
        status = HTTPStatus.OK
        wanted = self.headers.get("Range")
        if wanted and not chunked:
            parsed = _parse_range(wanted, size)
            if parsed is None:
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, end = parsed
            status = HTTPStatus.PARTIAL_CONTENT
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Accept-Ranges", "none" if chunked else "bytes")
        self.send_header("Last-Modified", self.date_time_string(int(file.stat().st_mtime)))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(end - start + 1))
            if status is HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            if chunked:
                self.close_connection = True
            return
        with file.open("rb") as fh:
            fh.seek(start)
            self._send_body(fh, end - start + 1, rate=rate, chunked=chunked, stall=stall)

    def _send_body(
        self, fh: Any, length: int, *, rate: int | None, chunked: bool, stall: bool
    ) -> None:
        stopping = self.server.media.stopping
        block = _CHUNK if not rate else max(256, min(_CHUNK, rate // 20))
        remaining = length
        started = time.monotonic()
        sent = 0
        while remaining > 0 and not stopping.is_set():
            data = fh.read(min(block, remaining))
            if not data:
                break
            if chunked:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            else:
                self.wfile.write(data)
            self.wfile.flush()
            remaining -= len(data)
            sent += len(data)
            if stall:
                stopping.wait()  # hold the connection open, sending nothing more
                break
            if rate:
                ahead = sent / rate - (time.monotonic() - started)
                if ahead > 0:
                    stopping.wait(ahead)
        if chunked and not stopping.is_set():
            self.wfile.write(b"0\r\n\r\n")
        if stopping.is_set() or remaining > 0:
            self.close_connection = True


_ENDLESS_HEAD = {
    "html": b"<!DOCTYPE html><html><head><title>Endless</title></head><body>\n",
    "m3u8": b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n",
    "vtt": b"WEBVTT\n\n",
}


def _endless_body(ext: str) -> Iterator[bytes]:
    """The head of a page/playlist/subtitle file, then more of it forever."""
    yield _ENDLESS_HEAD[ext]
    for n in itertools.count():
        if ext == "html":
            yield f"<p>Paragraph {n} of a page that never ends.</p>\n".encode() * 64
        elif ext == "m3u8":
            yield f"#EXTINF:2.0,\nsegment{n}.ts\n".encode() * 64
        else:
            yield b"".join(
                f"{_cue_time(n * 64 + i)} --> {_cue_time(n * 64 + i + 1)}\nMore words.\n\n"
                .encode() for i in range(64)
            )  # fmt: skip


def _cue_time(second: int) -> str:
    return f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000"


def _paced(pieces: Iterator[bytes], rate: int) -> Iterator[bytes]:
    """At a rate, small pieces (about a tenth of a second's worth) so bytes keep trickling."""
    if not rate:
        yield from pieces
        return
    size = max(1, rate // 10)
    for piece in pieces:
        for start in range(0, len(piece), size):
            yield piece[start : start + size]


@functools.cache
def _gzip_bomb(mebibytes: int) -> bytes:
    """A gzip body that inflates to an HTML page of ``mebibytes`` MiB, mostly spaces: one gzip
    member per MiB (RFC 1952 allows several), about 1 KiB each."""
    head = gzip.compress(b"<!DOCTYPE html><html><head><title>Bomb</title></head><body>")
    spaces = gzip.compress(b" " * (1024 * 1024), compresslevel=9)
    return head + spaces * mebibytes + gzip.compress(b"</body></html>")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for a single ``bytes=`` range, None if unsatisfiable."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header)
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if not first:
        length = int(last)
        if length == 0:
            return None
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return None
    return start, end
