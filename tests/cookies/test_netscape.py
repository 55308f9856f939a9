"""The cookies.txt reader: what it accepts, and a 422 naming the line for what it does not."""

from __future__ import annotations

import pytest

from clipmill.cookies.netscape import MAX_COOKIE_FILE_BYTES, parse_cookie_file
from clipmill.errors import InvalidRequest, PayloadTooLarge
from tests.cookies.support import SECRET, cookies_txt

GOOD = "example.com\tFALSE\t/\tFALSE\t0\tname\tvalue"


def test_a_browser_export_is_read_with_its_domains() -> None:
    parsed = parse_cookie_file(
        cookies_txt(extra="\r\n.Sub.Example.org\tTRUE\t/a\tFALSE\t\tx\t\r\n")
    )
    assert parsed.domains == ["127.0.0.1", "example.com", "sub.example.org"]
    assert len(parsed.cookies) == 3
    assert parsed.text.startswith("# Netscape HTTP Cookie File\n")
    assert "exported for a test" not in parsed.text  # comments dropped, cookies kept
    assert "#HttpOnly_.example.com" in parsed.text
    assert SECRET in parsed.secrets and "" not in parsed.secrets


def test_a_bom_and_crlf_are_fine() -> None:
    parsed = parse_cookie_file(("\ufeff" + GOOD + "\r\n").encode())
    assert [c.name for c in parsed.cookies] == ["name"]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("# comment\n" + GOOD.replace("\t", " "), 2, "7 tab-separated fields"),
        (GOOD + "\n" + "\t".join(["a.com", "FALSE", "/", "FALSE", "0", "n"]), 2, "found 6"),
        (GOOD + "\textra", 1, "found 8"),
        ("a.com\tMAYBE\t/\tFALSE\t0\tn\tv", 1, "include_subdomains"),
        ("a.com\tFALSE\tpath\tFALSE\t0\tn\tv", 1, "path"),
        ("a.com\tFALSE\t/\tyes\t0\tn\tv", 1, "secure"),
        ("a.com\tFALSE\t/\tFALSE\ttomorrow\tn\tv", 1, "expiry"),
        ("a.com\tFALSE\t/\tFALSE\t-5\tn\tv", 1, "expiry"),
        ("a.com\tFALSE\t/\tFALSE\t0\t \tv", 1, "name"),
        ("\tFALSE\t/\tFALSE\t0\tn\tv", 1, "domain"),
        ("a b.com\tFALSE\t/\tFALSE\t0\tn\tv", 1, "domain"),
        ("http://a.com\tFALSE\t/\tFALSE\t0\tn\tv", 1, "domain"),
        ("a.com\tFALSE\t/\tFALSE\t0\tn\tv\x00x", 1, "control characters"),
        ("\n\n" + GOOD + "\n\n{}\n", 5, "found 1"),
    ],
)
def test_malformed_lines_are_422_with_the_line_number(text: str, line: int, words: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_cookie_file(text.encode())
    error = caught.value
    assert error.code == "invalid_cookies" and error.status_code == 422
    assert error.details["line"] == line
    assert f"line {line}:" in error.message and words in error.message


@pytest.mark.parametrize(
    "text", [b"", b"# Netscape HTTP Cookie File\n# nothing else\n", b"\n\n  \n"]
)
def test_a_file_without_cookies_is_refused(text: bytes) -> None:
    with pytest.raises(InvalidRequest, match="no cookies"):
        parse_cookie_file(text)


def test_binary_is_refused_as_not_utf8() -> None:
    with pytest.raises(InvalidRequest, match="line 2: the file is not UTF-8") as caught:
        parse_cookie_file(GOOD.encode() + b"\n\xff\xfe\x00garbage")
    assert caught.value.code == "invalid_cookies"


def test_a_file_over_the_limit_is_413() -> None:
    line = (GOOD + "\n").encode()
    with pytest.raises(PayloadTooLarge):
        parse_cookie_file(line * (MAX_COOKIE_FILE_BYTES // len(line) + 1))
