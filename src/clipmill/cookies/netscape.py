"""The Netscape cookies.txt format, read strictly.

Browsers' export extensions and ``yt-dlp --cookies`` write one cookie a line, seven fields
separated by tabs::

    domain  include_subdomains  path  secure  expiry  name  value

``#HttpOnly_`` before the domain marks an HttpOnly cookie; other lines starting with ``#`` are
comments. yt-dlp's own reader skips lines it cannot parse with a warning, so a broken export
would fail later as "this video requires login"; here it is a 422 naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass

from clipmill.errors import InvalidRequest, PayloadTooLarge

MAX_COOKIE_FILE_BYTES = 1024 * 1024
HEADER = "# Netscape HTTP Cookie File"
HTTPONLY_PREFIX = "#HttpOnly_"
_FLAGS = frozenset({"TRUE", "FALSE"})
_SECRET_MIN_LENGTH = 6
"""Values shorter than this are flags ("1", "yes"), not worth masking in every log line."""


@dataclass(frozen=True)
class Cookie:
    domain: str
    name: str
    value: str


@dataclass(frozen=True)
class CookieFileText:
    """A validated cookies.txt: the cookie lines, normalised, and what may be shown of them."""

    text: str
    """The header and the cookie lines (comments dropped), as yt-dlp will read them."""
    cookies: tuple[Cookie, ...]

    @property
    def domains(self) -> list[str]:
        return sorted({c.domain for c in self.cookies})

    @property
    def secrets(self) -> frozenset[str]:
        """Values worth masking wherever text might echo them (logs, error messages)."""
        return frozenset(c.value for c in self.cookies if len(c.value) >= _SECRET_MIN_LENGTH)


def invalid(message: str, line: int | None = None) -> InvalidRequest:
    where = f"line {line}: " if line is not None else ""
    details = {"line": line} if line is not None else {}
    return InvalidRequest(
        f"Not a Netscape cookies.txt file: {where}{message}", code="invalid_cookies", **details
    )


def parse_cookie_file(data: bytes) -> CookieFileText:
    """Validate ``data`` as a cookies.txt; InvalidRequest (``invalid_cookies``) naming the line
    of the first problem, PayloadTooLarge over `MAX_COOKIE_FILE_BYTES`."""
    if len(data) > MAX_COOKIE_FILE_BYTES:
        raise PayloadTooLarge(
            f"A cookie file may be at most {MAX_COOKIE_FILE_BYTES} bytes.",
            limit=MAX_COOKIE_FILE_BYTES,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = data[: exc.start].count(b"\n") + 1
        raise invalid("the file is not UTF-8 text", bad_line) from None
    lines: list[str] = [HEADER]
    cookies: list[Cookie] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        if line.startswith("#") and not line.startswith(HTTPONLY_PREFIX):
            continue
        cookies.append(_parse_line(line, number))
        lines.append(line)
    if not cookies:
        raise invalid("it holds no cookies (export them again while signed in)")
    return CookieFileText("\n".join(lines) + "\n", tuple(cookies))


def _parse_line(line: str, number: int) -> Cookie:
    fields = line.split("\t")
    if len(fields) != 7:
        raise invalid(
            f"expected 7 tab-separated fields (domain, include_subdomains, path, secure, "
            f"expiry, name, value), found {len(fields)}",
            number,
        )
    domain, subdomains, path, secure, expiry, name, value = fields
    domain = domain.removeprefix(HTTPONLY_PREFIX)
    if any(ord(ch) < 0x20 or ch == "\x7f" for field in fields for ch in field):
        raise invalid("control characters are not allowed", number)
    bare = domain.lstrip(".")
    if not bare or any(ch.isspace() or ch in "/:@" for ch in bare):
        raise invalid(f"the domain {domain!r} is not a host name", number)
    if subdomains.upper() not in _FLAGS:
        raise invalid("the second field (include_subdomains) must be TRUE or FALSE", number)
    if not path.startswith("/"):
        raise invalid("the third field (path) must start with /", number)
    if secure.upper() not in _FLAGS:
        raise invalid("the fourth field (secure) must be TRUE or FALSE", number)
    if not expiry.isdigit() and expiry != "":
        raise invalid("the fifth field (expiry) must be a Unix time (seconds) or 0", number)
    if not name.strip():
        raise invalid("the sixth field (name) is empty", number)
    return Cookie(domain=bare.lower(), name=name, value=value)
