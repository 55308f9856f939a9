"""The optional LLM ranker against a fake OpenAI-compatible endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from clipmill.config import Settings
from clipmill.shorts import ClipPlanOptions, LlmRanker, RankSource, plan_clips
from clipmill.shorts.llm import completions_url, parse_answer
from clipmill.shorts.transcript import Transcript

Reply = Callable[[dict[str, Any]], tuple[int, str]]


class FakeLlm:
    """A chat-completions endpoint whose answer each test decides."""

    def __init__(self) -> None:
        self.reply: Reply = lambda body: (500, "")
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "body": body,
                                      "auth": self.headers.get("Authorization")})  # fmt: skip
                time.sleep(fake.delay)
                status, payload = fake.reply(body)
                data = payload.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def chat(self, content: str) -> Reply:
        return lambda body: (200, json.dumps({"choices": [{"message": {"content": content}}]}))


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    thread.join(timeout=5)


def candidate_ids(request: dict[str, Any]) -> list[str]:
    user = request["body"]["messages"][-1]["content"]
    return [c["id"] for c in json.loads(user.rsplit("\n\n", 1)[1])]


def test_good_answer_reorders_and_retitles(
    fake_llm: FakeLlm, script_transcript: Transcript
) -> None:
    local = plan_clips(script_transcript, options=ClipPlanOptions(max_clips=2))

    def answer(body: dict[str, Any]) -> tuple[int, str]:
        ids = candidate_ids({"body": body})
        chosen = [{"id": ids[-1], "title": "The best one", "hashtags": ["#Best", "wow tag"]},
                  {"id": ids[0], "title": "Runner-up"}]  # fmt: skip
        return fake_llm.chat("Sure!\n```json\n" + json.dumps({"clips": chosen}) + "\n```")(body)

    fake_llm.reply = answer
    ranker = LlmRanker(fake_llm.url, "test-model", "secret", timeout=5)
    plan = plan_clips(script_transcript, options=ClipPlanOptions(max_clips=2), ranker=ranker)

    request = fake_llm.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer secret"
    assert request["body"]["model"] == "test-model"
    assert len(candidate_ids(request)) > 2  # it chooses among more than it returns
    assert plan.ranked_by is RankSource.LLM
    assert [c.title for c in plan.clips] == ["The best one", "Runner-up"]
    assert plan.clips[0].hashtags == ("#best", "#wowtag")
    assert plan.clips[1].first_sentence == local.clips[0].first_sentence
    assert plan.clips[0].reason.startswith("Picked by the language model.")
    assert [c.clip_id for c in plan.clips] == ["clip-01", "clip-02"]


@pytest.mark.parametrize(
    "content",
    [
        "I think the second one is best.",
        '{"clips": [{"id": "nope", "title": "Made up"}]}',
        '{"clips": [{"id": "c1"}, {"id": "c1"}]}',
        '{"clips": "c1"}',
        '{"clips": []}',
    ],
)
def test_garbage_answers_leave_the_local_plan(
    fake_llm: FakeLlm, script_transcript: Transcript, content: str
) -> None:
    local = plan_clips(script_transcript)
    fake_llm.reply = fake_llm.chat(content)

    plan = plan_clips(script_transcript, ranker=LlmRanker(fake_llm.url, "m", timeout=5))

    assert fake_llm.requests
    assert plan.ranked_by is RankSource.LOCAL
    assert plan.clips == local.clips


def test_non_json_body_and_server_errors_are_ignored(
    fake_llm: FakeLlm, script_transcript: Transcript
) -> None:
    local = plan_clips(script_transcript)
    for reply in (lambda body: (200, "<html>oops</html>"), lambda body: (503, "{}")):
        fake_llm.reply = reply
        plan = plan_clips(script_transcript, ranker=LlmRanker(fake_llm.url, "m", timeout=5))
        assert plan.clips == local.clips


def test_slow_endpoint_times_out_and_is_ignored(
    fake_llm: FakeLlm, script_transcript: Transcript
) -> None:
    local = plan_clips(script_transcript)
    fake_llm.delay = 1.0
    fake_llm.reply = fake_llm.chat('{"clips": [{"id": "c2"}]}')

    plan = plan_clips(script_transcript, ranker=LlmRanker(fake_llm.url, "m", timeout=0.2))

    assert plan.ranked_by is RankSource.LOCAL
    assert plan.clips == local.clips


def test_unreachable_endpoint_is_ignored(script_transcript: Transcript) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    local = plan_clips(script_transcript)

    plan = plan_clips(script_transcript, ranker=LlmRanker(f"http://127.0.0.1:{port}", "m"))

    assert plan.ranked_by is RankSource.LOCAL
    assert plan.clips == local.clips


def test_ranker_is_off_unless_configured() -> None:
    assert LlmRanker.from_settings(Settings()) is None
    ranker = LlmRanker.from_settings(Settings(llm_url="http://llm.local/v1", llm_model="x"))
    assert ranker is not None and ranker.url == "http://llm.local/v1/chat/completions"


def test_urls_and_answers_are_parsed_leniently() -> None:
    assert completions_url("http://h:1") == "http://h:1/v1/chat/completions"
    assert completions_url("http://h:1/v1/chat/completions") == "http://h:1/v1/chat/completions"
    assert parse_answer('{"clips": [{"id": "c1", "title": "T"}]}')[0].title == "T"  # type: ignore[index]
    assert parse_answer("no json here") is None
