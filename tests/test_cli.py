"""The CLI through its runner: download with progress, info, doctor."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipmill.cli import app
from tests.support.media_factory import MediaFiles

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CLIPMILL_DATA_DIR": str(tmp_path / "data"),
        "CLIPMILL_ALLOW_PRIVATE_NETWORKS": "true",
        "COLUMNS": "160",
    }


@pytest.mark.integration
def test_download_writes_the_file_and_shows_progress(
    tmp_path: Path, env: dict[str, str], media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "download",
            media_url(media_files.mp4),
            "--quality",
            "audio",
            "--audio-format",
            "mp3",
            "-o",
            str(out),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    (file,) = list(out.iterdir())
    assert file.suffix == ".mp3" and str(file) in result.stdout
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(file)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )
    assert probe["streams"][0]["codec_name"] == "mp3"
    assert "100%" in result.stderr and "done" in result.stderr


@pytest.mark.integration
def test_download_failure_exits_non_zero_with_the_code(
    env: dict[str, str], media_url: Callable[..., str], media_files: MediaFiles, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["download", media_url(media_files.nomedia_page), "-o", str(tmp_path)], env=env
    )
    assert result.exit_code == 1 and "unsupported_url" in result.stderr


def test_bad_option_is_refused_before_anything_runs(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["download", "http://example.test/v", "--quality", "999p"], env=env)
    assert result.exit_code == 2 and "quality" in result.stderr


@pytest.mark.integration
def test_info_prints_title_and_formats(
    env: dict[str, str], media_url: Callable[..., str], media_files: MediaFiles
) -> None:
    result = runner.invoke(app, ["info", media_url(media_files.hls_master)], env=env)
    assert result.exit_code == 0, result.output
    for height in media_files.hls_heights:
        assert f"x{height}" in result.stdout


def test_doctor_names_the_tools(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["doctor"], env=env)
    assert result.exit_code == 0, result.output
    for name in ("ffmpeg", "ffprobe", "yt-dlp", "whisper model", "database"):
        assert name in result.stdout


def test_serve_on_a_busy_port_says_so_in_one_sentence(tmp_path: Path, env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)], env=env)
    assert result.exit_code == 1
    assert "already in use" in result.output and str(port) in result.output
    assert "{" not in result.output  # a sentence, not a JSON log line
    assert not (tmp_path / "data" / "clipmill.db").exists()  # nothing ran before the bind


def test_server_logs_keep_the_whole_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    import logging

    from clipmill.observability.logs import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging()
        try:
            raise ValueError("a bug deep down")
        except ValueError:
            logging.getLogger("clipmill.test").exception("job crashed")
        line = json.loads(capfd.readouterr().err.strip().splitlines()[-1])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert line["event"] == "job crashed"
    assert "Traceback (most recent call last)" in line["exception"]
    assert "ValueError: a bug deep down" in line["exception"]
