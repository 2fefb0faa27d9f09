"""A lake of three athletes for the API tests, built once per session with the real CLI.

`me` (the default athlete, public), `ann` (public, Oslo time) and `bob` (private) each ingest three
synthetic runs in March 2025 and get their marts and public layer built as of 2025-03-31. Tokens
come from the real token store (`pipeline.tokens`). Helpers wait for the API's first snapshot.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from lake import activities as activities_table
from lake import athletes as athletes_table
from lake.storage import Lake
from lake.table import read
from sources.fit.synthetic import interval_segments, write_run

TODAY = dt.date(2025, 3, 31)
NOW = dt.datetime(2025, 3, 31, 12, 0, tzinfo=dt.timezone.utc)
HANDLES = ("me", "ann", "bob")
PUBLIC_HANDLES = ("me", "ann")


@dataclass(frozen=True)
class ThreeAthletes:
    root: Path
    env: dict[str, str]  # RUNLAKE_* of this lake (home, lake, inbox)
    ids: dict[str, str]  # handle → athlete_id

    @property
    def lake(self) -> Lake:
        return Lake.at(self.env["RUNLAKE_LAKE_URI"])


def _write_runs(folder: Path, seed: int, hour: int) -> None:
    start = dt.datetime(2025, 3, 10, hour, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    write_run(folder / "easy.fit", start, 4000, seed=seed)
    write_run(folder / "track.fit", start + dt.timedelta(days=1),
              segments=interval_segments(4, 400, 150, 60, warmup_m=800, cooldown_m=800), seed=seed)
    write_run(folder / "long.fit", start + dt.timedelta(days=5), 12000, seed=seed + 1)


def build_three_athletes(root: Path) -> ThreeAthletes:
    from flows.cli import app

    env = {"RUNLAKE_HOME": str(root / "home"), "RUNLAKE_LAKE_URI": str(root / "lake"),
           "RUNLAKE_INBOX_URI": str(root / "inbox")}

    def run(*args: str) -> None:
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output

    with pytest.MonkeyPatch.context() as mp:  # session scope: no developer setting may leak in
        for name in list(os.environ):
            if name.startswith(("RUNLAKE_", "AWS_")):
                mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        for i, handle in enumerate(HANDLES):
            _write_runs(root / "fit" / handle, seed=10 * i, hour=7 + i)  # no two start at one time
        run("athlete", "add", "ann", "--public", "--timezone", "Europe/Oslo")
        run("athlete", "add", "bob")
        for handle in HANDLES:
            run("ingest", "fit", str(root / "fit" / handle), "--athlete", handle)
            run("gear", "add", f"{handle} daily", "--default", "--athlete", handle)  # worn on every run
            run("gear", "add", f"{handle} spare", "--retire-km", "500", "--athlete", handle)  # never worn
        own = read(Lake.at(env["RUNLAKE_LAKE_URI"]), activities_table.SPEC).filter(pl.col("athlete_id") == "me")
        run("activity", "set", own.sort("start_time")["activity_id"][-1], "--distance-km", "9.5", "--race")  # a correction
        run("marts", "build", "--today", TODAY.isoformat())
    rows = read(Lake.at(env["RUNLAKE_LAKE_URI"]), athletes_table.SPEC)
    ids = dict(rows.select("handle", "athlete_id").iter_rows()) | {"me": "me"}
    assert set(ids) == set(HANDLES)
    return ThreeAthletes(root, env, ids)


def wait_ready(get, timeout_s: float = 60.0) -> None:
    """Until /healthz says the first snapshot is loaded; fails (never skips) when it does not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if get("/healthz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"the API loaded no snapshot within {timeout_s} s")


def rows_of(lake: Lake, spec, **equal) -> pl.DataFrame:
    frame = read(lake, spec)
    for column, value in equal.items():
        frame = frame.filter(pl.col(column) == value)
    return frame


def walk(value):
    """Every key and every scalar of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)
    else:
        yield value
