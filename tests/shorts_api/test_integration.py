"""End to end with the real tiny.en model on the espeak-ng talk (no injected seams).

The talk is transcribed twice in full (transcribe_only by URL, full_processing by upload) and
once in part (the cancel), which keeps this module well under a minute on two cores.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from typing import Any

import jiwer
import pytest
import srt
import webvtt

from tests.shorts_api.conftest import ShortsApp
from tests.support.api import api_client
from tests.support.containers import make_container, wait_for
from tests.support.talk import Talk

pytestmark = pytest.mark.integration


def words(text: str) -> list[str]:
    return [w.strip(".,?!;:\"'").lower() for w in text.split() if w.strip(".,?!;:\"'")]


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShortsApp]:
    """The app as deployed: default pipelines, WhisperTranscriber from settings, one worker."""
    container = make_container(tmp_path_factory.mktemp("real"), max_concurrent_jobs=1)
    container.start(sweeper=False)
    with api_client(container) as client:
        yield ShortsApp(container, client, transcriber=None)  # type: ignore[arg-type]
    container.stop()


@pytest.fixture(scope="module")
def talk_url(talk: Talk, media_files: Any, media_url: Any) -> str:
    served = media_files.root / "shorts-api-talk.mp4"
    if not served.exists():
        shutil.copyfile(talk.mp4, served)
    return media_url(served)  # type: ignore[no-any-return]


def test_transcribe_only_writes_subtitles_whose_cues_match_the_transcript(
    real_app: ShortsApp, talk: Talk, talk_url: str
) -> None:
    response = real_app.client.post(
        "/api/v1/jobs",
        json={
            "youtube_url": talk_url,
            "job_type": "transcribe_only",
            "options": {"language": "en"},
        },
    )
    assert response.status_code == 201, response.text
    detail = real_app.wait(response.json()["id"], timeout=180)
    assert detail["status"] == "completed", detail["error"]

    transcript = detail["transcript"]
    assert jiwer.wer(" ".join(words(talk.text)), " ".join(words(transcript))) < 0.25
    srt_text = real_app.client.get(detail["transcript_files"]["srt"]).text
    cues = list(srt.parse(srt_text))
    assert words(" ".join(c.content for c in cues)) == words(transcript)
    starts = [c.start.total_seconds() for c in cues]
    assert starts == sorted(starts) and cues[-1].end.total_seconds() <= talk.duration + 0.5
    first = talk.sentences[0]
    assert abs(starts[0] - first.start) < 1.0  # the first cue starts when the speech does

    vtt = webvtt.from_string(real_app.client.get(detail["transcript_files"]["vtt"]).text)
    assert words(" ".join(c.text for c in vtt.captions)) == words(transcript)
    assert [seconds(c.start) for c in vtt.captions] == pytest.approx(starts, abs=0.002)


def test_full_processing_end_to_end_gives_clips_with_subtitles(
    real_app: ShortsApp, talk: Talk
) -> None:
    options = {"language": "en", "min_clip_duration": 15, "clip_duration": 30,
               "max_clip_duration": 60, "max_clips": 3}  # fmt: skip
    response = real_app.upload(talk.mp4, options=options, filename="My talk.mp4")
    assert response.status_code == 201, response.text
    detail = real_app.wait(response.json()["id"], timeout=180)
    assert detail["status"] == "completed", detail["error"]
    assert detail["video_title"] == "My talk"

    clips = detail["generated_clips"]
    assert 1 <= len(clips) <= 3
    spoken = set(words(detail["transcript"]))
    for clip in clips:
        assert 14 <= clip["duration"] <= 61 and 0 <= clip["start_time"] < clip["end_time"]
        assert clip["end_time"] <= talk.duration + 0.5 and clip["title"]
        cues = list(srt.parse(real_app.client.get(clip["assets"]["srt"]).text))
        assert cues and set(words(" ".join(c.content for c in cues))) <= spoken
        assert real_app.client.get(clip["assets"]["vtt"]).text.startswith("WEBVTT")
    ordered = sorted(clips, key=lambda c: c["start_time"])
    assert all(a["end_time"] <= b["start_time"] + 0.01 for a, b in itertools.pairwise(ordered))


def test_cancel_during_transcription_ends_cancelled_promptly(
    real_app: ShortsApp, talk: Talk
) -> None:
    response = real_app.upload(talk.mp4, job_type="transcribe_only")
    job_id = response.json()["id"]
    jobs = real_app.container.lifecycle
    wait_for(lambda: jobs.load(job_id).stage.value == "transcribing", timeout=60)
    cancelled = real_app.client.post(f"/api/v1/jobs/{job_id}/cancel").json()
    assert cancelled["status"] == "cancelled"
    # the worker lets go of the job within the transcriber's cancel granularity
    wait_for(lambda: job_id not in real_app.container.queue.running(), timeout=30)
    assert jobs.load(job_id).status.value == "cancelled"
    assert not (real_app.container.settings.jobs_dir / job_id).exists()
    assert not any(f["role"] == "subtitles" for f in real_app.detail(job_id)["files"])
