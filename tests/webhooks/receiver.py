"""A real HTTP receiver on 127.0.0.1 that records webhook deliveries and misbehaves on request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Behaviour:
    """What the receiver answers: ``fail_first`` requests get ``fail_status`` (or hang for
    ``hang_seconds`` first), then ``status``; ``redirect_to`` answers every request with 302."""

    status: int = 204
    fail_first: int = 0
    fail_status: int = 500
    hang_seconds: float = 0.0
    redirect_to: str | None = None


@dataclass
class Receiver:
    url: str
    behaviour: Behaviour
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def events(self) -> list[str]:
        return [r.headers["x-clipmill-event"] for r in self.received()]


@contextmanager
def running_receiver(behaviour: Behaviour | None = None) -> Iterator[Receiver]:
    receiver = Receiver(url="", behaviour=behaviour or Behaviour())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                n = len(receiver.requests)
            how = receiver.behaviour
            if how.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", how.redirect_to)
            elif n <= how.fail_first:
                if how.hang_seconds:
                    time.sleep(how.hang_seconds)
                self.send_response(how.fail_status)
            else:
                self.send_response(how.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
