"""TRIMP per activity: the gap rule, duplicates, missing HR, fallbacks (worked out by hand)."""

import datetime as dt
import math

import polars as pl
import pytest

from marts.activity import with_local_date
from marts.load import activity_load, hr_load
from marts.profile import Physiology, in_force, resolve
from tests.marts.factory import activities_frame, activity, records_frame, samples

START = dt.datetime(2025, 1, 6, 7, 0)
PHYS = Physiology(hr_rest_bpm=40, hr_max_bpm=190, sex="m", threshold_hr_bpm=175, threshold_pace_s_per_km=200.0)


def _with_phys(acts: pl.DataFrame, phys: Physiology = PHYS) -> pl.LazyFrame:
    return in_force(with_local_date(acts.lazy()), resolve(pl.LazyFrame(schema={"valid_from": pl.Date, "hr_rest_bpm": pl.Int32, "hr_max_bpm": pl.Int32, "sex": pl.String, "threshold_hr_bpm": pl.Int32, "threshold_pace_s_per_km": pl.Float64}), phys))


def _load(acts, recs, phys=PHYS) -> dict:
    lazy = _with_phys(activities_frame(acts), phys)
    hr = hr_load(records_frame(recs).lazy(), lazy.select("activity_id", "hr_rest_bpm", "hr_max_bpm", "k"))
    out = activity_load(lazy, hr).collect()
    return {r["activity_id"]: r for r in out.iter_rows(named=True)}


def test_trimp_gap_rule_duplicates_and_missing_hr():
    # rest 40, max 190: HR 115 -> HRr 0.5, HR 190 -> HRr 1, HR 30 -> clipped to 0.
    points = [
        (0, 115, 0.0),     # first sample: no interval ends here
        (10, 115, 30.0),   # 10 s at HRr 0.5
        (20, 115, 60.0),   # 10 s at HRr 0.5
        (20, 190, 60.0),   # duplicate timestamp: dropped (first kept)
        (60, 190, 100.0),  # 40 s interval > 30 s: a pause, counts 0
        (70, None, 130.0), # end sample without HR: counts 0
        (80, 190, 160.0),  # 10 s at HRr 1
        (90, 30, 190.0),   # 10 s at HRr 0 -> 0
        (120, 190, 200.0), # exactly 30 s: counts, at HRr 1
    ]
    got = _load([activity("a", START, distance_m=200.0, moving_s=120.0)], samples("a", START, points))["a"]
    half = 0.5 * 0.64 * math.exp(1.92 * 0.5)
    full = 1.0 * 0.64 * math.exp(1.92 * 1.0)
    expected = (10 / 60) * half * 2 + (10 / 60) * full + (30 / 60) * full
    assert got["trimp"] == pytest.approx(expected, rel=1e-12)
    assert got["trimp_method"] == "hr_samples" and got["trimp_estimated"] is False
    # zone times: HRr 0.5 -> Z1 (20 s), HRr 1 -> Z5 (40 s), HRr 0 -> Z1 (10 s)
    assert (got["time_z1_s"], got["time_z2_s"], got["time_z5_s"]) == (30.0, 0.0, 40.0)


def test_women_use_k_167():
    f = Physiology(40, 190, "f", 175, 200.0)
    got = _load([activity("a", START)], samples("a", START, [(0, 115, 0.0), (60, 115, 10.0)]), f)["a"]
    # a single 60 s interval is a pause (> 30 s): 0
    assert got["trimp"] == 0.0 and got["trimp_method"] == "hr_samples"
    got = _load([activity("a", START)], samples("a", START, [(0, 115, 0.0), (30, 115, 10.0)]), f)["a"]
    assert got["trimp"] == pytest.approx(0.5 * 0.5 * 0.64 * math.exp(1.67 * 0.5), rel=1e-12)


def test_fallbacks_without_hr_samples_are_flagged_and_finite():
    acts = [
        # avg HR only: Banister over moving time; 50 min at HRr 0.5
        activity("avg", START, moving_s=3000.0, avg_hr=115.0),
        # no HR at all, run at threshold pace (200 s/km): 1 h at IF 1 = T_thr
        activity("pace", START, distance_m=18000.0, moving_s=3600.0),
        # other sport, no distance: IF 0.7 for 30 min
        activity("gym", START, sport="training", distance_m=None, moving_s=1800.0),
        # nothing usable at all: 0, not NaN
        activity("empty", START, distance_m=None, moving_s=None),
    ]
    recs = samples("pace", START, [(0, None, 0.0), (1, None, 5.0)])  # records, but no HR
    got = _load(acts, recs)
    hrr_thr = (175 - 40) / 150
    t_thr = 60 * hrr_thr * 0.64 * math.exp(1.92 * hrr_thr)
    assert got["avg"]["trimp"] == pytest.approx(50 * 0.5 * 0.64 * math.exp(0.96))
    assert got["pace"]["trimp"] == pytest.approx(t_thr) and got["pace"]["trimp_method"] == "pace"
    assert got["gym"]["trimp"] == pytest.approx(0.5 * 0.49 * t_thr)
    assert got["empty"]["trimp"] == 0.0
    assert all(r["trimp_estimated"] for r in got.values())
