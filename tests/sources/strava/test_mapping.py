"""Strava JSON → lake rows: times and offsets, sports, rescaled distances, cadence, dtypes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from lake import activities, laps, records
from sources.strava import mapping
from sources.strava.errors import StravaPayloadError
from sources.strava.sports import fit_sport

REPO = Path(__file__).resolve().parents[3]
#: ../shared beside the clone (or beside the worktrees' folder, for a git worktree)
SAMPLES = next((p / "shared" / "data" / "strava" for p in (REPO.parent, REPO.parent.parent) if (p / "shared" / "data" / "strava").is_dir()), REPO.parent / "shared" / "data" / "strava")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def detail(**over) -> dict:
    base = {
        "id": 7,
        "name": "Morning Run",
        "sport_type": "Run",
        "start_date": "2024-03-31T00:30:00Z",
        "start_date_local": "2024-03-31T01:30:00Z",
        "distance": 1000.0,
        "elapsed_time": 300,
        "moving_time": 290,
        "average_cadence": 88.0,
        "average_heartrate": 150.0,
        "private": False,
    }
    return base | over


@pytest.mark.parametrize(
    ("start", "local", "offset"),
    [
        ("2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z", 3600),  # Zurich, just before the DST switch
        ("2024-03-31T01:30:00Z", "2024-03-31T03:30:00Z", 7200),  # just after it
        ("2024-06-30T20:00:00Z", "2024-07-01T10:00:00Z", 50400),  # Kiribati +14: another local day
        ("2024-06-30T20:00:00Z", "2024-07-01T01:45:00Z", 20700),  # Nepal +5:45
        ("2024-11-03T05:30:00Z", "2024-11-03T01:30:00Z", -14400),  # New York, before fall back
        ("2024-11-03T06:30:00Z", "2024-11-03T01:30:00Z", -18000),  # same wall time, after it
    ],
)
def test_start_time_is_utc_and_offset_comes_from_start_date_local(start, local, offset):
    row = mapping.activity_row(detail(start_date=start, start_date_local=local), athlete_id="me", now=NOW)
    assert row["start_time"] == datetime.fromisoformat(start.replace("Z", "+00:00"))
    assert row["utc_offset_s"] == offset


@pytest.mark.parametrize(
    ("sport_type", "trainer", "expected"),
    [
        ("Run", False, ("running", "generic")),
        ("Run", True, ("running", "treadmill")),
        ("TrailRun", False, ("running", "trail")),
        ("VirtualRun", False, ("running", "virtual_activity")),
        ("Ride", False, ("cycling", "generic")),
        ("Ride", True, ("cycling", "indoor_cycling")),
        ("MountainBikeRide", False, ("cycling", "mountain")),
        ("Swim", False, ("swimming", "generic")),
        ("SomethingNew", False, ("generic", None)),
    ],
)
def test_sport_type_maps_to_fit_names(sport_type, trainer, expected):
    assert fit_sport(sport_type, trainer=trainer) == expected


def test_legacy_type_is_used_without_sport_type():
    row = mapping.activity_row(detail(sport_type=None, type="Hike"), athlete_id="me", now=NOW)
    assert (row["sport"], row["sub_sport"]) == ("hiking", "generic")


def streams(n: int = 5, total: float = 800.0) -> dict:
    return {
        "time": {"data": list(range(n))},
        "distance": {"data": [total * i / (n - 1) for i in range(n)]},
        "velocity_smooth": {"data": [2.0] * n},
        "latlng": {"data": [[47.0 + i * 1e-4, 8.0] for i in range(n)]},
        "heartrate": {"data": [140, 141, None, 143, 144][:n]},
        "cadence": {"data": [88] * n},
        "altitude": {"data": [400.0] * n},
        "temp": {"data": [20] * n},
        "moving": {"data": [True] * n},
    }


def test_edited_distance_rescales_distance_stream_speed_and_laps():
    d = detail(distance=1000.0)  # the athlete corrected 800 m recorded to 1000 m
    lap = {"start_date": d["start_date"], "distance": 800.0, "average_speed": 2.0, "elapsed_time": 300, "moving_time": 290}
    row, lap_frame, rec = mapping.activity_rows(d, streams(total=800.0), [lap], athlete_id="me", now=NOW)
    assert rec["distance_m"].max() == pytest.approx(1000.0)
    assert rec["speed_mps"][0] == pytest.approx(2.5)
    assert lap_frame["distance_m"][0] == pytest.approx(1000.0)
    assert lap_frame["avg_speed_mps"][0] == pytest.approx(2.5)
    assert row["distance_m"] == 1000.0


def test_unedited_distance_is_left_alone():
    _, _, rec = mapping.activity_rows(detail(distance=800.3), streams(total=800.0), [], athlete_id="me", now=NOW)
    assert rec["distance_m"].max() == pytest.approx(800.0)


def test_records_match_the_table_schema_and_samples():
    row, lap_frame, rec = mapping.activity_rows(detail(), streams(), [], athlete_id="me", now=NOW)
    assert rec.schema == records.SPEC.schema
    assert lap_frame.schema == laps.SPEC.schema
    assert activities.SPEC.conform(pl.DataFrame([row], schema=activities.SPEC.schema)).height == 1
    assert rec["seq"].to_list() == [0, 1, 2, 3, 4]
    assert rec["timestamp"][4] == datetime(2024, 3, 31, 0, 30, 4, tzinfo=UTC)
    assert rec["hr_bpm"].to_list() == [140, 141, None, 143, 144]
    assert rec["cadence_spm"][0] == 176.0  # per foot → steps per minute
    assert row["avg_cadence_spm"] == 176.0
    assert rec["lat_deg"][1] == pytest.approx(47.0001)
    assert rec["year"][0] == 2024 and rec["activity_id"][0] == "strava-7"


def test_cycling_cadence_stays_rpm():
    row, _, rec = mapping.activity_rows(detail(sport_type="Ride"), streams(), [], athlete_id="me", now=NOW)
    assert rec["cadence_spm"][0] == 88.0 and row["avg_cadence_spm"] == 88.0


def test_streams_of_unequal_length_are_a_payload_error():
    bad = streams()
    bad["heartrate"]["data"] = [1, 2]
    with pytest.raises(StravaPayloadError, match="heartrate"):
        mapping.activity_rows(detail(), bad, [], athlete_id="me", now=NOW)


def test_private_flag_from_private_or_visibility():
    assert mapping.activity_row(detail(private=True), athlete_id="me", now=NOW)["is_private"] is True
    assert mapping.activity_row(detail(private=False, visibility="only_me"), athlete_id="me", now=NOW)["is_private"] is True
    assert mapping.activity_row(detail(visibility="followers_only"), athlete_id="me", now=NOW)["is_private"] is False


def test_fingerprint_changes_with_the_fields_that_matter_only():
    base = detail()
    fp = mapping.fingerprint(base)
    assert mapping.fingerprint(base | {"kudos_count": 5}) == fp
    for change in ({"name": "x"}, {"distance": 1001.0}, {"private": True}, {"sport_type": "TrailRun"}, {"elapsed_time": 1}):
        assert mapping.fingerprint(base | change) != fp


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/data/strava absent")
def test_sample_payloads_from_strava():
    gps = json.loads((SAMPLES / "activity.3.json").read_text())
    row = mapping.activity_row(gps, athlete_id="me", now=NOW)
    assert row["utc_offset_s"] == -8 * 3600
    assert (row["sport"], row["strava_external_id"], row["gear_id"]) == ("running", gps["external_id"], "g69911")
    manual = json.loads((SAMPLES / "activity-manual.3.json").read_text())
    row, lap_frame, rec = mapping.activity_rows(manual, None, [], athlete_id="me", now=NOW)
    assert row["sport"] == "hiking" and rec.is_empty() and lap_frame.is_empty()


def test_hostile_samples_are_nulled_by_the_fit_rules_and_flagged():
    s = streams(total=1000.0)  # as recorded: no distance edit, no rescaling
    s["heartrate"]["data"] = [0, 141, 250, 143, 144]  # HR 0 and 250: outside 25-240 bpm
    s["velocity_smooth"]["data"] = [2.0, 31.0, 2.0, 2.0, 2.0]  # 31 m/s in a run
    s["latlng"]["data"][3] = [-33.86, 151.21]  # one fix in Sydney, 1 s after Switzerland
    row, _, rec = mapping.activity_rows(detail(), s, [], athlete_id="me", now=NOW)
    assert rec["hr_bpm"].to_list() == [None, 141, None, 143, 144]
    assert rec["speed_mps"].to_list() == [2.0, None, 2.0, 2.0, 2.0]
    assert rec["lat_deg"][3] is None and rec["lat_deg"][4] is not None
    assert rec.height == 5 and rec.schema == records.SPEC.schema
    assert row["quality_flags"] == "hr_out_of_range=2; speed_too_high=1; gps_jump=1"


def test_clean_streams_carry_no_quality_flags():
    row, _, _ = mapping.activity_rows(detail(), streams(), [], athlete_id="me", now=NOW)
    assert row["quality_flags"] is None
