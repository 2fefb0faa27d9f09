"""Fixtures shared with the Strava tests: the fake Strava server and settings pointing at it."""

from tests.sources.strava.conftest import make_fake, settings_for  # noqa: F401  fixtures
