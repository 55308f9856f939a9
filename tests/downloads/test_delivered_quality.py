"""A quality the source lacks is said, not silently swapped (issue 15, item 4): the job's
result names the delivered picture (ffprobe of the file) and, when it differs, says so."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from clipmill.bootstrap import Container
from clipmill.media.delivered import delivered
from clipmill.media.options import DownloadOptions, Quality
from tests.support.api import api_client
from tests.support.containers import make_container, wait_terminal
from tests.support.media_factory import MediaFiles, ffmpeg_exe


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    container: Container = make_container(tmp_path / "data", None)
    with api_client(container) as c:
        yield c
    container.stop()


def hd_file(media_files: MediaFiles) -> Path:
    """A single 1280x720 file (one format: what a plain file link offers)."""
    path = media_files.root / "hd720.mp4"
    if not path.exists():
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=size=1280x720:rate=10:duration=1",
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)],
            check=True,
        )  # fmt: skip
    return path


@pytest.mark.integration
def test_asked_480p_of_a_720p_file_says_what_was_delivered(
    client: TestClient, media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    url = media_url(hd_file(media_files))
    job = client.post("/api/v1/download", json={"url": url, "quality": "480p"}).json()
    wait_terminal(client.app.state.container, job["id"], timeout=90)  # type: ignore[attr-defined]
    done = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert done["status"] == "completed", done["error"]
    assert done["result"]["delivered"] == {
        "width": 1280,
        "height": 720,
        "note": "Asked 480p; the source offers only 720p, delivered 1280x720.",
    }
    best = client.post("/api/v1/download", json={"url": url}).json()
    wait_terminal(client.app.state.container, best["id"], timeout=90)  # type: ignore[attr-defined]
    shown = client.get(f"/api/v1/jobs/{best['id']}").json()["result"]["delivered"]
    assert shown == {"width": 1280, "height": 720, "note": None}


@pytest.mark.parametrize(
    ("quality", "got", "offered", "note"),
    [
        ("480p", 720, (720,), "Asked 480p; the source offers only 720p, delivered 1280x720."),
        ("360p", 720, (720, 1080), "Asked 360p; the source offers only 720p and 1080p, "
                                   "delivered 1280x720."),
        ("1080p", 720, (360, 720), "Asked 1080p; the source offers at most 720p, "
                                   "delivered 1280x720."),
        ("720p", 720, (360, 720, 1080), None),
        ("480p", 360, (360, 720), None),  # at most 480 lines: 360p is what was asked
        ("best", 720, (720,), None),
        ("audio", 720, (720,), None),
    ],
)  # fmt: skip
def test_the_note_names_what_the_source_has(
    quality: str, got: int, offered: tuple[int, ...], note: str | None
) -> None:
    options = DownloadOptions(quality=Quality(quality))
    assert delivered(options, got * 16 // 9, got, offered).note == note
