"""Correcting a misheard word through the API: the stored transcript, the clip's captions and
its title follow, and only the clips that show the word render again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clipmill.shorts.corrections import replace_word
from tests.shorts_api.conftest import ShortsApp
from tests.shorts_api.test_clip_edits import finished_job, renderer
from tests.support.containers import wait_terminal


def _words(app: ShortsApp, job_id: str) -> list[dict[str, Any]]:
    response = app.client.get(f"/api/v1/jobs/{job_id}/transcript")
    assert response.status_code == 200, response.text
    return list(response.json()["words"])


def _inside(clip: dict[str, Any], word: dict[str, Any]) -> bool:
    return clip["start_time"] <= (word["start"] + word["end"]) / 2 <= clip["end_time"]


def _text(app: ShortsApp, url: str) -> str:
    response = app.client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.text


def test_a_corrected_word_reaches_the_clip_captions_title_and_stored_transcript(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    job_id = detail["id"]
    clips = detail["generated_clips"]
    assert len(clips) >= 2
    target = clips[0]
    words = _words(shorts_app, job_id)
    assert [w["index"] for w in words] == list(range(len(words)))
    # a word only the first clip shows, put into its title the way a misheard word ends up there
    word = next(
        w
        for w in words
        if _inside(target, w)
        and not any(_inside(c, w) for c in clips[1:])
        and len(w["text"].strip(".,!?")) > 3
    )
    misheard = word["text"].strip(".,!?")
    title = f"{misheard.capitalize()} fix"
    retitled = shorts_app.client.patch(
        f"/api/v1/jobs/{job_id}/clips/{target['clip_id']}", json={"title": title}
    )
    assert retitled.status_code == 200, retitled.text
    calls_before = len(renderer(shorts_app).calls)

    response = shorts_app.client.patch(
        f"/api/v1/jobs/{job_id}/transcript/words/{word['index']}", json={"text": "Zanzibar"}
    )
    assert response.status_code == 200, response.text
    fix = response.json()
    assert fix["word"] == {**word, "text": "Zanzibar"}
    assert fix["previous_text"] == word["text"]
    assert [c["clip"]["clip_id"] for c in fix["clips"]] == [target["clip_id"]]
    [change] = fix["clips"]
    assert change["clip"]["title"] == "Zanzibar fix"
    assert "Zanzibar" in change["clip"]["transcript_segment"]
    wait_terminal(shorts_app.container, change["render_job_id"])
    render = shorts_app.client.get(f"/api/v1/jobs/{change['render_job_id']}").json()
    assert render["status"] == "completed", render["error"]

    # only the clip that shows the word rendered again, with the word in its burned-in captions
    calls = renderer(shorts_app).calls[calls_before:]
    assert [c.clip_id for c in calls] == [target["clip_id"]]
    assert "Zanzibar" in [w.text for w in calls[0].words]
    after = shorts_app.detail(job_id)
    by_id = {c["clip_id"]: c for c in after["generated_clips"]}
    edited = by_id[target["clip_id"]]
    assert edited["title"] == "Zanzibar fix" and edited["revision"] == change["clip"]["revision"]
    for fmt in ("captions_srt_url", "captions_vtt_url"):
        captions = _text(shorts_app, edited["assets"][fmt])
        assert "Zanzibar" in captions and misheard not in captions.split(), fmt
    for other in clips[1:]:
        assert by_id[other["clip_id"]]["revision"] == other["revision"]
        assert by_id[other["clip_id"]]["assets"]["video_url"]

    # the stored transcript (every format) and the job's text say it too
    assert _words(shorts_app, job_id)[word["index"]]["text"] == "Zanzibar"
    for fmt, url in after["transcript_files"].items():
        assert "Zanzibar" in _text(shorts_app, url), fmt
    sizes = {
        f["url"]: f["size"] for f in after["files"] if f["role"] in ("transcript", "subtitles")
    }
    assert len(sizes) == 4
    for url, size in sizes.items():  # a sized ZIP declares these before reading the bytes
        assert size == len(shorts_app.client.get(url).content), url
    assert "Zanzibar" in after["transcript"]
    assert any("Zanzibar" in s["text"] for s in after["transcript_segments"])


def test_a_word_outside_every_clip_renders_nothing(
    shorts_app: ShortsApp, lecture_mp4: Path
) -> None:
    detail = finished_job(shorts_app, lecture_mp4)
    clips = detail["generated_clips"]
    words = _words(shorts_app, detail["id"])
    outside = [w for w in words if not any(_inside(c, w) for c in clips)]
    if not outside:
        pytest.skip("the plan covers every word")
    calls = len(renderer(shorts_app).calls)
    response = shorts_app.client.patch(
        f"/api/v1/jobs/{detail['id']}/transcript/words/{outside[0]['index']}",
        json={"text": "  fixed \n word "},
    )
    assert response.status_code == 200, response.text
    assert response.json()["clips"] == []
    assert response.json()["word"]["text"] == "fixed word"  # whitespace collapsed
    assert len(renderer(shorts_app).calls) == calls


@pytest.fixture(scope="module")
def one_job(make_module_app: Callable[..., ShortsApp], lecture_mp4: Path) -> tuple[ShortsApp, str]:
    """One finished job for all the refusals (each would otherwise run the pipeline)."""
    app = make_module_app()
    return app, finished_job(app, lecture_mp4)["id"]


@pytest.mark.parametrize(
    ("index", "body", "field"),
    [
        ("100000", {"text": "button"}, "index"),
        ("-1", {"text": "button"}, "index"),
        ("one", {"text": "button"}, "index"),
        ("0", {"text": ""}, "text"),
        ("0", {"text": "   "}, "text"),
        ("0", {"text": "x" * 101}, "text"),
        ("0", {}, "text"),
    ],
)
def test_bad_corrections_are_422_invalid_option(
    one_job: tuple[ShortsApp, str], index: str, body: dict[str, Any], field: str
) -> None:
    app, job_id = one_job
    response = app.client.patch(f"/api/v1/jobs/{job_id}/transcript/words/{index}", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_option"
    fields = {f["field"] for f in error.get("fields", [])} | {error.get("details", {}).get("field")}
    assert field in fields, error


def test_another_users_job_is_not_found_and_unchanged(
    make_shorts_app: Callable[..., ShortsApp], lecture_mp4: Path
) -> None:
    app = make_shorts_app(auth="users")
    detail = finished_job(app, lecture_mp4)
    bob = app.container.accounts.create_user("bob")
    _key, secret = app.container.accounts.create_key(
        app.container.accounts.principal_for(bob.id), "bob's"
    )
    word = _words(app, detail["id"])[0]
    response = app.client.patch(
        f"/api/v1/jobs/{detail['id']}/transcript/words/0",
        json={"text": "mine"},
        headers={"X-API-Key": secret},
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert _words(app, detail["id"])[0] == word


def test_unfinished_jobs_cannot_be_corrected(shorts_app: ShortsApp) -> None:
    assert (
        shorts_app.client.patch("/api/v1/jobs/nope/transcript/words/0", json={"text": "x"})
    ).status_code == 404
    queued = shorts_app.client.post(
        "/api/v1/jobs", json={"youtube_url": "http://127.0.0.1:9/x.mp4"}
    ).json()["id"]  # workers are paused
    response = shorts_app.client.patch(
        f"/api/v1/jobs/{queued}/transcript/words/0", json={"text": "x"}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("title", "old", "new", "expected"),
    [
        ("Month fix", "month", "button", "Button fix"),
        ("Why the MONTH matters", "month,", "button.", "Why the BUTTON matters"),
        ("A monthly month", "month", "button", "A monthly button"),
        ("Nothing here", "month", "button", "Nothing here"),
    ],
)
def test_a_title_follows_the_word_in_its_own_case(
    title: str, old: str, new: str, expected: str
) -> None:
    assert replace_word(title, old, new) == expected
