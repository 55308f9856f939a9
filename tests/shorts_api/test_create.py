"""Starting jobs: the 201 JobStatusResponse, the 422s, and uploads that are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipmill.accounts.principal import LOCAL_USER
from clipmill.jobs.enums import JobKind, JobStatus
from tests.shorts_api.conftest import ShortsApp

URL = "http://127.0.0.1:9/watch?v=talk"  # never fetched: workers stay paused
STATUS_FIELDS = {
    "id", "youtube_url", "job_type", "status", "progress", "priority", "created_at", "updated_at",
}  # fmt: skip


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    return response.json()["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("field", "job_type", "kind"),
    [
        ("youtube_url", "full_processing", JobKind.SHORTS),
        ("source_url", "transcribe_only", JobKind.TRANSCRIBE),
        ("youtube_url", "download_only", JobKind.DOWNLOAD),
    ],
)
def test_a_url_job_answers_201_with_the_job_status_shape(
    shorts_app: ShortsApp, field: str, job_type: str, kind: JobKind
) -> None:
    response = shorts_app.client.post(
        "/api/v1/jobs",
        json={field: URL, "job_type": job_type, "priority": 3,
              "options": {"language": "en", "max_clips": 2}},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == STATUS_FIELDS
    assert (body["youtube_url"], body["job_type"], body["status"], body["priority"]) == (
        URL, job_type, "queued", 3)  # fmt: skip
    assert body["progress"] == 0.0
    job = shorts_app.container.lifecycle.load(body["id"])
    assert job.kind is kind and job.status is JobStatus.QUEUED
    listed = shorts_app.client.get("/api/v1/jobs", params={"job_type": job_type}).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]


def test_defaults_fill_in_the_options(shorts_app: ShortsApp) -> None:
    body = shorts_app.client.post("/api/v1/jobs", json={"youtube_url": URL}).json()
    assert body["job_type"] == "full_processing"
    options = shorts_app.container.lifecycle.load(body["id"]).options
    assert options["shorts"]["whisper_model"] is None
    assert options["shorts"]["aspect_ratios"] == ["9:16"]
    assert (options["url"], options["url_field"]) == (URL, "youtube_url")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"youtube_url": URL, "options": {"whisper_model": "huge-v9"}}, "whisper_model"),
        ({"youtube_url": URL, "source_url": URL}, "youtube_url or source_url"),
        ({"job_type": "full_processing"}, "youtube_url or source_url"),
        ({"youtube_url": URL, "options": {"clip_duration": 90}}, "clip_duration"),
        ({"youtube_url": URL, "options": {"max_clips": 0}}, "max_clips"),
        ({"youtube_url": URL, "options": {"caption_style": "comic-sans"}}, "caption_style"),
        ({"youtube_url": URL, "job_type": "render_everything"}, "job_type"),
        ({"youtube_url": URL, "options": {"surprise": True}}, "surprise"),
    ],
)
def test_bad_requests_are_422_invalid_option_and_create_nothing(
    shorts_app: ShortsApp, payload: dict, field: str
) -> None:
    response = shorts_app.client.post("/api/v1/jobs", json=payload)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_option"
    assert field in error["message"]
    assert shorts_app.client.get("/api/v1/jobs").json()["total"] == 0


def test_an_unknown_model_names_the_available_ones(shorts_app: ShortsApp) -> None:
    response = shorts_app.client.post(
        "/api/v1/jobs", json={"youtube_url": URL, "options": {"whisper_model": "large-v3"}}
    )
    error = error_of(response)
    assert error["details"]["available"] == ["tiny.en"]
    assert "tiny.en" in error["message"]


def test_a_known_model_is_accepted(shorts_app: ShortsApp) -> None:
    response = shorts_app.client.post(
        "/api/v1/jobs", json={"youtube_url": URL, "options": {"whisper_model": "tiny.en"}}
    )
    assert response.status_code == 201, response.text


def test_a_non_http_url_is_refused(shorts_app: ShortsApp) -> None:
    response = shorts_app.client.post("/api/v1/jobs", json={"youtube_url": "file:///etc/passwd"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_url"


def test_an_upload_answers_201_and_stages_the_file_for_its_job(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    response = shorts_app.upload(lecture_mp4, job_type="transcribe_only", priority="2")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == STATUS_FIELDS
    assert (body["youtube_url"], body["job_type"], body["priority"]) == (None, "transcribe_only", 2)
    job = shorts_app.container.lifecycle.load(body["id"])
    assert job.title == "lecture"
    assert job.options["upload"]["size"] == lecture_mp4.stat().st_size
    key = job.options["upload"]["key"]
    assert key.startswith(f"{job.id}/upload/")  # made from the id, never from the name
    staged = shorts_app.container.storage.local_path(key)
    assert staged is not None and staged.read_bytes() == lecture_mp4.read_bytes()
    (stored,) = shorts_app.container.jobs.files(LOCAL_USER, job.id)
    assert (stored.role, stored.name) == ("upload", "lecture.mp4")
    response = shorts_app.client.get(f"/api/v1/jobs/{body['id']}")
    assert response.json()["files"] == []  # the input is not offered back as a result
    detail = response.text
    assert str(shorts_app.container.settings.data_dir) not in detail  # no server paths shown


def test_a_text_file_named_mp4_is_refused_and_nothing_is_left(
    shorts_app: ShortsApp, tmp_path: Path
) -> None:
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is not a video, whatever its name says\n" * 200)
    response = shorts_app.upload(fake)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "unsupported_media"
    assert "holiday.mp4" in error["message"]
    assert shorts_app.uploads_left() == []
    assert shorts_app.client.get("/api/v1/jobs").json()["total"] == 0
    assert list(shorts_app.container.settings.jobs_dir.iterdir()) == []


def test_a_video_without_audio_is_refused(shorts_app: ShortsApp, tmp_path: Path) -> None:
    import subprocess

    silent = tmp_path / "silent.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
         "color=c=red:s=64x64:r=5", "-t", "1", "-c:v", "libx264", "-preset", "ultrafast",
         str(silent)],
        check=True,
    )  # fmt: skip
    response = shorts_app.upload(silent)
    assert response.status_code == 422
    assert error_of(response)["code"] == "unsupported_media"
    assert "no audio" in error_of(response)["message"]
    assert shorts_app.uploads_left() == []


def test_an_upload_over_the_declared_limit_is_413_before_it_is_read(
    make_shorts_app,
    lecture_mp4: Path,  # type: ignore[no-untyped-def]
) -> None:
    app: ShortsApp = make_shorts_app(max_upload_size=10_000)
    response = app.upload(lecture_mp4)
    assert response.status_code == 413
    assert error_of(response)["code"] == "file_too_large"
    assert app.uploads_left() == []
    assert app.client.get("/api/v1/jobs").json()["total"] == 0


def test_a_streamed_upload_over_the_limit_is_413_and_nothing_is_left(
    make_shorts_app,
    lecture_mp4: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Without Content-Length the limit is enforced while the bytes are written."""
    app: ShortsApp = make_shorts_app(max_upload_size=10_000)
    boundary = "clipmill-test-boundary"

    def body():  # type: ignore[no-untyped-def]
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="job_type"\r\n\r\n'
               f"full_processing\r\n").encode()  # fmt: skip
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
               f'filename="lecture.mp4"\r\nContent-Type: video/mp4\r\n\r\n').encode()  # fmt: skip
        data = lecture_mp4.read_bytes()
        for start in range(0, len(data), 4096):
            yield data[start : start + 4096]
        yield f"\r\n--{boundary}--\r\n".encode()

    response = app.client.post(
        "/api/v1/jobs/upload",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413, response.text
    assert error_of(response)["code"] == "file_too_large"
    assert app.uploads_left() == []


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"job_type": "download_only"}, "invalid_option"),
        ({"options": "{not json"}, "invalid_option"),
        ({"options": '{"whisper_model": "nope"}'}, "invalid_option"),
        ({"youtube_url": URL}, "invalid_option"),
    ],
)
def test_bad_upload_fields_are_422_and_nothing_is_left(
    shorts_app: ShortsApp, lecture_mp4: Path, fields: dict[str, str], code: str
) -> None:
    data = {"job_type": "full_processing", **fields}
    with lecture_mp4.open("rb") as handle:
        response = shorts_app.client.post(
            "/api/v1/jobs/upload", data=data, files={"file": ("a.mp4", handle, "video/mp4")}
        )
    assert response.status_code == 422, response.text
    assert error_of(response)["code"] == code
    assert shorts_app.uploads_left() == []


def test_an_upload_without_a_file_is_refused(shorts_app: ShortsApp) -> None:
    response = shorts_app.client.post(
        "/api/v1/jobs/upload", files={"job_type": (None, "full_processing")}
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_upload"
    json_body = shorts_app.client.post("/api/v1/jobs/upload", json={"job_type": "x"})
    assert error_of(json_body)["code"] == "invalid_upload"


def test_a_cancelled_upload_job_keeps_its_upload_for_a_retry(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    job_id = shorts_app.upload(lecture_mp4, job_type="transcribe_only").json()["id"]
    response = shorts_app.client.post(f"/api/v1/jobs/{job_id}/cancel", json={"reason": "oops"})
    assert response.json()["status"] == "cancelled"
    assert shorts_app.uploads_left() != []
    shorts_app.client.post(f"/api/v1/jobs/{job_id}/retry", json={"force": True})
    shorts_app.start_workers()
    assert shorts_app.wait(job_id)["status"] == "completed"
    assert shorts_app.uploads_left() == []  # a completed job cannot be retried: upload gone


def test_stale_staged_uploads_are_swept_when_jobs_end(
    make_shorts_app,
    lecture_mp4: Path,  # type: ignore[no-untyped-def]
) -> None:
    app: ShortsApp = make_shorts_app(retention_seconds=0)
    job_id = app.upload(lecture_mp4).json()["id"]
    app.client.post(f"/api/v1/jobs/{job_id}/cancel")
    assert app.uploads_left() == []  # cancelled and past a zero retention


@pytest.mark.parametrize("language", ["de", "fr"])
def test_a_language_the_model_cannot_hear_is_422_naming_what_it_can(
    shorts_app: ShortsApp, language: str
) -> None:
    """The bundled model is English-only: asking for German must not silently give English."""
    response = shorts_app.client.post(
        "/api/v1/jobs", json={"youtube_url": URL, "options": {"language": language}}
    )
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "invalid_option"
    assert repr(language) in error["message"]
    assert error["details"]["languages"] == ["en"]
    for fine in ("en", None):
        ok = shorts_app.client.post(
            "/api/v1/jobs", json={"youtube_url": URL, "options": {"language": fine}}
        )
        assert ok.status_code == 201, (fine, ok.text)
