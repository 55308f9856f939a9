"""Helpers for the cookie tests: cookies.txt text, users, and an origin that wants a cookie."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from clipmill.accounts.principal import Principal
from clipmill.bootstrap import Container
from clipmill.jobs.models import User

SECRET = "s3cr3t-VALUE-6b1f0c2d9e8a7f34"
"""The cookie value no test may find anywhere but in the origin's request headers."""


def cookies_txt(domain: str = "127.0.0.1", value: str = SECRET, *, extra: str = "") -> bytes:
    return (
        "# Netscape HTTP Cookie File\n"
        "# exported for a test\n\n"
        f"{domain}\tFALSE\t/\tFALSE\t0\tsession\t{value}\n"
        f"#HttpOnly_.example.com\tTRUE\t/\tTRUE\t2145916800\tsid\t{value}-2\n"
        f"{extra}"
    ).encode()


def add_user(container: Container, user_id: str) -> Principal:
    with container.sessions() as session, session.begin():
        session.add(User(id=user_id, name=user_id))
    return Principal(user_id=user_id, name=user_id)


class CookieOrigin:
    """127.0.0.1 origin: ``/video.mp4`` is served only with ``Cookie: session=<value>``,
    403 otherwise. Records every request's Cookie header."""

    def __init__(self, media: Path, value: str = SECRET) -> None:
        self.media, self.value = media, value
        self.cookies_seen: list[str | None] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, *, head: bool) -> None:
                cookie = self.headers.get("Cookie")
                origin.cookies_seen.append(cookie)
                if self.path != "/video.mp4":
                    self.send_error(404)
                    return
                if f"session={origin.value}" not in (cookie or ""):
                    self.send_error(403, "log in first")
                    return
                data = origin.media.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/video.mp4"

    def __enter__(self) -> CookieOrigin:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def files_containing(root: Path, needle: bytes) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found
