"""``clipmill download`` refuses a playlist posing as media, and writes nothing.

The CLI runs the same download job as the API; a URL serving an HLS playlist or DASH manifest
named ``.mp4`` that points at a local file must end with ``unsupported_media`` and an empty
output directory. Payloads come from tests/media/test_untrusted_media.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipmill.cli import app
from tests.media.test_untrusted_media import make_marker, payload
from tests.support.media_factory import MediaFiles
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.integration
runner = CliRunner()


@pytest.mark.parametrize(("kind", "options"), [("hls", []), ("dash", ["--container", "mkv"])])
def test_download_of_a_disguised_playlist_fails_and_writes_nothing(
    tmp_path: Path,
    media_server: MediaServer,
    media_files: MediaFiles,
    kind: str,
    options: list[str],
) -> None:
    marker = make_marker(tmp_path / "secret.mp4")
    folder = media_files.root / "hostile-cli"
    folder.mkdir(exist_ok=True)
    (folder / f"{kind}.mp4").write_text(payload(kind, str(marker)))
    out = tmp_path / "out"
    env = {
        "CLIPMILL_DATA_DIR": str(tmp_path / "data"),
        "CLIPMILL_ALLOW_PRIVATE_NETWORKS": "true",
        "COLUMNS": "160",
    }
    url = media_server.url(f"hostile-cli/{kind}.mp4")
    result = runner.invoke(app, ["download", url, *options, "-o", str(out)], env=env)
    assert result.exit_code == 1, result.output
    assert "unsupported_media" in result.stderr
    assert not out.exists() or list(out.iterdir()) == []
    assert not [p for p in (tmp_path / "data" / "files").rglob("*") if p.is_file()]
