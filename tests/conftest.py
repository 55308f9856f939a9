"""Shared fixtures. Media and talk fixtures live in tests/support and are registered here."""

pytest_plugins = [
    "tests.support.fixtures_media",
    "tests.support.fixtures_talk",
    "tests.support.fixtures_feeds",
    "tests.support.fixtures_face",
]
