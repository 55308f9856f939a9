"""The OpenAPI description, with every error an operation can answer documented.

FastAPI lists only the success status and its own 422 shape. clipmill answers more, always with
`ErrorEnvelope`: which ones follows from what an operation does (takes a body, names a job,
reaches an origin, serves a file), so they are added here from those facts rather than written
on every route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from clipmill.api.auth import is_public
from clipmill.api.errors import ErrorEnvelope
from clipmill.config import AuthMode

_REASONS = {
    400: "Malformed request.",
    401: "No credential, or one that is not valid (`code` says why).",
    403: "The link is invalid or expired, or the account may not do this.",
    404: "No such resource (or not yours).",
    405: "Method not allowed on this path.",
    409: "The job is not in a state that allows this.",
    410: "The file was deleted after the retention period.",
    413: "Request body, upload or media over a limit.",
    416: "The requested range is not satisfiable.",
    422: "The request or the media is not acceptable; `code` says why.",
    429: "Too many requests.",
    431: "Request headers too large.",
    500: "Unexpected server error.",
    502: "The origin failed or answered something unusable.",
    503: "A dependency (database, ffmpeg, model) is unavailable.",
    504: "The origin or the work took longer than allowed.",
    507: "The server's disk is full.",
}
_ALWAYS = {400, 404, 405, 413, 422, 429, 431, 500, 503}
_REACHES_ORIGIN = ("/metadata", "/formats", "/preview", "/playlist/preview", "/channel/info")
_ACCOUNTS = ("/api/auth/", "/api/v1/auth/", "/api/v1/users")
#: how a caller proves who it is (see docs/security.md); public paths need neither
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A login token, or an API key (cm_...) as the bearer value.",
    },
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def _codes(path: str, method: str) -> set[int]:
    codes = set(_ALWAYS)
    if method in ("post", "put", "patch", "delete"):
        codes |= {409, 507}
    if path.endswith(_REACHES_ORIGIN) or method == "post":
        codes |= {502, 504}
    if path.startswith("/files/"):
        codes |= {403, 410, 416}
    if path.endswith("/zip"):
        codes |= {409, 416}
    if not is_public(path):
        codes.add(401)
    if path.startswith(_ACCOUNTS):
        codes.add(403)
    return codes


def install_openapi(app: FastAPI) -> None:
    def schema() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        # operations ask for a credential only where the server does (not with auth=none)
        container = getattr(app.state, "container", None)
        secured = container is not None and container.settings.auth is not AuthMode.NONE
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        components.update(
            ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"]
        )
        envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
        envelope.pop("$defs", None)
        components["ErrorEnvelope"] = envelope
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        spec["components"]["securitySchemes"] = SECURITY_SCHEMES
        ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
        for path, operations in spec.get("paths", {}).items():
            for method, operation in operations.items():
                if secured:
                    public = is_public(path)
                    operation["security"] = [] if public else [{"bearer": []}, {"apiKey": []}]
                responses = operation.setdefault("responses", {})
                for code in sorted(_codes(path, method)):
                    responses[str(code)] = {
                        "description": _REASONS[code],
                        "content": {"application/json": {"schema": ref}},
                    }
        if container is not None:  # before startup the mode is unknown: build again later
            app.openapi_schema = spec
        return spec

    app.openapi = schema  # type: ignore[method-assign]
