"""Optional LLM ranker: an OpenAI-compatible chat model re-orders and retitles the local picks.

Off unless ``settings.llm_url`` is set. The model only sees the local top candidates and may only
answer with their ids, so it can re-rank but never invent cut points. Anything short of a clean
answer (server down, timeout, non-JSON, unknown or repeated ids) is logged and ignored: the
local plan stands unchanged, because a missing nicety must never fail a job.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, Field, ValidationError

from clipmill.config import Settings
from clipmill.shorts.clips import Clip
from clipmill.shorts.titles import hashtag

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 1200
MAX_TITLE_CHARS = 100
MAX_HASHTAGS = 8

SYSTEM_PROMPT = (
    "You are an editor choosing moments from a long video to publish as vertical shorts. "
    "Judge each candidate as a stand-alone clip: a strong opening hook, a complete thought, "
    "and something worth sharing. Answer with JSON only."
)


@dataclass(frozen=True)
class RankerChoice:
    """One clip the ranker kept, best first, with its suggested title and hashtags."""

    clip_id: str
    title: str = ""
    hashtags: tuple[str, ...] = ()


class ClipRanker(Protocol):
    """Re-orders candidate clips; ``None`` means "no opinion" and keeps the local order."""

    def rerank(self, clips: Sequence[Clip]) -> list[RankerChoice] | None: ...


class _AnswerClip(BaseModel):
    id: str
    title: str = ""
    hashtags: list[str] = Field(default_factory=list)


class _Answer(BaseModel):
    clips: list[_AnswerClip]


def apply_choices(
    clips: Sequence[Clip], choices: Sequence[RankerChoice] | None
) -> list[Clip] | None:
    """Re-order and retitle ``clips`` by ``choices``; None when the choices are unusable."""
    if not choices:
        return None
    by_id = {clip.clip_id: clip for clip in clips}
    ids = [choice.clip_id for choice in choices]
    if len(set(ids)) != len(ids) or any(i not in by_id for i in ids):
        log.warning("clip ranker answered with unknown or repeated ids: %s", ids)
        return None
    chosen: list[Clip] = []
    for choice in choices:
        clip = by_id[choice.clip_id]
        title = " ".join(choice.title.split())[:MAX_TITLE_CHARS] or clip.title
        tags = tuple(dict.fromkeys(h for h in (hashtag(t) for t in choice.hashtags) if h))
        chosen.append(
            replace(
                clip,
                title=title,
                hashtags=tags[:MAX_HASHTAGS] or clip.hashtags,
                reason=f"Picked by the language model. {clip.reason}",
            )
        )
    rest = [clip for clip in clips if clip.clip_id not in set(ids)]
    return chosen + rest


def parse_answer(content: str) -> list[RankerChoice] | None:
    """Pull the JSON object out of a chat answer (tolerating code fences and chatter)."""
    match = re.search(r"\{.*\}", content, flags=re.DOTALL)
    if match is None:
        return None
    try:
        answer = _Answer.model_validate(json.loads(match.group(0)))
    except (ValueError, ValidationError):
        return None
    return [RankerChoice(c.id, c.title, tuple(c.hashtags)) for c in answer.clips] or None


def completions_url(base: str) -> str:
    base = base.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


class LlmRanker:
    """Asks an OpenAI-compatible ``/v1/chat/completions`` endpoint to rank the candidates."""

    def __init__(
        self,
        url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = completions_url(url)
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def from_settings(cls, settings: Settings, *, timeout: float = 30.0) -> LlmRanker | None:
        """The configured ranker, or None when no endpoint is set (the default)."""
        if not settings.llm_url:
            return None
        return cls(settings.llm_url, settings.llm_model or "default", settings.llm_api_key,
                   timeout=timeout)  # fmt: skip

    def request_body(self, clips: Sequence[Clip]) -> dict[str, Any]:
        candidates = [
            {
                "id": clip.clip_id,
                "duration_seconds": round(clip.duration, 1),
                "local_score": round(clip.score, 3),
                "text": clip.transcript_segment[:MAX_TEXT_CHARS],
            }
            for clip in clips
        ]
        instructions = (
            "Rank these candidate clips from best to worst. Reply with a JSON object "
            '{"clips": [{"id": "<candidate id>", "title": "<catchy title, max 80 chars>", '
            '"hashtags": ["#tag", ...]}]} listing only ids from the candidates, best first.'
        )
        return {
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": instructions + "\n\n" + json.dumps(candidates)},
            ],
        }

    def rerank(self, clips: Sequence[Clip]) -> list[RankerChoice] | None:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with httpx.Client(
                timeout=self.timeout, transport=self.transport, trust_env=False
            ) as client:
                response = client.post(self.url, json=self.request_body(clips), headers=headers)
                response.raise_for_status()
                content = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("clip ranker unavailable (%s); keeping the local ranking", exc)
            return None
        if not isinstance(content, str):
            return None
        choices = parse_answer(content)
        if choices is None:
            log.warning("clip ranker answered without usable JSON; keeping the local ranking")
        return choices
