"""ASGI middleware at the edge: request size limits and ``OPTIONS`` answered from the routes.

* Headers larger than ``max_header_bytes`` in total: 431, before any route runs.
* A body larger than ``max_body_bytes``: 413 as soon as that is known (a ``Content-Length``
  over the limit is refused before a byte is read; a chunked body when it passes the limit),
  so a 200 MB JSON document never reaches the JSON parser. The upload route has a limit of its
  own (``max_upload_size``) and streams to disk.
* ``OPTIONS`` on a path some route serves: 204 with ``Allow`` naming its methods; else 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clipmill.api.errors import error_response

#: routes whose bodies are files, with their own limit and streaming
UPLOAD_PATHS = frozenset({"/api/v1/jobs/upload"})


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes
        self.max_headers = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if sum(len(k) + len(v) + 4 for k, v in headers) > self.max_headers:
            if scope["type"] == "http":
                response = error_response(
                    431, "headers_too_large", f"Request headers over {self.max_headers} bytes."
                )
                await response(scope, receive, send)
            else:  # a websocket handshake: refuse it
                await send({"type": "websocket.close", "code": 1009})
            return
        if scope["type"] != "http" or scope["path"] in UPLOAD_PATHS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(headers)
        if declared is not None and declared > self.max_body:
            await self._refuse(scope, receive, send)
            return
        received = 0
        overflow = False

        async def limited_receive() -> Message:
            # past the limit the app sees the body end there (so nothing more is buffered)
            # and whatever it answers is replaced by the 413 below
            nonlocal received, overflow
            if overflow:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    overflow = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def checked_send(message: MutableMapping[str, Any]) -> None:
            if not overflow:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(scope, receive, send)

        await self.app(scope, limited_receive, checked_send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "payload_too_large", f"The request body is over {self.max_body} bytes."
        )
        await response(scope, receive, send)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for key, value in headers:
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class OptionsFromRoutes:
    """``OPTIONS`` answers with the methods the API's operations offer for the path.

    The index comes from the OpenAPI description (the one list of routes that every version of
    the framework exposes the same way), plus the few routes kept out of it.
    """

    def __init__(
        self,
        app: ASGIApp,
        spec: Callable[[], dict[str, Any]],
        extra: dict[str, set[str]] | None = None,
    ) -> None:
        self.app = app
        self.spec = spec
        self.extra = extra or {}
        self._index: list[tuple[re.Pattern[str], set[str]]] | None = None

    def _methods(self, path: str) -> set[str] | None:
        if self._index is None:
            paths = {
                template: {m.upper() for m in operations}
                for template, operations in self.spec().get("paths", {}).items()
            }
            for template, methods in self.extra.items():
                paths.setdefault(template, set()).update(methods)
            self._index = [(_template_regex(t), m) for t, m in paths.items()]
        found: set[str] = set()
        matched = False
        for pattern, methods in self._index:
            if pattern.fullmatch(path):
                matched = True
                found |= methods
        if not matched:
            return None
        if "GET" in found:
            found.add("HEAD")
        return found | {"OPTIONS"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = self._methods(scope["path"])
        response: Response
        if methods is None:
            response = error_response(404, "not_found", "Not Found")
        else:
            response = Response(status_code=204, headers={"Allow": ", ".join(sorted(methods))})
        await response(scope, receive, send)


def _template_regex(template: str) -> re.Pattern[str]:
    """``/api/v1/jobs/{job_id}`` -> a regex matching one path segment per parameter; a
    template ending in ``/*`` (a mount) matches everything below it."""
    if template.endswith("/*"):
        return re.compile(re.escape(template[:-2]) + r"(/.*)?")
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))
