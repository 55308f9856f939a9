"""One error envelope for every error: ``{"error": {"code": ..., "message": ...}}``.

Every route answers it, whatever went wrong: a `ClipmillError` with its stable code, a request
that does not validate (422 ``invalid_option``), an HTTP error of the framework (404, 405...),
and a bug (500 ``internal_error``, with the traceback in the server log and not in the answer).
Messages are redacted: users never see server paths or memory addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from clipmill.errors import ClipmillError
from clipmill.observability.redact import redact

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    416: "range_not_satisfiable",
    429: "rate_limited",
    431: "headers_too_large",
}


class FieldError(BaseModel):
    field: str | None
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] | None = None
    fields: list[FieldError] | None = None


class ErrorEnvelope(BaseModel):
    """What every error response carries."""

    error: ErrorBody


def envelope(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(envelope(code, message, **extra), status_code=status, headers=headers)


async def _clipmill_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClipmillError)
    details = {"details": exc.details} if exc.details else {}
    retry_after = exc.details.get("retry_after")
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(
        exc.status_code, exc.code, redact(exc.message), headers=headers, **details
    )


def validation_response(errors: list[Any]) -> JSONResponse:
    fields = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path")]
        fields.append({"field": ".".join(loc) or None, "message": err.get("msg", "invalid")})
    summary = "; ".join(
        f"{f['field']}: {f['message']}" if f["field"] else f["message"] for f in fields
    )
    return error_response(422, "invalid_option", summary or "Invalid request.", fields=fields)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    return validation_response(list(exc.errors()))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "Something went wrong on the server.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClipmillError, _clipmill_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
