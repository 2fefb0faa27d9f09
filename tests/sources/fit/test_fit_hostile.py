"""Hostile values in FIT files (docs/fit.md, "Hostile values"): each rule on a synthetic run
written by `sources.fit.synthetic.tampered_run_bytes`, through `decode_fit` on both paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sources.fit.clean import MAX_GPS_SPEED_MPS
from sources.fit.decode import decode_fit
from sources.fit.fast import decode_messages
from sources.fit.model import DecodedFile, NotAnActivity
from sources.fit.normalize import normalize
from sources.fit.outcome import SKIPPED, decode_to_outcome
from sources.fit.synthetic import ITEN, run_bytes, tampered_run_bytes

START = datetime(2025, 3, 14, 6, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def decoded_both_ways(data: bytes, now: datetime = NOW) -> DecodedFile:
    """`decode_fit` on the fast path; the reference path must clean to the same rows and flags."""
    fast = decode_fit(data, now=now)
    reference = decode_fit(data, now=now, use_fast=False)
    assert fast.decoder == "fast" and reference.decoder != "fast"
    assert [s.quality_flags for s in fast.sessions] == [s.quality_flags for s in reference.sessions]
    for a, b in zip(fast.sessions, reference.sessions, strict=True):
        assert_frame_equal(a.records, b.records)
    return fast


def test_a_normal_run_is_not_touched() -> None:
    data = run_bytes(START)
    decoded = decoded_both_ways(data)
    assert decoded.sessions[0].quality_flags is None
    # the same samples as the normalised frame before cleaning
    raw = normalize(decode_messages(data), decoder="fast")
    assert_frame_equal(decoded.sessions[0].records, raw.sessions[0].records)


def test_heart_rate_0_and_implausible_values_become_null_rows_kept() -> None:
    def tamper(s):
        s.hr_bpm[10] = 0
        s.hr_bpm[11] = 250  # above 240
        s.hr_bpm[12] = 20  # below 25
        s.hr_bpm[13] = 255  # FIT's invalid value: the decoders already give null

    clean = run_bytes(START)
    decoded = decoded_both_ways(tampered_run_bytes(START, tamper))
    records = decoded.sessions[0].records
    assert records.height == decode_fit(clean).sessions[0].records.height
    assert records["hr_bpm"][10:14].to_list() == [None, None, None, None]
    assert records["hr_bpm"][14] is not None
    assert decoded.sessions[0].quality_flags == "hr_out_of_range=3"


def test_running_speed_above_12_mps_becomes_null() -> None:
    def tamper(s):
        s.speed_mps[50:53] = 30.0

    records = decoded_both_ways(tampered_run_bytes(START, tamper)).sessions[0]
    assert records.records["speed_mps"][50:53].to_list() == [None, None, None]
    assert records.records["speed_mps"][53] < 12
    assert records.quality_flags == "speed_too_high=3"


def test_a_gps_fix_on_another_continent_is_nulled_but_a_run_far_from_home_is_fine() -> None:
    def teleport(s):
        s.lat_deg[200], s.lon_deg[200] = -33.86, 151.21  # Sydney, for one second

    session = decoded_both_ways(tampered_run_bytes(START, teleport)).sessions[0]
    assert session.records["lat_deg"][200] is None and session.records["lon_deg"][200] is None
    assert session.records["lat_deg"][199] is not None and session.records["lat_deg"][201] is not None
    assert session.quality_flags == "gps_jump=1"
    kenya = decoded_both_ways(run_bytes(datetime(2025, 3, 14, 6, 30, tzinfo=ZoneInfo(ITEN.timezone)), location=ITEN))
    assert kenya.sessions[0].quality_flags is None
    assert kenya.sessions[0].records["lat_deg"].null_count() == 0
    assert MAX_GPS_SPEED_MPS == 50.0


@pytest.mark.parametrize(
    "start",
    [
        datetime(1990, 1, 2, 8, 0, tzinfo=UTC),  # a clock never set: FIT's 1989 epoch
        NOW + timedelta(days=30),  # in the future
    ],
    ids=["1990", "future"],
)
def test_implausible_start_times_are_flagged_not_quarantined(start: datetime) -> None:
    session = decoded_both_ways(run_bytes(start)).sessions[0]
    assert session.summary["start_time"] == start
    assert session.quality_flags == "implausible_time"


def test_a_start_within_a_day_ahead_is_not_flagged() -> None:
    session = decoded_both_ways(run_bytes(NOW + timedelta(hours=12))).sessions[0]
    assert session.quality_flags is None


def test_a_zero_length_session_is_skipped_with_a_reason() -> None:
    def zero(s):
        s.elapsed_s[:] = 0

    data = tampered_run_bytes(START, zero)
    with pytest.raises(NotAnActivity, match="zero-length session"):
        decode_fit(data, now=NOW)
    with pytest.raises(NotAnActivity, match="zero-length session"):
        decode_fit(data, now=NOW, use_fast=False)
    outcome = decode_to_outcome(data, sha256="x", name="zero.fit", uri="u", athlete_id="me", default_tz="UTC", now=NOW)
    assert outcome.status == SKIPPED and "zero-length" in outcome.reason


def test_a_100_hour_activity_is_kept_and_flagged() -> None:
    def left_running(s):
        s.elapsed_s[-1] += 100 * 3600  # the watch left running (a pause of 100 h before the last sample)

    session = decoded_both_ways(tampered_run_bytes(START, left_running)).sessions[0]
    assert session.summary["elapsed_s"] > 100 * 3600
    assert session.quality_flags == "long_duration"


def test_a_clock_jumping_backwards_nulls_the_backwards_timestamps_only() -> None:
    def set_back(s):
        s.elapsed_s[300:] -= 120  # the watch clock set back 2 minutes at sample 300

    session = decoded_both_ways(tampered_run_bytes(START, set_back)).sessions[0]
    times = session.records["timestamp"]
    # samples 300..418 read 180..298 s, earlier than sample 299's 299 s: null; sample 419 reads
    # 299 s again (a repeat, not backwards) and the clock goes on from there
    assert times[300:419].null_count() == 119
    assert times[419] is not None and times[299] is not None and times.null_count() == 119
    assert times.drop_nulls().is_sorted()
    assert session.records["distance_m"][300:419].null_count() == 0  # the rows and values stay
    assert session.quality_flags == "clock_backwards=119"


def test_flags_reach_the_activities_row() -> None:
    def tamper(s):
        s.hr_bpm[10] = 0
        s.speed_mps[20] = 40.0

    outcome = decode_to_outcome(
        tampered_run_bytes(START, tamper), sha256="x", name="bad.fit", uri="u", athlete_id="me", default_tz="UTC", now=NOW
    )
    assert outcome.rows.activities[0]["quality_flags"] == "hr_out_of_range=1; speed_too_high=1"
    records = pl.concat(outcome.rows.records)
    assert records["hr_bpm"][10] is None and np.isnan(records["speed_mps"].fill_null(np.nan)[20])
