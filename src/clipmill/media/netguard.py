"""SSRF guard: jobs may only reach public addresses unless settings say otherwise.

Checking a URL's host before handing it to yt-dlp is not enough: pages redirect, manifests
point at other hosts, and a name can resolve to a public address once and to 127.0.0.1 the next
time (DNS rebinding). So the guard is enforced where it cannot be bypassed: at ``connect()``, on
the address actually being connected to. ``enforce()`` patches ``socket.socket.connect`` once;
the patch only acts while a guard is active for the current thread (a context variable) or for
the whole process (``enforce_process_wide``, used in the one-job download child where yt-dlp may
start helper threads). Everywhere else it passes straight through.

A blocked connect raises ``ConnectionRefusedError`` (an ``OSError``, which every HTTP stack
handles and reports) and records a ``BlockedAddress`` in the active ``ConnectionAudit`` so the
caller can report ``blocked_address`` however yt-dlp wrapped the failure.

Proxies. Through a proxy, ``connect()`` only ever sees the proxy's address, so the check above
would pass any destination. Environment proxies (``HTTP_PROXY``, ``https_proxy``, ``ALL_PROXY``
...) are therefore ignored everywhere: yt-dlp gets ``proxy=""`` (a direct connection), httpx
``trust_env=False``, and child processes an environment without them (``direct_env``). The
operator's own proxy (``proxy_url``) is allowed at connect time, and every request sent through
it has its destination resolved and checked first (``check_destination``, called for each
request and redirect by ``clipmill.media.proxied``).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import ipaddress
import os
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from clipmill.errors import BlockedAddress, InvalidUrl, UnknownHost

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
ALLOWED_SCHEMES = frozenset({"http", "https"})


def classify(address: IPAddress | str) -> str | None:
    """Why ``address`` must not be reached (``"loopback"``, ``"private"``, ...), or None.

    Addresses that carry an IPv4 address inside IPv6 (mapped, 6to4, Teredo, NAT64) are judged
    by the IPv4 address they lead to.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return classify(inner)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("carrier-grade NAT", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("not globally routable", not ip.is_global),
    )
    return next((reason for reason, hit in checks if hit), None)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True)
class NetGuard:
    """Decides which addresses jobs may connect to.

    ``allowed_networks`` takes CIDR strings (``"127.0.0.1/32"``) or network objects; a bad
    CIDR is a ValueError naming the setting.
    """

    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    proxy_url: str | None = None
    """The operator's proxy: connecting to it is allowed; what goes through it is checked by
    destination (``check_destination``)."""
    user_is_operator: bool = False
    """True without accounts (``auth=none``): whoever reads a blocked-address message runs the
    server, so it names the setting to change; with accounts it says to ask the operator."""

    def __post_init__(self) -> None:
        try:
            networks = tuple(ipaddress.ip_network(n, strict=False) for n in self.allowed_networks)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"allowed_networks: {exc}") from exc
        object.__setattr__(self, "allowed_networks", networks)  # frozen: normalise once

    @classmethod
    def create(
        cls,
        allow_private: bool = False,
        allowed_networks: Iterable[Any] = (),
        proxy_url: str | None = None,
        *,
        user_is_operator: bool = False,
    ) -> NetGuard:
        return cls(allow_private, tuple(allowed_networks), proxy_url or None, user_is_operator)

    @classmethod
    def from_settings(cls, settings: Any) -> NetGuard:
        return cls.create(
            settings.allow_private_networks,
            settings.allowed_networks,
            getattr(settings, "proxy_url", None),
            user_is_operator=str(getattr(settings, "auth", "")) == "none",
        )

    @cached_property
    def _proxy_endpoints(self) -> frozenset[tuple[str, int]]:
        """(address, port) pairs of the operator's proxy; resolved once, it is trusted."""
        if not self.proxy_url:
            return frozenset()
        parts = urllib.parse.urlsplit(self.proxy_url)
        host = parts.hostname or ""
        port = parts.port or (1080 if parts.scheme.lower().startswith("socks") else 8080)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return frozenset()
        return frozenset((str(info[4][0]).split("%")[0], port) for info in infos)

    def is_proxy(self, address: IPAddress | str, port: int) -> bool:
        """True for the operator's proxy (the one address a proxied request connects to)."""
        return (str(address), int(port)) in self._proxy_endpoints

    def blocked_reason(self, address: IPAddress | str) -> str | None:
        """None when ``address`` may be reached, else why not."""
        if self.allow_private:
            return None
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if self._explicitly_allowed(ip):
            return None
        return classify(ip)

    def _explicitly_allowed(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(
            c.version == net.version and c in net
            for c in candidates
            for net in self.allowed_networks
        )

    def check_address(self, address: IPAddress | str, host: str | None = None) -> None:
        reason = self.blocked_reason(address)
        if reason is not None:
            raise self._blocked(address, host, reason)

    def _blocked(self, address: IPAddress | str, host: str | None, reason: str) -> BlockedAddress:
        shown = f"{host} ({address})" if host and host != str(address) else str(address)
        article = "an" if reason[0] in "aeiou" else "a"
        said = f"{shown} is {article} {reason} address, which this server is set not to reach."
        if not self.user_is_operator:
            return BlockedAddress(
                f"{said} Ask the server's operator to allow it if it should be reachable.",
                address=str(address),
            )
        network = ipaddress.ip_network(address)  # the one address, as a CIDR
        return BlockedAddress(
            f"{said} You run this server: to allow it, set "
            f"CLIPMILL_ALLOWED_NETWORKS='[\"{network}\"]' (or "
            "CLIPMILL_ALLOW_PRIVATE_NETWORKS=true to allow every private address) and restart "
            "clipmill.",
            address=str(address),
            setting="CLIPMILL_ALLOWED_NETWORKS",
        )

    def check_host(self, host: str, port: int | None = None) -> list[str]:
        """Resolve ``host``; BlockedAddress if ANY address it resolves to is blocked.

        Returns the resolved addresses. A name that does not resolve is DownloadFailed.
        """
        literal = _ip_literal(host)
        if literal is not None:
            self.check_address(literal, host)
            return [str(literal)]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnknownHost(
                f"The host {host!r} does not resolve; check the address.", host=host
            ) from exc
        addresses = sorted({str(info[4][0]).split("%")[0] for info in infos})
        for address in addresses:
            self.check_address(address, host)
        return addresses

    def check_url(self, url: str, *, resolve: bool = True) -> str:
        """Validate that ``url`` is an http(s) URL with a host we may reach; returns it."""
        host, port = parse_http_url(url)
        if resolve:
            self.check_host(host, port)
        return url


# a host as people type it: a name with a dot (or localhost) or an IP literal, maybe a port
_BARE_HOST = re.compile(
    r"(?:[^\s/?#:@.\[\]]+(?:\.[^\s/?#:@.\[\]]+)+|localhost|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?"
)


def complete_url(url: str) -> str:
    """``url`` with ``https://`` in front when it was left out, as people paste links.

    ``example.com/video``, ``www.site.org/x`` and ``//cdn.site/x`` become https URLs; anything
    with a scheme of its own (``ftp:``, ``file:``, ``data:``, ``javascript:``) and anything whose
    start does not read as a host is returned as it is, for ``parse_http_url`` to refuse.
    """
    if not isinstance(url, str):
        return url
    text = url.strip()
    if text.startswith("//"):
        return "https:" + text
    if "://" in text:
        return text
    host = re.split(r"[/?#]", text, maxsplit=1)[0]
    return "https://" + text if _BARE_HOST.fullmatch(host) else text


def parse_http_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; InvalidUrl for anything else: malformed, or another
    scheme (``file:``, ``ftp:``, ``data:`` ... are never fetched)."""
    if not isinstance(url, str) or not url.strip() or len(url) > 8192:
        raise InvalidUrl("URL is empty or too long")
    if any(ord(ch) < 0x21 or ch == "\x7f" for ch in url.strip()):
        raise InvalidUrl("URL contains spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl(f"malformed URL: {exc}") from exc
    if not parts.scheme:
        raise InvalidUrl("That is not a link: expected an address like https://example.com/video.")
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise InvalidUrl(f"Only http:// and https:// URLs are supported, not {parts.scheme}:.")
    host = parts.hostname
    if not host:
        raise InvalidUrl("URL has no host")
    return host, port or (443 if parts.scheme.lower() == "https" else 80)


def direct_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``environ`` (default: this process's) without proxy variables, for child processes:
    ``HTTP_PROXY``, ``https_proxy``, ``ALL_PROXY``, ``NO_PROXY``... in either case."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if not k.lower().endswith("_proxy")}


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


# --- connect-time enforcement -----------------------------------------------------------------


@dataclass
class ConnectionAudit:
    """What the guard refused while it was active (thread-safe)."""

    blocked: list[BlockedAddress] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, error: BlockedAddress) -> None:
        with self._lock:
            self.blocked.append(error)

    @property
    def first(self) -> BlockedAddress | None:
        with self._lock:
            return self.blocked[0] if self.blocked else None


@dataclass(frozen=True)
class _Scope:
    guard: NetGuard
    audit: ConnectionAudit


_thread_scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(
    "clipmill_netguard_scope", default=None
)
_process_scope: _Scope | None = None
_install_lock = threading.Lock()
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex


def _active_scope() -> _Scope | None:
    return _thread_scope.get() or _process_scope


def _guarded_address(sock: socket.socket, address: Any) -> Any:
    """The address to really connect to, after checking it; raises ConnectionRefusedError."""
    scope = _active_scope()
    if scope is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return address
    host, port = address[0], address[1]
    literal = _ip_literal(str(host))
    if literal is not None and scope.guard.proxy_url and scope.guard.is_proxy(literal, port):
        return address  # what goes through the proxy is checked by destination
    if literal is None:
        # connect() with a name: resolve here and connect to the address we checked, so the
        # check and the connection cannot see different answers
        try:
            infos = socket.getaddrinfo(host, port, sock.family, sock.type)
        except socket.gaierror:
            return address  # let connect() fail in its usual way
        for *_, sockaddr in infos:
            if not (scope.guard.proxy_url and scope.guard.is_proxy(str(sockaddr[0]), port)):
                _check_or_refuse(scope, str(sockaddr[0]), str(host))
        return (infos[0][4][0], port, *address[2:])
    _check_or_refuse(scope, literal, str(host))
    return address


def check_destination(url: str) -> None:
    """Check where a request through a proxy really goes: resolve ``url``'s host and refuse it
    (ConnectionRefusedError, recorded in the audit) unless every address may be reached.

    Does nothing unless a guard is active (``enforce``) for this thread or process.
    """
    scope = _active_scope()
    if scope is None:
        return
    try:
        host, port = parse_http_url(url)
    except InvalidUrl as err:
        raise ConnectionRefusedError(errno.ECONNREFUSED, f"clipmill netguard: {err}") from err
    literal = _ip_literal(host)
    if literal is not None:
        _check_or_refuse(scope, literal, host)
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionRefusedError(
            errno.ECONNREFUSED, f"clipmill netguard: {host} does not resolve"
        ) from exc
    for *_, sockaddr in infos:
        _check_or_refuse(scope, str(sockaddr[0]).split("%")[0], host)


def _check_or_refuse(scope: _Scope, address: IPAddress | str, host: str) -> None:
    try:
        scope.guard.check_address(address, host)
    except BlockedAddress as err:
        scope.audit.record(err)
        raise ConnectionRefusedError(errno.ECONNREFUSED, f"clipmill netguard: {err}") from err


def _connect(self: socket.socket, address: Any) -> None:
    _original_connect(self, _guarded_address(self, address))


def _connect_ex(self: socket.socket, address: Any) -> int:
    return _original_connect_ex(self, _guarded_address(self, address))


def _install() -> None:
    """Patch socket.socket once; the patch is inert unless a scope is active."""
    with _install_lock:
        if socket.socket.connect is not _connect:
            socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]


@contextlib.contextmanager
def enforce(guard: NetGuard) -> Iterator[ConnectionAudit]:
    """Check every outbound TCP connect of the current thread against ``guard``.

    Inside a process-wide scope (the download child), the same audit also receives what other
    threads were refused, so the caller sees every block.
    """
    _install()
    audit = _process_scope.audit if _process_scope is not None else ConnectionAudit()
    token = _thread_scope.set(_Scope(guard, audit))
    try:
        yield audit
    finally:
        _thread_scope.reset(token)


def enforce_process_wide(guard: NetGuard) -> ConnectionAudit:
    """Guard every thread of this process from now on.

    Only for a process that runs one job and nothing else (isolation's child): yt-dlp can open
    connections from threads it starts itself, which a context variable would not follow.
    """
    global _process_scope
    _install()
    _process_scope = _Scope(guard, ConnectionAudit())
    return _process_scope.audit
