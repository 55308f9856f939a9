"""Proxies and the network guard.

Through a proxy, a connect-time check sees only the proxy's address. So proxies from the
environment (HTTP_PROXY, http_proxy, HTTPS_PROXY, ALL_PROXY) are ignored by every fetch, in
process and in the download child; the operator's ``proxy_url`` is used, but each request's
destination is resolved and checked before the proxy hears of it.

The origin is 127.0.0.1 (allowed); the canary is 127.0.0.2 (a loopback address the settings do
not allow); the recording proxy listens on 127.0.0.1, so without these rules a request for the
canary would pass the connect check on its way to the proxy.
"""

from __future__ import annotations

import http.client
import shutil
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from clipmill.cancellation import CancelToken
from clipmill.config import Settings
from clipmill.errors import ClipmillError
from clipmill.media import isolation, netguard
from clipmill.media.models import DownloadResult
from clipmill.media.options import DownloadOptions
from tests.media.conftest import make_settings
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration

ENV_PROXY_NAMES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY",
                   "all_proxy")  # fmt: skip


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 that logs every request target; it forwards plain-HTTP
    requests (without following redirects) and answers CONNECT with 502."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_CONNECT(self) -> None:
                proxy.targets.append(f"CONNECT {self.path}")
                self.send_error(502)

            def do_HEAD(self) -> None:
                self._forward()

            def do_GET(self) -> None:
                self._forward()

            def _forward(self) -> None:
                proxy.targets.append(f"{self.command} {self.path}")
                parts = urllib.parse.urlsplit(self.path)
                if parts.scheme != "http" or not parts.hostname:
                    self.send_error(502)
                    return
                upstream = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=10)
                try:
                    path = parts.path + (f"?{parts.query}" if parts.query else "")
                    headers = {k: v for k, v in self.headers.items()
                               if k.lower() not in ("proxy-connection", "connection")}  # fmt: skip
                    upstream.request(self.command, path or "/", headers=headers)
                    answer = upstream.getresponse()
                    body = answer.read()
                except OSError:
                    self.send_error(502)
                    return
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def saw(self, needle: str) -> list[str]:
        return [t for t in self.targets if needle in t]

    def destinations(self) -> set[str]:
        """The hosts asked for (a CONNECT's host:port, an absolute URL's host)."""
        targets = (t.partition(" ")[2] for t in self.targets)
        return {urllib.parse.urlsplit(t if "//" in t else f"//{t}").hostname or t for t in targets}

    def __enter__(self) -> RecordingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canary(tmp_path: Path, media_files: MediaFiles) -> Iterator[MediaServer]:
    root = tmp_path / "canary"
    root.mkdir()
    shutil.copy(media_files.mp4, root / "video.mp4")
    (root / "seg0.ts").write_bytes(b"\x47" * 188 * 10)
    with MediaServer(root, host="127.0.0.2") as server:
        yield server


@pytest.fixture
def origin(tmp_path: Path, media_files: MediaFiles, canary: MediaServer) -> Iterator[MediaServer]:
    """127.0.0.1: a page whose og:video, and an HLS playlist whose segment, are the canary's."""
    root = tmp_path / "origin"
    root.mkdir()
    shutil.copy(media_files.mp4, root / "sample.mp4")
    (root / "page.html").write_text(
        "<!DOCTYPE html><html><head><title>Canary page</title>"
        '<meta property="og:title" content="Canary page">'
        f'<meta property="og:video" content="{canary.url("/video.mp4")}">'
        '<meta property="og:video:type" content="video/mp4">'
        "</head><body><p>hello</p></body></html>"
    )
    (root / "canary.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        f"#EXTINF:2.0,\n{canary.url('/seg0.ts')}\n#EXT-X-ENDLIST\n"
    )
    with MediaServer(root) as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    with RecordingProxy() as server:
        yield server


@pytest.fixture
def env_proxies(monkeypatch: pytest.MonkeyPatch, proxy: RecordingProxy) -> None:
    """Every proxy variable names the recording proxy; child processes inherit them."""
    for name in ENV_PROXY_NAMES:
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    # only the origin's (and the proxy's) address: the canary on 127.0.0.2 is blocked
    return make_settings(tmp_path, allowed_networks=["127.0.0.1/32"], **overrides)


def run_download(url: str, settings: Settings, workdir: Path) -> DownloadResult:
    token = CancelToken(lambda: True, poll_interval=0.2)
    return isolation.run_download(
        url,
        DownloadOptions(),
        workdir,
        settings=settings,
        on_progress=lambda _p: None,
        on_log=lambda _line: None,
        cancel=token,
        timeout=60,
    )


def fails_with(call: Callable[[], object]) -> ClipmillError:
    with pytest.raises(ClipmillError) as caught:
        call()
    return caught.value


# --- environment proxies are ignored -------------------------------------------------------


@pytest.mark.usefixtures("env_proxies")
@pytest.mark.parametrize("path", ["page.html", "canary.m3u8"])
def test_env_proxies_do_not_carry_a_download_to_the_canary(
    tmp_path: Path,
    origin: MediaServer,
    canary: MediaServer,
    proxy: RecordingProxy,
    path: str,
) -> None:
    settings = settings_for(tmp_path)
    url = origin.url(path)
    error = fails_with(lambda: run_download(url, settings, tmp_path / "job"))
    assert error.code in ("blocked_address", "unsupported_url"), error.message
    assert canary.requests == []
    assert proxy.targets == []
    assert origin.requests_for(path)  # the origin was fetched directly


@pytest.mark.usefixtures("env_proxies")
@pytest.mark.parametrize("path", ["page.html", "canary.m3u8"])
def test_env_proxies_do_not_carry_a_probe_to_the_canary(
    tmp_path: Path,
    origin: MediaServer,
    canary: MediaServer,
    proxy: RecordingProxy,
    path: str,
) -> None:
    settings = settings_for(tmp_path)
    try:
        isolation.run_probe(origin.url(path), settings=settings)
    except ClipmillError as error:
        assert error.code in ("blocked_address", "unsupported_url"), error.message
    assert canary.requests == []
    assert proxy.targets == []
    assert origin.requests_for(path)


@pytest.mark.usefixtures("env_proxies")
def test_env_proxies_do_not_carry_an_in_process_download(
    tmp_path: Path,
    origin: MediaServer,
    canary: MediaServer,
    proxy: RecordingProxy,
    download: Callable[..., DownloadResult],
) -> None:
    settings = settings_for(tmp_path)
    fails_with(lambda: download(origin.url("page.html"), settings))
    result = download(origin.url("sample.mp4"), settings)  # allowed, and direct
    assert result.files[0].path.stat().st_size > 0
    assert canary.requests == [] and proxy.targets == []


@pytest.mark.usefixtures("env_proxies")
def test_env_proxies_do_not_carry_a_redirect_to_the_canary(
    tmp_path: Path, origin: MediaServer, canary: MediaServer, proxy: RecordingProxy
) -> None:
    settings = settings_for(tmp_path)
    url = origin.redirect_url(canary.url("/video.mp4"))
    error = fails_with(lambda: run_download(url, settings, tmp_path / "job"))
    assert error.code == "blocked_address"
    assert canary.requests == [] and proxy.targets == []


def test_child_processes_get_no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*ENV_PROXY_NAMES, "NO_PROXY", "ftp_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("CLIPMILL_SOMETHING", "kept")
    env = netguard.direct_env()
    assert not [k for k in env if k.lower().endswith("_proxy")]
    assert env["CLIPMILL_SOMETHING"] == "kept"


def test_ffmpeg_wrappers_drop_proxy_variables(tmp_path: Path) -> None:
    from clipmill.media import ffmpeg

    wrapper = Path(ffmpeg.guarded_tools_dir(tmp_path)) / "ffmpeg"
    assert "unset http_proxy https_proxy" in wrapper.read_text()


# --- the operator's proxy: destinations checked before it sees them ------------------------


@pytest.mark.parametrize(
    "make_url",
    [
        lambda origin, canary: origin.url("page.html"),
        lambda origin, canary: origin.url("canary.m3u8"),
        lambda origin, canary: origin.redirect_url(canary.url("/video.mp4")),
        lambda origin, canary: canary.url("/video.mp4"),
    ],
    ids=["og-video", "hls-segment", "redirect", "direct"],
)
def test_the_configured_proxy_never_sees_a_blocked_destination(
    tmp_path: Path,
    origin: MediaServer,
    canary: MediaServer,
    proxy: RecordingProxy,
    make_url: Callable[[MediaServer, MediaServer], str],
) -> None:
    settings = settings_for(tmp_path, proxy_url=proxy.url)
    url = make_url(origin, canary)
    error = fails_with(lambda: run_download(url, settings, tmp_path / "job"))
    assert error.code in ("blocked_address", "unsupported_url"), error.message
    assert canary.requests == []
    assert "127.0.0.2" not in proxy.destinations()


def test_allowed_destinations_go_through_the_configured_proxy(
    tmp_path: Path,
    origin: MediaServer,
    proxy: RecordingProxy,
    media_files: MediaFiles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # ignored: proxy_url wins
    settings = settings_for(tmp_path, proxy_url=proxy.url)
    before = len(origin.requests)
    result = run_download(origin.url("sample.mp4"), settings, tmp_path / "job")
    assert result.files[0].path.read_bytes() == media_files.mp4.read_bytes()
    assert proxy.saw(origin.url("sample.mp4"))  # every request went through the proxy...
    assert len(origin.requests) > before  # ...which forwarded it
    info = isolation.run_probe(origin.url("canary.m3u8"), settings=settings)
    assert info.formats
    assert proxy.saw(origin.url("canary.m3u8"))


def test_a_probe_through_the_configured_proxy_is_refused_for_a_blocked_host(
    tmp_path: Path, canary: MediaServer, proxy: RecordingProxy
) -> None:
    settings = settings_for(tmp_path, proxy_url=proxy.url)
    error = fails_with(lambda: isolation.run_probe(canary.url("/video.mp4"), settings=settings))
    assert error.code == "blocked_address"
    assert canary.requests == [] and proxy.targets == []


def test_the_configured_proxy_is_the_one_private_address_a_guard_lets_through() -> None:
    """An operator's proxy may live on a private address the guard otherwise blocks."""
    import socket

    with (
        socket.create_server(("127.0.0.1", 0)) as proxy_side,
        socket.create_server(("127.0.0.1", 0)) as other,
    ):
        proxy_port, other_port = proxy_side.getsockname()[1], other.getsockname()[1]
        guard = netguard.NetGuard.create(proxy_url=f"http://127.0.0.1:{proxy_port}")
        with netguard.enforce(guard) as audit:
            with socket.create_connection(("127.0.0.1", proxy_port), timeout=5):
                pass
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", other_port), timeout=5)
            with pytest.raises(ConnectionRefusedError):
                netguard.check_destination(f"http://127.0.0.1:{proxy_port}/through-itself")
        assert [b.details["address"] for b in audit.blocked] == ["127.0.0.1", "127.0.0.1"]
