"""The staged pipeline through the API, on a fake transcriber: stage order and progress over
WebSocket and SSE, stored artifacts, resume on retry, cancel, and downloadable clip assets."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import srt

from clipmill.accounts.principal import LOCAL_USER
from clipmill.errors import ClipmillError
from clipmill.jobs.enums import JobKind
from clipmill.media.ffmpeg import probe_file
from clipmill.shorts.artifacts import ArtifactStore
from clipmill.shorts.job_schemas import ShortsJobOptions, ShortsOptions
from clipmill.shorts.plan import plan_clips
from tests.shorts_api.conftest import SENTENCES, ShortsApp
from tests.support.containers import wait_for

SHORTS_ORDER = [
    "initializing", "downloading", "extracting_audio", "transcribing", "analyzing",
    "generating_clips", "finalizing",
]  # fmt: skip
TRANSCRIBE_ORDER = ["initializing", "downloading", "extracting_audio", "transcribing", "finalizing"]
OPTIONS = {"min_clip_duration": 10, "clip_duration": 25, "max_clip_duration": 45, "max_clips": 3}
CLIP_FIELDS = {
    "clip_id", "title", "description", "start_time", "end_time", "duration",
    "transcript_segment", "score", "tags", "assets",
}  # fmt: skip


def words(text: str) -> list[str]:
    return [w.strip(".,?!").lower() for w in text.split() if w.strip(".,?!")]


def stage_events(messages: list[dict[str, Any]]) -> list[str]:
    return [m["data"]["stage"] for m in messages if m["data"].get("event") == "stage"]


def watch_over_websocket(app: ShortsApp, job_id: str) -> list[dict[str, Any]]:
    """Subscribe first, then let the workers run; every envelope until the job ends."""
    with app.client.websocket_connect(f"/ws/{job_id}") as socket:
        assert socket.receive_json()["type"] == "initial_status"
        app.start_workers()
        messages = []
        while True:
            message = socket.receive_json()
            messages.append(message)
            if message["type"] in ("job_completed", "job_failed"):
                return messages


def test_stages_arrive_in_order_over_the_websocket_with_progress(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    app = make_shorts_app(delay=0.02)  # slow enough that transcription ticks get published
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    messages = watch_over_websocket(app, job_id)

    assert messages[-1]["type"] == "job_completed"
    assert stage_events(messages) == SHORTS_ORDER
    progress = [m["data"]["progress"] for m in messages]
    assert progress == sorted(progress) and progress[-1] == 100.0
    ticks = [
        m["data"]
        for m in messages
        if m["data"]["event"] == "progress" and m["data"]["stage"] == "transcribing"
    ]
    assert len(ticks) >= 2
    stage_progress = [t["stage_progress"] for t in ticks]
    assert stage_progress == sorted(stage_progress) and 0 < stage_progress[-1] <= 100
    starts = {m["data"]["stage"]: m["data"]["progress"] for m in messages
              if m["data"]["event"] == "stage"}  # fmt: skip
    assert all(starts["transcribing"] <= t["progress"] <= starts["analyzing"] for t in ticks)


def test_transcribe_only_reports_its_stages_over_sse_and_skips_the_clip_stages(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    job_id = shorts_app.upload(lecture_mp4, job_type="transcribe_only").json()["id"]
    subscribed = threading.Event()
    subscribe = shorts_app.container.bus.subscribe

    def subscribe_and_tell(wanted: str) -> Any:
        subscription = subscribe(wanted)
        subscribed.set()
        return subscription

    shorts_app.container.bus.subscribe = subscribe_and_tell  # type: ignore[method-assign]
    answer: dict[str, Any] = {}
    reader = threading.Thread(
        target=lambda: answer.update(r=shorts_app.client.get(f"/api/v1/jobs/{job_id}/events"))
    )
    reader.start()
    assert subscribed.wait(10)
    shorts_app.start_workers()
    reader.join(60)
    response = answer["r"]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    envelopes = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert envelopes[0]["type"] == "initial_status"
    assert envelopes[-1]["type"] == "job_completed"
    assert stage_events(envelopes) == TRANSCRIBE_ORDER

    detail = shorts_app.detail(job_id)
    assert detail["job_type"] == "transcribe_only"
    assert detail["generated_clips"] is None and detail["analysis_results"] is None
    assert words(detail["transcript"]) == words(" ".join(SENTENCES))
    vtt = shorts_app.client.get(detail["transcript_files"]["vtt"])
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    assert {f["role"] for f in detail["files"]} == {"transcript", "subtitles"}


def test_a_finished_job_shows_clips_whose_asset_links_download(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    job_id = shorts_app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    shorts_app.start_workers()
    detail = shorts_app.wait(job_id)
    assert detail["status"] == "completed", detail["error"]
    assert (detail["youtube_url"], detail["job_type"]) == (None, "full_processing")
    assert detail["video_title"] == "lecture"
    assert len(detail["transcript_segments"]) == len(SENTENCES)
    analysis = detail["analysis_results"]
    assert analysis["candidate_count"] > 0 and len(analysis["topics"]) >= 2

    clips = detail["generated_clips"]
    assert 1 <= len(clips) <= OPTIONS["max_clips"]
    for clip in clips:
        assert set(clip) >= CLIP_FIELDS
        assert (
            OPTIONS["min_clip_duration"] - 1 <= clip["duration"] <= OPTIONS["max_clip_duration"] + 1
        )
        assert {"srt", "vtt", "captions_srt_url", "video_url", "renditions"} <= set(clip["assets"])
        srt_file = shorts_app.client.get(clip["assets"]["srt"])
        assert srt_file.status_code == 200
        assert srt_file.headers["content-type"].startswith("application/x-subrip")
        assert "attachment" in srt_file.headers["content-disposition"]
        cues = list(srt.parse(srt_file.text))
        assert cues and cues[0].start.total_seconds() >= 0
        assert cues[-1].end.total_seconds() <= clip["duration"] + 0.01
        spoken = words(" ".join(c.content for c in cues))
        assert spoken == words(clip["transcript_segment"])
        vtt_file = shorts_app.client.get(clip["assets"]["vtt"])
        assert vtt_file.status_code == 200 and vtt_file.text.startswith("WEBVTT")
    broken = clips[0]["assets"]["srt"].rsplit("/", 1)[0] + "/not-a-valid-token"
    assert shorts_app.client.get(broken).status_code in (403, 404)


def test_the_work_dir_keeps_every_stage_artifact(shorts_app: ShortsApp, lecture_mp4: Path) -> None:
    job_id = shorts_app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    shorts_app.start_workers()
    assert shorts_app.wait(job_id)["status"] == "completed"
    store = ArtifactStore(shorts_app.container.settings.jobs_dir / job_id)
    assert [s.value for s in store.finished()] == SHORTS_ORDER[1:-1]
    audio = probe_file(store.path("audio.wav")).audio
    assert audio is not None and (audio.sample_rate, audio.channels) == (16000, 1)
    metadata = store.read_json("source/metadata.json")
    assert (metadata["origin"], metadata["filename"]) == ("upload", "lecture.mp4")
    assert store.path(metadata["media_file"]).read_bytes() == lecture_mp4.read_bytes()
    transcript = store.read_json("transcript.json")
    assert transcript["segments"][0]["words"][0]["text"] == SENTENCES[0].split()[0]
    assert store.read_text("transcript.srt").startswith("1\n00:00:00,500 --> ")
    clips = store.read_json("clips.json")["clips"]
    assert all(store.path(c["assets"]["srt"]).is_file() for c in clips)
    assert shorts_app.uploads_left() == []  # a completed job's input goes at the next sweep


@pytest.mark.parametrize("force", [False, True])
def test_a_retry_after_a_failed_analysis_resumes_unless_forced(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path, force: bool
) -> None:
    attempts: list[int] = []

    def fails_once(transcript: Any, **kwargs: Any) -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise ClipmillError("Analysis failed on purpose.", code="forced_failure")
        return plan_clips(transcript, **kwargs)

    shorts_app = make_shorts_app(planner=fails_once)
    job_id = shorts_app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    shorts_app.start_workers()
    failed = shorts_app.wait(job_id)
    assert failed["status"] == "failed" and failed["stage"] == "analyzing"
    assert failed["error"]["code"] == "forced_failure"
    assert len(shorts_app.transcriber.calls) == 1

    response = shorts_app.client.post(f"/api/v1/jobs/{job_id}/retry", json={"force": force})
    assert response.status_code == 200, response.text
    done = shorts_app.wait(job_id)
    assert done["status"] == "completed", done["error"]
    assert done["attempts"] == 2
    assert len(shorts_app.transcriber.calls) == (2 if force else 1)
    assert done["generated_clips"]
    reused = [e.stage for e in shorts_app.container.jobs.events(LOCAL_USER, job_id)
              if e.type == "stage" and (e.message or "").startswith("Already done")]  # fmt: skip
    assert reused == ([] if force else ["downloading", "extracting_audio", "transcribing"])
    names = [f["name"] for f in done["files"]]
    assert len(names) == len(set(names))  # finalizing ran once; nothing stored twice


def test_cancel_during_transcription_ends_the_job_promptly(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    app = make_shorts_app(hold=True)
    job_id = app.upload(lecture_mp4, options=OPTIONS).json()["id"]
    app.start_workers()
    assert app.transcriber.holding.wait(30)
    assert app.detail(job_id)["stage"] == "transcribing"
    response = app.client.post(f"/api/v1/jobs/{job_id}/cancel", json={"reason": "changed my mind"})
    assert response.json()["status"] == "cancelled"
    wait_for(lambda: job_id not in app.container.queue.running(), timeout=5)
    assert app.detail(job_id)["status"] == "cancelled"
    assert not (app.container.settings.jobs_dir / job_id).exists()


def test_a_url_job_downloads_the_media_then_runs_every_stage(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    url = shorts_app.serve(lecture_mp4)
    response = shorts_app.client.post(
        "/api/v1/jobs", json={"source_url": url, "job_type": "full_processing", "options": OPTIONS}
    )
    assert response.status_code == 201
    job_id = response.json()["id"]
    shorts_app.start_workers()
    detail = shorts_app.wait(job_id)
    assert detail["status"] == "completed", detail["error"]
    assert detail["youtube_url"] == url
    assert detail["generated_clips"]
    metadata = ArtifactStore(shorts_app.container.settings.jobs_dir / job_id).read_json(
        "source/metadata.json"
    )
    assert (metadata["origin"], metadata["url"]) == ("url", url)


def test_a_model_the_server_lost_fails_the_job_before_downloading(
    make_shorts_app: Callable[..., ShortsApp],
) -> None:
    """The API checks the model; a job already queued when settings changed fails fast."""
    shorts_app = make_shorts_app(real_transcribers=True)
    gone = ShortsOptions(whisper_model="gone")
    stored = ShortsJobOptions(url="http://127.0.0.1:9/x", shorts=gone).model_dump(mode="json")
    job = shorts_app.container.jobs.create(LOCAL_USER, JobKind.TRANSCRIBE, stored)
    shorts_app.start_workers()
    detail = shorts_app.wait(job.id)
    assert (detail["status"], detail["stage"]) == ("failed", "initializing")
    assert detail["error"]["code"] == "invalid_option"


def test_download_only_is_an_ordinary_download_job(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    response = shorts_app.client.post(
        "/api/v1/jobs",
        json={"youtube_url": shorts_app.serve(lecture_mp4), "job_type": "download_only",
              "options": {"resolution": "720p"}},
    )  # fmt: skip
    assert response.status_code == 201 and response.json()["job_type"] == "download_only"
    shorts_app.start_workers()
    detail = shorts_app.wait(response.json()["id"])
    assert (detail["kind"], detail["status"]) == ("download", "completed"), detail["error"]
    media = [f for f in detail["files"] if f["role"] == "media"]
    assert media and shorts_app.client.get(media[0]["url"]).status_code == 200
