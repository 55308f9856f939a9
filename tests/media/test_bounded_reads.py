"""Hostile origins: pages, manifests and subtitles that never end, trickle, or inflate.

Every fetch a probe or a job makes besides the media itself has a byte cap (``max_page_bytes``,
counted after decompression) and a wall-clock deadline (``fetch_timeout``; a whole probe
``probe_timeout``). The settings here are small so that each refusal comes within seconds;
timeouts in these tests are hang guards, never assertions.
"""

from __future__ import annotations

import resource
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from clipmill.api.app import create_app
from clipmill.childproc import Emit, run_in_child
from clipmill.config import Settings
from clipmill.errors import ClipmillError
from clipmill.media import fetchlimits, isolation, ytdlp
from clipmill.media.netguard import NetGuard
from clipmill.media.options import DownloadOptions
from clipmill.media.playlists import open_listing
from tests.media.conftest import make_settings
from tests.support.api import api_client
from tests.support.containers import make_container, wait_for
from tests.support.media_server import MediaServer, RequestRecord, StreamRecord

pytestmark = pytest.mark.integration

CAP = 1024 * 1024
TRICKLE = 40  # bytes a second: a slow-loris origin, always sending, never done
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def small_limits(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, max_page_bytes=CAP, fetch_timeout=3, probe_timeout=5, socket_timeout=10
    )


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClipmillError) as caught:
        call()
    return caught.value.code


def unique(url: str) -> str:
    """The URL with a query no other test uses, to find its own requests in the server's log."""
    return f"{url}?t={uuid.uuid4().hex[:8]}"


def requests_of(server: MediaServer, url: str) -> list[RequestRecord]:
    path = "/" + url.split("/", 3)[3]
    return [r for r in server.requests if r.path == path]


def streams_of(server: MediaServer, url: str) -> list[StreamRecord]:
    path = "/" + url.split("/", 3)[3]
    return [r for r in server.streams if r.path == path]


# --- probes ------------------------------------------------------------------------------------


def reader_left(server: MediaServer, url: str) -> bool:
    """The origin saw its client go away while it still had more to send."""
    return any(r.client_left for r in streams_of(server, url))


HOSTILE_PROBES = [
    # (what, route under the media server, code)
    ("endless page", "endless/0.html", "response_too_large"),
    ("endless manifest", "endless/0.m3u8", "response_too_large"),
    ("gzip bomb", "gzipbomb/512.html", "response_too_large"),
    ("trickling page", f"endless/{TRICKLE}.html", "timed_out"),
    ("trickling manifest", f"endless/{TRICKLE}.m3u8", "timed_out"),
    ("headers that never end", "slowheaders/0.5.html", "timed_out"),
]


@pytest.mark.parametrize(
    ("what", "route", "code"), HOSTILE_PROBES, ids=[c[0] for c in HOSTILE_PROBES]
)
def test_probe_in_child_refuses(
    media_server: MediaServer, small_limits: Settings, what: str, route: str, code: str
) -> None:
    url = unique(media_server.url(route))
    assert code_of(lambda: isolation.run_probe(url, settings=small_limits)) == code
    if "bomb" in what:  # ~0.5 MiB: all of it fits in the socket buffers before the refusal
        wait_for(lambda: bool(streams_of(media_server, url)), timeout=20)
    else:  # nobody reads the rest
        wait_for(lambda: reader_left(media_server, url), timeout=20)


@pytest.mark.parametrize(
    ("route", "code"),
    [("endless/0.html", "response_too_large"), (f"endless/{TRICKLE}.html", "timed_out")],
)
def test_probe_in_process_stops_by_itself(
    media_server: MediaServer, small_limits: Settings, route: str, code: str
) -> None:
    """No parent to kill it: the cap and the watchdog alone end the probe."""
    url = unique(media_server.url(route))
    guard = NetGuard.from_settings(small_limits)
    with pytest.raises(ClipmillError) as caught:
        ytdlp.probe(url, guard=guard, settings=small_limits)
    assert caught.value.code == code
    if code == "timed_out":
        assert "looking at the URL" in caught.value.message
        assert "CLIPMILL_PROBE_TIMEOUT" in caught.value.message


def test_probe_of_an_ordinary_page_still_works(media_server: MediaServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_page_bytes=CAP)
    info = isolation.run_probe(media_server.url("page.html"), settings=settings)
    assert info.duration and info.formats


def _peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


def probe_reporting_peak(emit: Emit, url: str, settings: Settings) -> tuple[str | None, int]:
    """Child target: the production probe child, then this process's peak RSS (KiB)."""
    try:
        isolation._probe_in_child(emit, url, settings)
        code = None
    except ClipmillError as exc:
        code = exc.code
    return code, _peak_rss_kib()


@pytest.fixture
def child_imports_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO))


def peak_of(url: str, settings: Settings) -> tuple[str | None, int]:
    target = f"{__name__}:probe_reporting_peak"
    code, peak = run_in_child(target, (url, settings), timeout=60)
    return code, peak


@pytest.mark.usefixtures("child_imports_tests")
def test_gzip_bomb_and_endless_page_stay_small_in_memory(
    media_server: MediaServer, small_limits: Settings
) -> None:
    """512 MiB behind a ~0.5 MiB gzip body, and a page that never ends: the child's peak memory
    stays near that of probing an ordinary page, far below what either would take whole."""
    ordinary_code, ordinary = peak_of(media_server.url("page.html"), small_limits)
    bomb_code, bomb = peak_of(unique(media_server.gzip_bomb_url(512)), small_limits)
    endless_code, endless = peak_of(unique(media_server.endless_url(0)), small_limits)
    assert ordinary_code is None
    assert bomb_code == endless_code == "response_too_large"
    headroom = 48 * 1024  # KiB: a few copies of the 1 MiB cap and of the read chunks
    assert bomb < ordinary + headroom, (ordinary, bomb)
    assert endless < ordinary + headroom, (ordinary, endless)


# --- download jobs -----------------------------------------------------------------------------

HOSTILE_DOWNLOADS: list[tuple[str, str, dict[str, Any], str]] = [
    # (what, route, options, code)
    ("endless page", "endless/0.html", {}, "response_too_large"),
    ("endless manifest", "endless/0.m3u8", {}, "response_too_large"),
    ("gzip bomb", "gzipbomb/512.html", {}, "response_too_large"),
    ("trickling page", f"endless/{TRICKLE}.html", {}, "timed_out"),
    ("headers that never end", "slowheaders/0.5.html", {}, "timed_out"),
    ("endless subtitles", "endless/0/subtitles.html", {"subtitles": {}}, "response_too_large"),
    ("trickling subtitles", f"endless/{TRICKLE}/subtitles.html", {"subtitles": {}}, "timed_out"),
]


def run_download(url: str, settings: Settings, workdir: Path, **fields: Any) -> list[str]:
    logs: list[str] = []
    result = isolation.run_download(
        url,
        DownloadOptions(**fields),
        workdir,
        settings=settings,
        on_progress=lambda update: None,
        on_log=logs.append,
        cancel=threading.Event(),
    )
    assert result.files
    return logs


@pytest.mark.parametrize(
    ("what", "route", "options", "code"), HOSTILE_DOWNLOADS, ids=[c[0] for c in HOSTILE_DOWNLOADS]
)
def test_download_job_refuses(
    media_server: MediaServer,
    small_limits: Settings,
    tmp_path: Path,
    what: str,
    route: str,
    options: dict[str, Any],
    code: str,
) -> None:
    url = unique(media_server.url(route))
    error = code_of(lambda: run_download(url, small_limits, tmp_path / "job", **options))
    assert error == code
    if "subtitles" in what:  # the page is fine; its subtitle file is the endless one
        page, query = url.split("?")
        url = page.removesuffix("/subtitles.html") + ".vtt?" + query
    if "bomb" in what:
        wait_for(lambda: bool(streams_of(media_server, url)), timeout=20)
    else:
        wait_for(lambda: reader_left(media_server, url), timeout=20)


@pytest.mark.parametrize("rate", [0, TRICKLE], ids=["endless", "trickling"])
def test_a_bad_thumbnail_is_skipped_not_fatal(
    media_server: MediaServer, small_limits: Settings, tmp_path: Path, rate: int
) -> None:
    url = unique(media_server.url(f"endless/{rate}/thumbnail.html"))
    logs = run_download(url, small_limits, tmp_path / "job", thumbnail={"write": True})
    assert any(line.startswith("WARNING: thumbnail skipped") for line in logs), logs


def test_media_is_not_held_to_the_page_cap(media_server: MediaServer, tmp_path: Path) -> None:
    """big.mp4 (~2 MB) and an HLS stream download fine with a page cap far below their size."""
    settings = make_settings(tmp_path, max_page_bytes=300 * 1024, fetch_timeout=5)
    run_download(media_server.url("big.mp4"), settings, tmp_path / "big")
    run_download(media_server.url("hls/master.m3u8"), settings, tmp_path / "hls", quality="360p")


# --- playlists (in-process listings) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "code"),
    [
        ("endless/0.html", "response_too_large"),
        ("gzipbomb/512.html", "response_too_large"),
        (f"endless/{TRICKLE}.html", "timed_out"),
    ],
)
def test_listing_refuses(
    media_server: MediaServer, small_limits: Settings, route: str, code: str
) -> None:
    url = unique(media_server.url(route))
    assert code_of(lambda: open_listing(url, settings=small_limits)) == code


def test_listing_stops_when_its_scope_is_cancelled(
    media_server: MediaServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, fetch_timeout=600)  # only the cancel can end it
    url = unique(media_server.endless_url(TRICKLE))
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    with fetchlimits.scope(cancel=cancel):
        assert code_of(lambda: open_listing(url, settings=settings)) == "cancelled"
    timer.join()


# --- the API: a client that goes away stops the probe ---------------------------------------


@pytest.fixture
def live_api(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """The real app served by uvicorn on 127.0.0.1; previews may take long (probe_timeout)."""
    container = make_container(
        tmp_path / "data", probe_timeout=600, fetch_timeout=600, warm_spare=False
    )
    config = uvicorn.Config(
        create_app(container=container), host="127.0.0.1", port=0, log_level="warning",
        ws="none", lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=30)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield "127.0.0.1", port
    server.should_exit = True
    thread.join(timeout=30)
    container.stop()


API_PREVIEWS = [
    ("GET", "/api/v1/metadata?url={url}", None),
    ("GET", "/api/v1/formats?url={url}", None),
    ("POST", "/api/preview", '{{"url": "{url}"}}'),
    ("GET", "/api/v1/playlist/preview?url={url}", None),
    ("GET", "/api/v1/channel/info?url={url}", None),
]


@pytest.mark.parametrize(("method", "target", "body"), API_PREVIEWS,
                         ids=[t.split("?")[0] for _, t, _ in API_PREVIEWS])  # fmt: skip
def test_a_client_that_goes_away_stops_the_preview(
    media_server: MediaServer,
    live_api: tuple[str, int],
    method: str,
    target: str,
    body: str | None,
) -> None:
    url = unique(media_server.endless_url(TRICKLE))
    query_url = urllib.parse.quote(url, safe="")
    content = (body or "").format(url=url).encode()
    request = (
        f"{method} {target.format(url=query_url)} HTTP/1.1\r\nHost: {live_api[0]}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n\r\n"
    ).encode() + content
    with socket.create_connection(live_api, timeout=30) as client:
        client.sendall(request)
        wait_for(lambda: bool(requests_of(media_server, url)), timeout=30)  # probing now
    # the client is gone; the server stops the probe, whose origin then sees its reader leave
    wait_for(lambda: reader_left(media_server, url), timeout=30)


def test_previews_answer_as_before_and_refuse_with_the_code(
    media_server: MediaServer, tmp_path: Path
) -> None:
    container = make_container(tmp_path / "data", max_page_bytes=CAP, warm_spare=False)
    page, endless = media_server.url("page.html"), unique(media_server.endless_url(0))
    with api_client(container) as client:
        ok = client.get("/api/v1/metadata", params={"url": page})
        assert ok.status_code == 200 and ok.json()["formats"]
        clipx = client.post("/api/preview", json={"url": page})
        assert clipx.status_code == 200 and clipx.json()["data"]["formats"]
        refused = client.get("/api/v1/metadata", params={"url": endless})
        assert refused.status_code == 502
        assert refused.json()["error"]["code"] == "response_too_large"
    container.stop()
