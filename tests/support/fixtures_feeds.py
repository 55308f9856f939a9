"""Pytest plugin: RSS feeds and a fake channel site on a local server (see ``feeds``).

Fixtures:
    feed_site    (session) FeedSite: .feed(), .numbered_feed(), .channel(), .media(), .url()
    feed_server  (session) the MediaServer behind it (request log: ``.requests_for(suffix)``)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.feeds import FeedSite, make_tiny_mp4
from tests.support.media_server import MediaServer


@pytest.fixture(scope="session")
def feed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    root = tmp_path_factory.mktemp("feeds")
    make_tiny_mp4(root / "tiny.mp4")
    with MediaServer(root) as server:
        yield server


@pytest.fixture(scope="session")
def feed_site(feed_server: MediaServer) -> FeedSite:
    return FeedSite(feed_server.root, feed_server.base_url)
