"""The synthetic FIT generator: valid files (fitparse and garmin-fit-sdk, CRC checked) whose
decoded values are exactly what was generated, and a training plan with the advertised shape."""

from __future__ import annotations

import os
import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import fitparse
import numpy as np
import pytest
from garmin_fit_sdk import Decoder, Profile, Stream

from sources.fit.synthetic import (activity_bytes, build_activity, encode_activity, generate_history,
                                   history_specs, interval_segments, plan_history, ride_spec, run_spec, write_run)
from sources.fit.validate import fit_crc as crc16
from sources.fit.synthetic.encode import BASE_TYPES, PROFILE
from sources.fit.synthetic.plan import _segments_km

AMS = ZoneInfo("Europe/Amsterdam")


def fitparse_messages(data: bytes) -> dict[str, list[dict]]:
    fit = fitparse.FitFile(data, check_crc=True)
    out: dict[str, list[dict]] = defaultdict(list)
    for message in fit.get_messages():
        out[message.name].append(message.get_values())
    return out


def garmin_messages(data: bytes) -> dict[str, list[dict]]:
    assert Decoder(Stream.from_byte_array(bytearray(data))).check_integrity(), "garmin-fit-sdk: bad CRC"
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert errors == []
    return messages


# --- the encoder --------------------------------------------------------------------------------

def test_crc_equals_the_fit_sdk_nibble_algorithm():
    from fit_tool.utils.crc import crc16 as reference

    rng = np.random.default_rng(1)
    for size in (0, 1, 13, 4095, 4096, 4097, 30_001):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert crc16(data) == reference(data), size


def test_encoder_profile_matches_garmin_fit_sdk():
    names = {v: k for k, v in BASE_TYPES.items()}
    assert names  # the base type table is not empty
    for message in PROFILE.values():
        ref = Profile["messages"][message.number]
        assert ref["name"] == message.name
        for field in message.fields:
            ref_field = ref["fields"][field.number]
            assert ref_field["name"] == field.name
            assert ref_field["base_type"] == field.base, field.name
            assert ref_field["scale"] == [field.scale] or ref_field["scale"] == field.scale, field.name
            assert ref_field["offset"] == [field.offset] or ref_field["offset"] == field.offset, field.name


def _interval_spec(**kwargs):
    start = datetime(2025, 3, 30, 7, 30, tzinfo=AMS)  # the morning DST starts: UTC+2
    segments = interval_segments(4, 1000.0, 160.0, 120.0, standing_rest=True, warmup_m=1500.0, cooldown_m=1000.0)
    return run_spec(start, segments=segments,
                    pauses=((200.0, 60.0),), seed=11, **kwargs)


@pytest.fixture(scope="module")
def interval():
    from dataclasses import replace

    spec = replace(_interval_spec(), hr_dropouts=((900.0, 20.0),))
    activity = build_activity(spec)
    data = encode_activity(activity)
    return activity, data, fitparse_messages(data), garmin_messages(data)


def test_records_decode_exactly_to_what_was_generated(interval):
    activity, _, fp, gm = interval
    s = activity.samples
    t0 = activity.start_utc
    assert len(fp["record"]) == len(gm["record_mesgs"]) == len(s)
    semi = 2**31 / 180.0
    for i in range(len(s)):
        a, b = fp["record"][i], gm["record_mesgs"][i]
        for key in a:
            assert a[key] == (b.get(key) if not isinstance(b.get(key), datetime) else b[key].replace(tzinfo=None)), key
        assert a["timestamp"] == (t0 + timedelta(seconds=int(s.elapsed_s[i]))).replace(tzinfo=None)
        assert a["position_lat"] == round(s.lat_deg[i] * semi)
        assert a["position_long"] == round(s.lon_deg[i] * semi)
        assert a["distance"] == pytest.approx(round(s.distance_m[i] * 100) / 100, abs=1e-9)
        assert a["enhanced_speed"] == pytest.approx(round(s.speed_mps[i] * 1000) / 1000, abs=1e-9)
        assert a["enhanced_altitude"] == pytest.approx(round((s.altitude_m[i] + 500) * 5) / 5 - 500, abs=1e-9)
        assert a["heart_rate"] == (None if np.isnan(s.hr_bpm[i]) else int(s.hr_bpm[i]))
        spm = a["cadence"] * 2 + a["fractional_cadence"] * 2
        assert spm == pytest.approx(s.cadence_spm[i], abs=2 / 128)
        assert a["power"] == int(s.power_w[i])
    assert sum(r["heart_rate"] is None for r in fp["record"]) == 20  # the dropout is invalid, not 0


def test_fitdecode_and_fit_tool_read_it_too(interval):
    import fitdecode
    from fit_tool.fit_file import FitFile

    _, data, fp, _ = interval
    with fitdecode.FitReader(data, check_crc=fitdecode.CrcCheck.ENABLED) as reader:
        records = [{f.name: f.value for f in frame.fields}
                   for frame in reader if isinstance(frame, fitdecode.FitDataMessage) and frame.name == "record"]
    assert len(records) == len(fp["record"])
    for a, b in zip(fp["record"][::50], records[::50]):
        b["timestamp"] = b["timestamp"].replace(tzinfo=None)  # fitdecode returns aware UTC datetimes
        assert a == {k: b[k] for k in a}
    short = activity_bytes(run_spec(datetime(2025, 6, 1, 6, 0, tzinfo=AMS), 300.0, 240.0))
    assert FitFile.from_bytes(short).crc is not None  # fit-tool parses it (it checks the CRC)


def test_laps_session_activity_and_events(interval):
    activity, _, fp, gm = interval
    laps = fp["lap"]
    assert [lap["intensity"] for lap in laps] == ["warmup"] + ["active", "rest"] * 3 + ["active", "cooldown"]
    reps = [lap for lap in laps if lap["intensity"] == "active"]
    assert all(990 <= lap["total_distance"] <= 1010 for lap in reps)
    assert sum(lap["total_distance"] for lap in laps) == pytest.approx(fp["session"][0]["total_distance"], abs=0.1)
    session = fp["session"][0]
    assert (session["sport"], session["sub_sport"], session["num_laps"]) == ("running", "track", len(laps))
    assert session["total_elapsed_time"] - session["total_timer_time"] == pytest.approx(60.0)
    gaps = np.diff([r["timestamp"].timestamp() for r in fp["record"]])
    assert sorted(gaps)[-1] == 61 and (gaps > 1).sum() == 1  # the timer stood still for 60 s
    timer = [(e["event_type"], e["timer_trigger"]) for e in fp["event"] if e["event"] == "timer"]
    assert timer == [("start", "manual"), ("stop_all", "auto"), ("start", "auto"), ("stop_all", "manual")]
    act = fp["activity"][0]
    assert (act["local_timestamp"] - act["timestamp"]).total_seconds() == 7200  # CEST
    file_id = fp["file_id"][0]
    assert (file_id["type"], file_id["manufacturer"]) == ("activity", "garmin")
    assert file_id["serial_number"] and file_id["time_created"] == session["start_time"]
    g_session = gm["session_mesgs"][0]
    assert g_session["total_distance"] == session["total_distance"]
    assert g_session["avg_heart_rate"] == session["avg_heart_rate"]
    assert len(gm["lap_mesgs"]) == len(laps) and gm["device_info_mesgs"]


def test_heart_rate_follows_effort(interval):
    activity, _, fp, _ = interval
    laps = fp["lap"]
    rep_hr = [lap["avg_heart_rate"] for lap in laps if lap["intensity"] == "active"]
    easy_hr = [lap["avg_heart_rate"] for lap in laps if lap["intensity"] in ("warmup", "cooldown")]
    assert min(rep_hr[1:]) > max(easy_hr) + 10
    speed = activity.samples.speed_mps
    lagged = np.convolve(speed, np.ones(30) / 30)[: len(speed)]  # HR lags effort by ~tens of seconds
    hr = activity.samples.hr_bpm
    ok = ~np.isnan(hr)
    assert np.corrcoef(lagged[ok], hr[ok])[0, 1] > 0.7
    assert np.corrcoef(speed[ok], hr[ok])[0, 1] < np.corrcoef(lagged[ok], hr[ok])[0, 1]  # lag, not instant


def test_heart_rate_drifts_in_a_long_steady_run():
    activity = build_activity(run_spec(datetime(2025, 10, 5, 8, 30, tzinfo=AMS), 30000.0, 220.0, seed=5))
    hr = activity.samples.hr_bpm
    minute = 60
    early, late = np.nanmean(hr[20 * minute : 40 * minute]), np.nanmean(hr[-20 * minute :])
    assert late - early >= 3  # cardiac drift at a steady pace
    laps = activity.laps
    assert all(990 <= activity.samples.distance_m[lap.end] - activity.samples.distance_m[lap.start] <= 1010
               for lap in laps[:-1]) and len(laps) == 30  # 1 km autolaps


def test_treadmill_run_has_no_positions():
    data = activity_bytes(run_spec(datetime(2025, 1, 10, 18, 0, tzinfo=AMS), 8000.0, gps=False))
    fp = fitparse_messages(data)
    assert fp["session"][0]["sub_sport"] == "treadmill"
    assert all("position_lat" not in r and "position_long" not in r for r in fp["record"])
    assert fp["record"][-1]["distance"] == pytest.approx(8000.0, abs=10.0)
    assert "record_mesgs" in garmin_messages(data)


def test_run_without_heart_rate_and_a_ride():
    fp = fitparse_messages(activity_bytes(run_spec(datetime(2025, 5, 1, 7, 0, tzinfo=AMS), heart_rate=False)))
    assert all("heart_rate" not in r for r in fp["record"])
    assert fp["session"][0].get("avg_heart_rate") is None
    ride = fitparse_messages(activity_bytes(ride_spec(datetime(2025, 5, 2, 17, 0, tzinfo=AMS), 1200.0)))
    assert ride["session"][0]["sport"] == "cycling" and ride["record"][100]["power"] > 0


def test_run_in_another_zone_across_local_midnight(tmp_path: Path):
    start = datetime(2025, 12, 31, 23, 40, tzinfo=ZoneInfo("America/New_York"))
    path = write_run(tmp_path / "nye.fit", start, 8000.0, 250.0, seed=3)
    fp = fitparse_messages(path.read_bytes())
    act = fp["activity"][0]
    assert (act["local_timestamp"] - act["timestamp"]).total_seconds() == -5 * 3600
    assert fp["session"][0]["start_time"] == datetime(2026, 1, 1, 4, 40)
    assert act["local_timestamp"].date() == date(2026, 1, 1)  # it ended after local midnight


def test_same_seed_same_bytes_other_seed_other_bytes():
    a = activity_bytes(_interval_spec())
    assert a == activity_bytes(_interval_spec())
    from dataclasses import replace

    assert a != activity_bytes(replace(_interval_spec(), seed=12))


# --- the plan -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def plan():
    return plan_history(date(2024, 11, 25), date(2026, 11, 22), seed=7)


def _running_km(spec) -> float:
    return _segments_km(spec.segments) if spec.sport == "running" else 0.0


def test_weekly_volume_of_an_elite_runner(plan):
    from sources.fit.synthetic.calendar import phase

    weeks: dict[date, float] = defaultdict(float)
    for spec in plan:
        day = spec.start.date()
        weeks[day - timedelta(days=day.weekday())] += _running_km(spec)
    training = [km for monday, km in weeks.items() if phase(monday)[0] in ("base", "build")]
    assert len(training) > 60
    assert 140 <= statistics.median(training) <= 180
    assert sum(130 <= km <= 190 for km in training) / len(training) > 0.85
    taper = [km for monday, km in weeks.items() if phase(monday)[0] in ("taper", "race")]
    recovery = [km for monday, km in weeks.items() if phase(monday) == ("recovery", 1)]
    assert max(taper) < statistics.median(training) and max(recovery) < 60
    per_year = len(plan) / 2
    assert 500 <= per_year <= 650


def test_plan_has_doubles_rest_days_workouts_races_and_cross_training(plan):
    per_day = Counter(s.start.date() for s in plan if s.sport == "running")
    assert sum(n >= 2 for n in per_day.values()) > 200  # doubles
    days = (date(2026, 11, 22) - date(2024, 11, 25)).days + 1
    assert days - len({s.start.date() for s in plan}) > 20  # rest days
    kinds = Counter(s.kind for s in plan)
    assert kinds["intervals"] > 60 and kinds["tempo"] > 50 and kinds["long"] > 70
    assert 10 <= kinds["treadmill"] <= 60
    assert 24 <= kinds["cycling"] <= 24 * 6  # a few rides a month
    race_km = Counter(round(_running_km(s), 1) for s in plan if s.kind == "race")
    assert {5.0, 10.0, 21.1, 42.2} <= set(race_km)
    assert all(s.location is None for s in plan if s.kind == "treadmill")
    assert sum(bool(s.pauses) for s in plan) > 10 and sum(not s.heart_rate for s in plan) > 5


def test_time_zones_camps_and_dst(plan):
    offsets = Counter(int(s.start.utcoffset().total_seconds() // 3600) for s in plan)
    assert offsets[1] > 100 and offsets[2] > 100  # home, both sides of DST
    assert offsets[3] > 40  # the Iten camp (UTC+3), 4 weeks a year
    iten = [s for s in plan if s.location is not None and s.location.name == "Iten"]
    assert 40 <= len(iten) / 2 <= 70 and all(s.location.altitude_m > 2000 for s in iten)
    assert offsets[-7] > 20  # Flagstaff (odd years)


def test_end_defaults_to_today():
    specs = history_specs(years=0.05)
    today = date.today()
    assert specs and all(s.start <= datetime.now(timezone.utc) for s in specs)
    assert today - timedelta(days=8) <= specs[-1].start.date() <= today


# --- the history writer -------------------------------------------------------------------------

def test_generate_history_writes_valid_files_and_is_idempotent(tmp_path: Path):
    seen: list[tuple[int, int]] = []
    end = date(2025, 3, 9)
    paths = generate_history(tmp_path / "a", years=0.03, end=end, seed=7, progress=lambda i, n: seen.append((i, n)))
    assert len(paths) >= 8 and seen[-1] == (len(paths), len(paths))
    assert all(p.exists() and "2025-02-26" <= p.name[:10] <= "2025-03-09" for p in paths)
    kinds = {p.stem.split("_", 2)[2] for p in paths}
    assert {"easy", "intervals", "long"} <= kinds
    for path in [min((p for p in paths if p.stem.endswith(k)), key=lambda p: p.stat().st_size)
                 for k in ("intervals", "easy")]:  # the smallest of each: decoding is the slow part
        data = path.read_bytes()
        assert fitparse_messages(data)["session"] and garmin_messages(data)["session_mesgs"]
    for path in paths:  # every file: header and file CRC valid
        data = path.read_bytes()
        assert crc16(data[:12]) == int.from_bytes(data[12:14], "little") and crc16(data) == 0
    mtimes = [p.stat().st_mtime_ns for p in paths]
    os.utime(paths[0], ns=(1, 1))
    again = generate_history(tmp_path / "a", years=0.03, end=end, seed=7)
    assert again == paths and paths[0].stat().st_mtime_ns == 1  # existing files are kept
    assert [p.stat().st_mtime_ns for p in paths[1:]] == mtimes[1:]
    shorter = generate_history(tmp_path / "b", years=0.01, end=end, seed=7)
    assert shorter and all((tmp_path / "a" / p.name).read_bytes() == p.read_bytes() for p in shorter)
    assert {s.start for s in history_specs(years=0.03, end=end, seed=8)} != {s.start for s in history_specs(
        years=0.03, end=end, seed=7)}
