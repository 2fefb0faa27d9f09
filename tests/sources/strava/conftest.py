"""Fixtures for the Strava tests: a clean environment, a fake Strava server, settings and a lake."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from lake import activities, laps, records, strava_state
from lake.storage import Lake
from lake.table import read, table_exists
from runlake.settings import Settings
from sources.fit.synthetic import write_run
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No RUNLAKE_*/STRAVA_* from the machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith(("RUNLAKE_", "STRAVA_")):
            monkeypatch.delenv(name)


@pytest.fixture
def make_fake() -> Iterator[Callable[..., FakeStrava]]:
    started: list[FakeStrava] = []

    def factory(count: int = 0, *, duration_s: int = 240, **kwargs) -> FakeStrava:
        fake = FakeStrava(make_history(count, duration_s=duration_s) if count else [], **kwargs).start()
        started.append(fake)
        return fake

    yield factory
    for fake in started:
        fake.stop()


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    def build(fake: FakeStrava, refresh_token: str | None = None, **overrides) -> Settings:
        values = dict(
            home=tmp_path / "home",
            lake_uri=str(tmp_path / "lake"),
            strava_url=fake.url,
            strava_client_id=fake.client_id,
            strava_client_secret=fake.client_secret,
            strava_refresh_token=refresh_token,
            strava_max_retries=4,
        )
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake.at(str(tmp_path / "lake"))


def no_sleep(seconds: float) -> None:
    """Backoff pauses skipped in tests (the retry logic still runs)."""


def tables(lake: Lake) -> dict[str, pl.DataFrame]:
    specs = [activities.SPEC, laps.SPEC, records.SPEC, strava_state.ACTIVITIES, strava_state.SYNC]
    return {s.name: read(lake, s) for s in specs if table_exists(lake, s)}


def leaked(fake: FakeStrava, texts: list[str]) -> list[str]:
    """Every issued token or the client secret found in any of `texts`."""
    secrets = fake.issued_tokens + [fake.client_secret]
    return [s for s in secrets for t in texts if s in t]


def table_texts(lake: Lake) -> list[str]:
    return [frame.write_csv() for frame in tables(lake).values()]


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


#: The start of the watch file `race.fit` of `watch_files` (Strava 701 in the tests that use it).
WATCH_T0 = datetime(2025, 4, 7, 5, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def watch_files(tmp_path_factory) -> Path:
    """race.fit (the watch file of Strava 701 in these tests) and plain.fit (never on Strava)."""
    root = tmp_path_factory.mktemp("watch")
    write_run(root / "race.fit", WATCH_T0, 5000, seed=1)
    write_run(root / "plain.fit", WATCH_T0 + timedelta(days=2), 3000, seed=3)
    return root
