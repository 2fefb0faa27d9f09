"""normalize on hand-made RawMessages: units, cadence rule, UTC offset, session assignment."""

from __future__ import annotations

from datetime import datetime, timezone

import polars as pl
import pytest

from lake.laps import SPEC as LAPS
from lake.records import SPEC as RECORDS
from sources.fit.model import SESSION_COLUMNS, NotAnActivity
from sources.fit.normalize import normalize
from sources.fit.raw import build_frames

FIT_EPOCH_UNIX = 631065600
# 2021-07-01T10:00:00Z as FIT seconds (summer: Europe/Berlin is UTC+2)
SUMMER = int(datetime(2021, 7, 1, 10, tzinfo=timezone.utc).timestamp()) - FIT_EPOCH_UNIX
WINTER = int(datetime(2021, 1, 15, 10, tzinfo=timezone.utc).timestamp()) - FIT_EPOCH_UNIX
FILE_ID = {"type": "activity", "manufacturer": "garmin", "product": 3290, "garmin_product": "fenix6",
           "serial_number": 42, "time_created": SUMMER, "_file_index": 0}  # fmt: skip


def session(start: int, elapsed: float = 100.0, sport: str = "running", **extra) -> dict:
    row = {"start_time": start, "timestamp": start + int(elapsed), "total_elapsed_time": elapsed,
           "total_timer_time": elapsed - 10, "total_distance": 300.0, "sport": sport, "sub_sport": "generic",
           "avg_heart_rate": 150.0, "max_heart_rate": 170.0, "avg_cadence": 85.0,
           "avg_fractional_cadence": 0.5, "_file_index": 0}  # fmt: skip
    return row | extra


def record(ts: int | None, **extra) -> dict:
    return {"timestamp": ts, "heart_rate": 150.0, "_file_index": 0} | extra


def decode(rows: dict, default_tz: str = "UTC"):
    return normalize(build_frames({"file_id": [FILE_ID]} | rows), decoder="test", default_tz=default_tz)


def test_output_schemas_match_the_lake_tables() -> None:
    decoded = decode({"session": [session(SUMMER)], "record": [record(SUMMER)], "lap": [{"start_time": SUMMER}]})
    (only,) = decoded.sessions
    assert list(only.summary) == list(SESSION_COLUMNS)
    ids = {"athlete_id", "activity_id", "year"}
    assert only.records.schema == pl.Schema({k: v for k, v in RECORDS.schema.items() if k not in ids})
    assert only.laps.schema == pl.Schema({k: v for k, v in LAPS.schema.items() if k not in ids})


def test_record_units() -> None:
    rows = [
        record(SUMMER, position_lat=2**30, position_long=-(2**29), enhanced_speed=3.5, speed=9.9,
               altitude=100.0, enhanced_altitude=None, cadence=85.0, fractional_cadence=0.5,
               power=250.0, temperature=21.0, distance=12.5),
        record(SUMMER + 1, speed=3.0, enhanced_altitude=101.5, cadence=86.0),
    ]  # fmt: skip
    records = decode({"session": [session(SUMMER)], "record": rows}).sessions[0].records
    first, second = records.to_dicts()
    assert first["lat_deg"] == 90.0 and first["lon_deg"] == -45.0
    assert first["speed_mps"] == 3.5 and second["speed_mps"] == 3.0  # enhanced preferred, else plain
    assert first["altitude_m"] == 100.0 and second["altitude_m"] == 101.5
    assert first["cadence_spm"] == 171.0 and second["cadence_spm"] == 172.0  # 2 × (cadence + fraction)
    assert first["hr_bpm"] == 150 and first["power_w"] == 250 and first["temperature_c"] == 21.0
    assert first["distance_m"] == 12.5
    assert first["timestamp"] == datetime(2021, 7, 1, 10, tzinfo=timezone.utc)
    assert records["seq"].to_list() == [0, 1]


@pytest.mark.parametrize(
    ("sport", "sub_sport", "factor"),
    [("running", "generic", 2), ("walking", "generic", 2), ("fitness_equipment", "treadmill", 2),
     ("cycling", "road", 1), ("swimming", "lap_swimming", 1), (None, None, 1)],
)  # fmt: skip
def test_cadence_rule_by_sport(sport, sub_sport, factor) -> None:
    rows = {
        "session": [session(SUMMER, sport=sport, sub_sport=sub_sport)],
        "record": [record(SUMMER, cadence=80.0, fractional_cadence=0.25)],
        "lap": [{"start_time": SUMMER, "avg_cadence": 80.0, "_file_index": 0}],
    }
    decoded = decode(rows).sessions[0]
    assert decoded.summary["avg_cadence_spm"] == 85.5 * factor
    assert decoded.records["cadence_spm"].item() == 80.25 * factor
    assert decoded.laps["avg_cadence_spm"].item() == 80.0 * factor


def test_summary_values() -> None:
    summary = decode({"session": [session(SUMMER, total_ascent=12.0, total_calories=300.0)]}).sessions[0].summary
    assert summary["start_time"] == datetime(2021, 7, 1, 10, tzinfo=timezone.utc)
    assert summary["sport"] == "running" and summary["sub_sport"] == "generic"
    assert summary["elapsed_s"] == 100.0 and summary["moving_s"] == 90.0 and summary["distance_m"] == 300.0
    assert summary["avg_hr_bpm"] == 150.0 and summary["max_hr_bpm"] == 170.0
    assert summary["ascent_m"] == 12.0 and summary["calories_kcal"] == 300.0 and summary["descent_m"] is None


def test_utc_offset_from_activity_local_timestamp() -> None:
    activity = {"timestamp": SUMMER + 100, "local_timestamp": SUMMER + 100 - 5 * 3600, "_file_index": 0}
    decoded = decode({"session": [session(SUMMER)], "activity": [activity]}, default_tz="Europe/Berlin")
    assert decoded.sessions[0].summary["utc_offset_s"] == -5 * 3600


@pytest.mark.parametrize(
    ("start", "zone", "offset"),
    [(SUMMER, "Europe/Berlin", 7200), (WINTER, "Europe/Berlin", 3600), (WINTER, "America/New_York", -18000),
     (SUMMER, "UTC", 0)],
)  # fmt: skip
def test_utc_offset_from_default_zone_at_session_start(start: int, zone: str, offset: int) -> None:
    decoded = decode({"session": [session(start)]}, default_tz=zone)
    assert decoded.sessions[0].summary["utc_offset_s"] == offset


def test_implausible_local_offset_falls_back_to_zone() -> None:
    # FR70: device-relative timestamp (1990) but a real local_timestamp: offset of ~21 years
    start = 17_217_864
    activity = {"timestamp": start + 100, "local_timestamp": 698_070_063, "_file_index": 0}
    decoded = decode({"session": [session(start)], "activity": [activity]}, default_tz="Europe/Berlin")
    summary = decoded.sessions[0].summary
    assert summary["start_time"].year == 1990  # device-relative timestamps decode as they are
    assert summary["utc_offset_s"] == 7200  # Berlin in July 1990
    assert any("implausible" in w for w in decoded.warnings)


def test_records_and_laps_split_between_sessions() -> None:
    rows = {
        "session": [session(SUMMER, elapsed=10.0), session(SUMMER + 10, elapsed=10.0, sport="cycling")],
        "record": [record(SUMMER - 3), record(SUMMER), record(None), record(SUMMER + 9), record(SUMMER + 10),
                   record(SUMMER + 25), record(SUMMER + 12)],
        "lap": [{"start_time": SUMMER - 1, "_file_index": 0}, {"start_time": SUMMER + 5, "_file_index": 0},
                {"start_time": SUMMER + 10, "_file_index": 0}],
    }  # fmt: skip
    first, second = decode(rows).sessions
    # before the first start → first session; untimed → with the previous record; the shared
    # boundary (SUMMER + 10) → the later session; after the last end → last session
    assert first.records["seq"].to_list() == [0, 1, 2, 3]
    assert first.records["timestamp"].null_count() == 1
    assert second.records["timestamp"].to_list() == [
        datetime.fromtimestamp(FIT_EPOCH_UNIX + t, timezone.utc) for t in (SUMMER + 10, SUMMER + 25, SUMMER + 12)
    ]
    assert first.laps["lap_index"].to_list() == [0, 1]
    assert first.laps["start_offset_s"].to_list() == [-1.0, 5.0]
    assert second.laps["lap_index"].to_list() == [0] and second.laps["start_offset_s"].to_list() == [0.0]
    assert decode(rows).warnings == ["2 record(s) outside their session's [start, start + elapsed] kept"]


def test_untimed_records_before_any_timed_one_join_the_next() -> None:
    rows = {"session": [session(SUMMER)], "record": [record(None), record(SUMMER + 1)]}
    assert decode(rows).sessions[0].records.height == 2


@pytest.mark.parametrize(
    ("file_type", "sessions", "reason"),
    [("course", [], "course file: no activity session"),
     ("activity", [], "activity file: no activity session"),
     (None, [{"avg_heart_rate": 100.0, "_file_index": 0}],
      "FIT file without a file type: no session with a start time")],
)  # fmt: skip
def test_not_an_activity(file_type, sessions, reason) -> None:
    frames = build_frames({"file_id": [FILE_ID | {"type": file_type}], "session": sessions, "record": [record(1)]})
    with pytest.raises(NotAnActivity, match=f"^{reason}$"):
        normalize(frames, decoder="test")


def test_session_start_from_end_minus_elapsed() -> None:
    start = session(SUMMER) | {"start_time": None}
    summary = decode({"session": [start]}).sessions[0].summary
    assert summary["start_time"] == datetime(2021, 7, 1, 10, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("extra", "product"),
    [({}, "fenix6"), ({"garmin_product": None, "product_name": "Bryton Active"}, "Bryton Active"),
     ({"garmin_product": None}, "3290"), ({"garmin_product": None, "product": None}, None)],
)  # fmt: skip
def test_identity(extra: dict, product: str | None) -> None:
    frames = build_frames({"file_id": [FILE_ID | extra], "session": [session(SUMMER)]})
    identity = normalize(frames, decoder="test").identity
    assert identity.manufacturer == "garmin" and identity.product == product
    assert identity.serial_number == 42 and identity.file_type == "activity"
    assert identity.time_created == datetime(2021, 7, 1, 10, tzinfo=timezone.utc)
    assert identity.is_complete


def test_missing_and_extra_raw_columns_are_tolerated() -> None:
    frames = {"session": pl.DataFrame({"start_time": [SUMMER], "sport": ["running"], "made_up": [1]})}
    decoded = normalize(frames, decoder="fast")
    assert decoded.identity.manufacturer is None and decoded.sessions[0].records.height == 0
