"""daily_load and weekly_summary: recursions, local dates, ISO weeks, rest weeks (by hand)."""

import datetime as dt

import polars as pl
import pytest

from lake.marts import ZONE_COLUMNS
from marts.activity import with_local_date
from marts.daily import daily_totals, fitness
from marts.weekly import weekly_summary
from tests.marts.factory import activities_frame, activity


def summary_rows(rows: list[tuple]) -> pl.LazyFrame:
    """(date, is_running, distance_m, moving_s, trimp, estimated) -> activity_summary-like rows."""
    frame = pl.DataFrame(
        [
            {"date": d, "is_running": r, "distance_m": dist, "moving_s": mov, "trimp": t, "trimp_estimated": e,
             "start_time": dt.datetime(d.year, d.month, d.day, 7), "activity_id": f"a{i}",
             **{c: 0.0 for c in ZONE_COLUMNS}}
            for i, (d, r, dist, mov, t, e) in enumerate(rows)
        ]
    )
    return frame.lazy()


def build(rows, first, last, history=None):
    totals = daily_totals(summary_rows(rows), "me", first, last)
    return fitness(totals, history, first_day=first).collect()


D = dt.date


def test_recursions_by_hand_with_two_runs_one_day():
    rows = [
        (D(2025, 1, 1), True, 10000.0, 3000.0, 30.0, False),
        (D(2025, 1, 1), True, 5000.0, 1500.0, 12.0, True),  # second run same day: 42 in total
        (D(2025, 1, 2), False, 20000.0, 3600.0, 0.0, False),  # a ride with 0 load: not a run
        (D(2025, 1, 3), True, 8000.0, 2400.0, 84.0, False),
    ]
    out = build(rows, D(2025, 1, 1), D(2025, 1, 4))
    assert out["date"].to_list() == [D(2025, 1, i) for i in range(1, 5)]
    assert out["runs"].to_list() == [2, 0, 1, 0]
    assert out["activities"].to_list() == [2, 1, 1, 0]
    assert out["distance_m"].to_list() == [15000.0, 0.0, 8000.0, 0.0]
    assert out["duration_s"].to_list() == [4500.0, 0.0, 2400.0, 0.0]
    assert out["trimp_estimated"].to_list() == [True, False, False, False]
    ctl1, atl1 = 42 / 42, 42 / 7
    ctl2, atl2 = ctl1 + (0 - ctl1) / 42, atl1 + (0 - atl1) / 7
    ctl3, atl3 = ctl2 + (84 - ctl2) / 42, atl2 + (84 - atl2) / 7
    assert out["ctl"].to_list()[:3] == pytest.approx([1.0, ctl2, ctl3])
    assert out["atl"].to_list()[:3] == pytest.approx([6.0, atl2, atl3])
    assert out["tsb"].to_list()[:3] == pytest.approx([0.0, ctl1 - atl1, ctl2 - atl2])
    assert out["acwr"].null_count() == 4  # < 28 days of history


def test_seeded_recursion_equals_full_exactly_and_acwr():
    rows = [(D(2025, 1, 1) + dt.timedelta(days=i), True, 1000.0, 300.0, float((i * 37) % 90), False) for i in range(40)]
    full = build(rows, D(2025, 1, 1), D(2025, 2, 9))
    history = full.filter(pl.col("date") < D(2025, 2, 1))
    part = fitness(daily_totals(summary_rows(rows), "me", D(2025, 2, 1), D(2025, 2, 9)), history, first_day=D(2025, 1, 1)).collect()
    assert part.equals(full.filter(pl.col("date") >= D(2025, 2, 1)))  # bit-identical
    t = [float((i * 37) % 90) for i in range(40)]
    day = 30  # 2025-01-31
    acute = sum(t[day - 6 : day + 1]) / 7
    assert full["acwr"][day] == pytest.approx(acute / (sum(t[day - 27 : day + 1]) / 28))
    assert full["acwr_uncoupled"][day] == pytest.approx(acute / (sum(t[day - 27 : day - 6]) / 21))
    assert full["acwr"][26] is None and full["acwr"][27] is not None


def test_local_date_dst_and_midnight():
    acts = activities_frame([
        # 23:30 UTC at +1 h: local 00:30 next day
        activity("late", dt.datetime(2025, 1, 10, 23, 30), offset_s=3600),
        # starts 22:30 local, runs 2 h across midnight: belongs to its start date
        activity("cross", dt.datetime(2025, 1, 10, 21, 30), offset_s=3600, moving_s=7200.0),
        # DST night in Europe/Paris (2025-03-30, 01:00 UTC): before it +1 h, after it +2 h
        activity("before_dst", dt.datetime(2025, 3, 29, 23, 30), offset_s=3600),
        activity("after_dst", dt.datetime(2025, 3, 30, 22, 30), offset_s=7200),
    ])
    got = dict(with_local_date(activities_frame(acts).lazy()).select("activity_id", "date").collect().iter_rows())
    assert got == {"late": D(2025, 1, 11), "cross": D(2025, 1, 10), "before_dst": D(2025, 3, 30), "after_dst": D(2025, 3, 31)}


def test_weeks_across_year_boundary_rest_week_and_foster():
    rows = [
        (D(2024, 12, 29), True, 30000.0, 9000.0, 100.0, False),  # Sunday: week of Mon 2024-12-23
        (D(2025, 1, 1), True, 10000.0, 3000.0, 70.0, False),  # ISO week 1 of 2025: Mon 2024-12-30
        (D(2025, 1, 3), True, 12000.0, 3600.0, 70.0, False),
        (D(2025, 1, 5), True, 21000.0, 6300.0, 70.0, False),
        (D(2024, 12, 31), False, 40000.0, 5400.0, 70.0, False),  # a ride: load but not a run
        (D(2025, 1, 20), True, 5000.0, 1500.0, 20.0, False),  # after a rest week (Jan 6-12, 13-19)
    ]
    daily = build(rows, D(2024, 12, 29), D(2025, 1, 21))
    weeks = weekly_summary(daily.lazy(), summary_rows(rows)).collect()
    assert weeks["week_start"].to_list() == [D(2024, 12, 23), D(2024, 12, 30), D(2025, 1, 6), D(2025, 1, 13), D(2025, 1, 20)]
    w = weeks.row(1, named=True)
    assert (w["distance_m"], w["runs"], w["longest_run_m"], w["trimp"]) == (43000.0, 3, 21000.0, 280.0)
    # daily trimp Mon..Sun: 0, 70, 70, 0, 70, 0, 70 -> mean 40, population sd sqrt(1200)
    assert w["monotony"] == pytest.approx(40 / 1200**0.5)
    assert w["strain"] == pytest.approx(280 * 40 / 1200**0.5)
    rest = weeks.row(2, named=True)
    assert (rest["distance_m"], rest["runs"], rest["trimp"], rest["monotony"], rest["strain"]) == (0.0, 0, 0.0, None, None)
    for col in ("distance_m", "duration_s", "runs", "trimp"):  # weekly sums == daily sums
        assert weeks[col].sum() == pytest.approx(daily[col].sum())
