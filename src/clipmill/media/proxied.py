"""Destination checks for yt-dlp requests that go through the operator's proxy.

With ``proxy_url`` set, every connection yt-dlp opens goes to the proxy, so the connect-time
guard (`clipmill.media.netguard`) sees only the proxy's address. yt-dlp sends network requests
through its ``requests`` handler (`clipmill.media.fetchlimits` keeps it that way), whose adapter
picks a connection for every request and every redirect hop (``requests`` follows redirects by
sending each hop through the adapter again). `install` wraps that choice: when a proxy is
chosen, the destination URL is resolved and checked with `netguard.check_destination` first,
so a blocked destination is refused before the proxy hears of it. Outside a guard scope the
wrapper passes straight through.

The proxy resolves the name again itself; a name whose answers change between the two lookups
(DNS rebinding) can still reach what the proxy can. Operators who need that closed run the
proxy with the same blocked ranges (see docs/cookies.md, "Proxies").
"""

from __future__ import annotations

import threading
from typing import Any

from clipmill.media import netguard

_installed = False
_lock = threading.Lock()


def install() -> None:
    """Wrap yt-dlp's requests adapter once (idempotent, inert without an active guard)."""
    global _installed
    with _lock:
        if _installed:
            return
        from requests.exceptions import ConnectionError as RequestsConnectionError
        from requests.utils import select_proxy
        from yt_dlp.networking._requests import RequestsHTTPAdapter

        original = RequestsHTTPAdapter.get_connection_with_tls_context

        def checked(
            self: Any, request: Any, verify: Any, proxies: Any = None, cert: Any = None
        ) -> Any:
            if proxies and select_proxy(request.url, proxies):
                try:
                    netguard.check_destination(request.url)
                except ConnectionRefusedError as exc:  # reported like a refused connect
                    raise RequestsConnectionError(exc, request=request) from exc
            return original(self, request, verify, proxies=proxies, cert=cert)

        RequestsHTTPAdapter.get_connection_with_tls_context = checked
        _installed = True
