"""Best efforts (interpolated, rolling), PBs, predictions, session types (by hand)."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from marts.efforts import best_efforts, fastest_stretch, personal_bests, race_predictions, vdot, vdot_time
from marts.sessions import classify
from tests.marts.factory import records_frame, samples


def test_fastest_stretch_interpolates_inside_sample_intervals():
    t = np.array([0.0, 10.0, 20.0, 30.0])
    d = np.array([0.0, 30.0, 80.0, 100.0])
    # 60 m: ending at the 80 m sample (t=20), the start at 20 m lies 2/3 into the first
    # interval: t = 6.667 -> 13.333 s. Other candidates: 16, 15, 18 s.
    elapsed, start = fastest_stretch(t, d, 60.0)
    assert elapsed == pytest.approx(20 - 20 / 3) and start == pytest.approx(20 / 3)
    assert fastest_stretch(t, d, 100.0) == (30.0, 0.0)
    assert fastest_stretch(t, d, 100.1) is None


def test_standing_still_counts_clock_time_from_last_to_first_sample():
    t = np.array([0.0, 10.0, 50.0, 60.0])
    d = np.array([0.0, 40.0, 40.0, 80.0])  # stopped 40 s at 40 m
    assert fastest_stretch(t, d, 40.0) == (10.0, 0.0)
    assert fastest_stretch(t, d, 80.0) == (60.0, 0.0)


def test_best_efforts_rows_and_personal_bests():
    start = dt.datetime(2025, 5, 1, 6)
    # 4 m/s for 1600 s except a faster 400 m (5 m/s) from 1000 m to 1400 m
    pts, dist, tt = [], 0.0, 0.0
    while dist < 6000:
        speed = 5.0 if 1000 <= dist < 1400 else 4.0
        pts.append((tt, 150, dist))
        dist += speed
        tt += 1
    recs = records_frame(samples("r1", start, pts)).lazy()
    runs = pl.LazyFrame({"activity_id": ["r1"], "athlete_id": ["me"], "start_time": [start.replace(tzinfo=dt.timezone.utc)], "date": [dt.date(2025, 5, 1)]})
    eff = best_efforts(recs, runs).collect()
    got = dict(zip(eff["effort"], eff["elapsed_s"]))
    assert set(got) == {"400m", "1k", "1mile", "3k", "5k"}
    assert got["400m"] == pytest.approx(80.0)
    assert got["1k"] == pytest.approx(80.0 + 600 / 4)
    assert eff.filter(pl.col("effort") == "400m")["start_offset_s"][0] == pytest.approx(250.0)
    pbs = personal_bests(eff.lazy()).collect()
    assert set(pbs["period"]) == {"all", "2025"} and pbs.height == 10
    preds = race_predictions(eff.lazy(), dt.date(2025, 6, 1)).collect()
    riegel = preds.filter((pl.col("target") == "10k") & (pl.col("method") == "riegel")).row(0, named=True)
    basis = riegel["basis_elapsed_s"] * (10000 / dict(zip(eff["effort"], eff["distance_m"]))[riegel["basis_effort"]]) ** 1.06
    assert riegel["predicted_s"] == pytest.approx(basis)
    assert race_predictions(eff.lazy(), dt.date(2027, 1, 1)).collect().is_empty()  # nothing recent


def test_vdot_matches_daniels_table():
    # Daniels' tables: VDOT 50 <-> 5k 19:57, marathon 3:10:49
    assert vdot(5000, 19 * 60 + 57) == pytest.approx(50.0, abs=0.1)
    assert vdot_time(42195, 50.0) == pytest.approx(3 * 3600 + 10 * 60 + 49, abs=60)


def _lap(i, d, t, intensity="active"):
    return {"lap_index": i, "distance_m": d, "elapsed_s": t, "moving_s": t, "intensity": intensity}


def test_intervals_rep_structure():
    laps = [_lap(0, 3000, 750)]
    for i in range(10):
        laps.append(_lap(len(laps), 400, 61.8))
        if i < 9:
            laps.append(_lap(len(laps), 200, 90))
    laps.append(_lap(len(laps), 2000, 500))
    act = {"activity_id": "x", "sport": "running", "sub_sport": "track", "distance_m": 10800, "moving_s": 3000, "threshold_pace_s_per_km": 200.0, "has_gps": True}
    got = classify(act, laps)
    assert got["session_type"] == "intervals" and got["reps"] == 10
    assert got["rep_structure"] == "10 × 400 m, avg 61.8 s, 90 s rec"


def test_session_types():
    base = {"activity_id": "x", "sport": "running", "sub_sport": "generic", "threshold_pace_s_per_km": 200.0, "has_gps": True}
    assert classify(base | {"distance_m": 10000, "moving_s": 2700}, [])["session_type"] == "easy"
    assert classify(base | {"distance_m": 30000, "moving_s": 7200}, [])["session_type"] == "long"
    assert classify(base | {"distance_m": 10000, "moving_s": 1900}, [])["session_type"] == "race"  # 190 s/km
    assert classify(base | {"distance_m": 10000, "moving_s": 2050}, [])["session_type"] == "tempo"  # 205 s/km <= 216
    assert classify(base | {"distance_m": 8000, "moving_s": 2400, "has_gps": False}, [])["session_type"] == "treadmill"
    assert classify(base | {"sport": "cycling", "distance_m": 1, "moving_s": 1}, [])["session_type"] == "other"


def test_a_gps_jump_is_searched_around_not_kept_and_not_dropped():
    start = dt.datetime(2025, 5, 1, 6)
    pts = [(t, 150, 4.0 * t + (500.0 if t >= 100 else 0.0)) for t in range(0, 400)]  # +500 m in 1 s at t=100
    recs = records_frame(samples("r1", start, pts)).lazy()
    runs = pl.LazyFrame({"activity_id": ["r1"], "athlete_id": ["me"], "start_time": [start.replace(tzinfo=dt.timezone.utc)], "date": [dt.date(2025, 5, 1)]})
    eff = best_efforts(recs, runs).collect().sort("distance_m")
    # raw: 400 m inside the jump in ~1 s, a mile across it. Without the 500 m step the run is
    # 399 s at 4 m/s = 1596 m: 400 m in 100 s and 1 km in 250 s, and no mile.
    assert eff["effort"].to_list() == ["400m", "1k"]
    assert eff["elapsed_s"].to_list() == pytest.approx([100.0, 250.0])


def test_a_steady_effort_faster_than_the_world_record_is_still_dropped():
    start = dt.datetime(2025, 5, 1, 6)
    pts = [(t, 150, 11.5 * t) for t in range(0, 60)]  # 11.5 m/s: each step plausible, 400 m in 34.8 s
    recs = records_frame(samples("r1", start, pts)).lazy()
    runs = pl.LazyFrame({"activity_id": ["r1"], "athlete_id": ["me"], "start_time": [start.replace(tzinfo=dt.timezone.utc)], "date": [dt.date(2025, 5, 1)]})
    assert best_efforts(recs, runs).collect().is_empty()


def test_race_and_tempo_by_heart_rate_reserve():
    base = {"activity_id": "x", "sport": "running", "sub_sport": "generic", "threshold_pace_s_per_km": 200.0,
            "has_gps": True, "hr_rest_bpm": 40, "hr_max_bpm": 190}
    # 10 km at 215 s/km (slower than threshold) but average HRR (170-40)/150 = 0.867 >= 0.82: a race
    assert classify(base | {"distance_m": 10000, "moving_s": 2150, "avg_hr_bpm": 170}, [])["session_type"] == "race"
    # 10 km at 190 s/km (faster than threshold) at HRR 0.6: HR says it was not a race effort
    easy_hr = base | {"distance_m": 10000, "moving_s": 1900, "avg_hr_bpm": 130}
    assert classify(easy_hr, [])["session_type"] == "easy"
    # laps: 2 km warm-up, 4 x 5 min at HRR 0.8 (= 20 min block), cool-down: tempo
    laps = [_lap(0, 2000, 500) | {"avg_hr_bpm": 130}] + [
        _lap(i, 1500, 300) | {"avg_hr_bpm": 160} for i in range(1, 5)
    ] + [_lap(5, 2000, 500) | {"avg_hr_bpm": 135}]
    tempo = classify(base | {"distance_m": 10000, "moving_s": 2200, "avg_hr_bpm": 150}, laps)
    assert tempo["session_type"] == "tempo" and tempo["reps"] is None


def test_reps_from_lap_intensity_when_the_watch_marks_it():
    laps = [_lap(0, 2000, 500, "warmup")]
    for i in range(6):
        laps.append(_lap(len(laps), 1000, 170.0, "interval"))
        laps.append(_lap(len(laps), 300, 120, "recovery"))
    laps.append(_lap(len(laps), 2000, 500, "cooldown"))
    act = {"activity_id": "x", "sport": "running", "sub_sport": "generic", "distance_m": 11800, "moving_s": 2740,
           "threshold_pace_s_per_km": 200.0, "has_gps": True}
    got = classify(act, laps)
    # the trailing recovery before the cool-down is not between reps: 5 recoveries of 120 s
    assert (got["session_type"], got["rep_structure"]) == ("intervals", "6 × 1000 m, avg 170.0 s, 120 s rec")
