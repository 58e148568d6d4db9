"""Fixtures for tests that start real beat processes."""

from tests.support.beat import beat_redis, beats, probe_queue  # noqa: F401
