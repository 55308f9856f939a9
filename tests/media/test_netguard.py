"""The SSRF guard: address classification, URL checks, and connect-time enforcement."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from clipmill.errors import BlockedAddress, InvalidUrl
from clipmill.media import netguard
from clipmill.media.netguard import NetGuard, classify


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("169.254.0.1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "private"),  # TEST-NET-1
        ("198.18.0.1", "private"),  # benchmarking
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 wrapping 169.254.169.254
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_blocked_addresses(address: str, reason: str) -> None:
    assert classify(address) == reason
    with pytest.raises(BlockedAddress) as caught:
        NetGuard().check_address(address)
    assert caught.value.code == "blocked_address"


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.1",
                "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"],
)  # fmt: skip
def test_public_addresses_pass(address: str) -> None:
    assert classify(address) is None
    NetGuard().check_address(address)


def test_allow_private_lets_everything_through() -> None:
    guard = NetGuard.create(allow_private=True)
    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1"):
        assert guard.blocked_reason(address) is None


def test_allowed_networks_are_exact() -> None:
    guard = NetGuard.create(allowed_networks=["127.0.0.1/32", "10.20.0.0/16"])
    assert guard.blocked_reason("127.0.0.1") is None
    assert guard.blocked_reason("::ffff:127.0.0.1") is None
    assert guard.blocked_reason("10.20.30.40") is None
    assert guard.blocked_reason("127.0.0.2") == "loopback"
    assert guard.blocked_reason("10.21.0.1") == "private"
    assert guard.blocked_reason("169.254.169.254") == "link-local"


def test_bad_allowed_network_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="allowed_networks"):
        NetGuard.create(allowed_networks=["not-a-cidr"])


def test_check_host_resolves_names() -> None:
    with pytest.raises(BlockedAddress):
        NetGuard().check_host("localhost", 80)
    assert NetGuard.create(allow_private=True).check_host("localhost", 80)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("", InvalidUrl),
        ("not a url", InvalidUrl),
        ("example.com/video", InvalidUrl),
        ("http://", InvalidUrl),
        ("http://exa mple.com/", InvalidUrl),
        ("http://example.com:99999/", InvalidUrl),
        ("http://[::1/", InvalidUrl),
        ("ftp://example.com/file.mp4", InvalidUrl),
        ("file:///etc/passwd", InvalidUrl),
        ("data:text/plain,hello", InvalidUrl),
        ("gopher://127.0.0.1:6379/", InvalidUrl),
        ("http://127.0.0.1/", BlockedAddress),
        ("https://[::1]:8443/x", BlockedAddress),
        ("http://169.254.169.254/latest/meta-data/", BlockedAddress),
        ("http://0x7f000001/", BlockedAddress),  # 127.0.0.1 written in hex
        ("http://localhost:8000/", BlockedAddress),
    ],
)
def test_check_url(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        NetGuard().check_url(url)


def test_check_url_accepts_public_literal() -> None:
    assert NetGuard().check_url("https://8.8.8.8/video.mp4") == "https://8.8.8.8/video.mp4"


@pytest.fixture
def listener() -> Iterator[int]:
    """A loopback TCP listener that accepts anything (its port)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_enforce_blocks_at_connect_time(listener: int) -> None:
    with netguard.enforce(NetGuard()) as audit:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", listener), timeout=2)
        # connect() given a name is resolved and checked too
        sock = socket.socket()
        with pytest.raises(ConnectionRefusedError):
            sock.connect(("localhost", listener))
        sock.close()
    assert audit.first is not None
    assert audit.first.code == "blocked_address"
    assert len(audit.blocked) == 2
    # outside the scope the patch is inert
    socket.create_connection(("127.0.0.1", listener), timeout=2).close()


def test_enforce_allows_allowed_networks(listener: int) -> None:
    with netguard.enforce(NetGuard.create(allowed_networks=["127.0.0.1/32"])) as audit:
        socket.create_connection(("127.0.0.1", listener), timeout=2).close()
    assert audit.blocked == []


def test_enforce_is_per_thread(listener: int) -> None:
    outcome: list[str] = []

    def other_thread() -> None:
        try:
            socket.create_connection(("127.0.0.1", listener), timeout=2).close()
            outcome.append("connected")
        except OSError as exc:
            outcome.append(repr(exc))

    with netguard.enforce(NetGuard()):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert outcome == ["connected"]


def test_constructor_takes_cidr_strings() -> None:
    guard = NetGuard(allow_private=False, allowed_networks=["127.0.0.1/32"])  # type: ignore[arg-type]
    assert guard.blocked_reason("127.0.0.1") is None
    assert guard.blocked_reason("127.0.0.2") == "loopback"
