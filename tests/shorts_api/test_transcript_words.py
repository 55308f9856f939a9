"""``GET /api/v1/jobs/{id}/transcript``: the words the clip editor picks spans from."""

from __future__ import annotations

from pathlib import Path

from clipmill.shorts.transcript import Transcript
from tests.shorts_api.conftest import ShortsApp


def test_the_words_of_a_finished_job_with_their_times(
    shorts_app: ShortsApp, lecture_mp4: Path, lecture: Transcript
) -> None:
    job_id = shorts_app.upload(lecture_mp4, options={"max_clips": 1}).json()["id"]
    shorts_app.start_workers()
    assert shorts_app.wait(job_id)["status"] == "completed"
    everything = shorts_app.client.get(f"/api/v1/jobs/{job_id}/transcript").json()
    assert [w["text"] for w in everything["words"]] == [w.text for w in lecture.words]
    assert everything["words"][0]["start"] == round(lecture.words[0].start, 3)
    window = shorts_app.client.get(
        f"/api/v1/jobs/{job_id}/transcript", params={"start": 10, "end": 20}
    ).json()["words"]
    assert window and all(w["end"] > 10 and w["start"] < 20 for w in window)
    assert len(window) < len(everything["words"])


def test_no_transcript_before_it_exists_nor_of_another_kind(shorts_app: ShortsApp) -> None:
    queued = shorts_app.client.post(
        "/api/v1/jobs", json={"youtube_url": "http://127.0.0.1:9/x.mp4"}
    ).json()["id"]  # workers are paused: no transcript yet
    early = shorts_app.client.get(f"/api/v1/jobs/{queued}/transcript")
    assert early.status_code == 409
    assert shorts_app.client.get("/api/v1/jobs/nope/transcript").status_code == 404
