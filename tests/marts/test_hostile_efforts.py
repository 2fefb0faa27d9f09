"""A GPS teleport in a real-looking FIT run does not poison the best efforts (docs/marts.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from marts.efforts import WORLD_RECORD_S, best_efforts, fastest_stretch
from sources.fit.outcome import INGESTED, decode_to_outcome
from sources.fit.synthetic import tampered_run_bytes

START = datetime(2025, 3, 14, 6, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))


def teleport(samples) -> None:
    """275 m added to the distance in one second at sample 600 (the position jumps too)."""
    samples.distance_m[600:] += 275.0
    samples.lat_deg[600:] += 275.0 / 111_320.0


def test_a_teleport_that_makes_a_30_second_400m_is_searched_around():
    outcome = decode_to_outcome(
        tampered_run_bytes(START, teleport, 5000.0, 240.0),
        sha256="x", name="teleport.fit", uri="u", athlete_id="me", default_tz="UTC", now=datetime(2025, 6, 1, tzinfo=UTC),
    )
    assert outcome.status == INGESTED
    activity = outcome.rows.activities[0]
    records = pl.concat(outcome.rows.records)
    stream = records.filter(pl.col("timestamp").is_not_null() & pl.col("distance_m").is_not_null()).sort("timestamp", "seq")
    t = stream["timestamp"].dt.epoch("us").to_numpy() / 1e6
    raw = fastest_stretch(t, np.maximum.accumulate(stream["distance_m"].to_numpy()), 400.0)
    assert raw is not None and raw[0] < 35.0 < WORLD_RECORD_S["400m"]  # what the jump alone gives
    runs = pl.LazyFrame(
        {"activity_id": [activity["activity_id"]], "athlete_id": ["me"], "start_time": [activity["start_time"]], "date": [START.date()]}
    )
    efforts = best_efforts(records.lazy(), runs).collect()
    by_effort = dict(zip(efforts["effort"], efforts["elapsed_s"], strict=True))
    # the 400 m is kept, at the run's real pace (240 s/km: ~96 s), and so is the 1 km (~240 s)
    assert 85.0 < by_effort["400m"] < 105.0
    assert 220.0 < by_effort["1k"] < 260.0
