"""build_marts on a tmp_path lake written directly (no FIT ingest): full vs incremental,
empty lake, only non-running activities, no HR."""

import datetime as dt
import math

import polars as pl
import pytest

from pipeline.steps.build_marts import build_marts
from lake import activities as A
from lake import athlete_profile
from lake import records as R
from lake.marts import ACTIVITY_SUMMARY, ALL, BEST_EFFORTS, DAILY_LOAD, WEEKLY_SUMMARY
from lake.storage import Lake
from lake.table import delete_rows, read, replace_rows, upsert
from marts.profile import ProfileError
from runlake.settings import Settings
from tests.marts.factory import activities_frame, activity, records_frame, samples

TODAY = dt.date(2025, 2, 10)


def _run(aid: str, start: dt.datetime, minutes: int, hr: int | None, speed: float = 4.0, **kw) -> tuple[dict, list[dict]]:
    pts = [(s, hr, s * speed, 100.0 + (s % 600) / 60) for s in range(0, minutes * 60 + 1, 5)]
    return activity(aid, start, distance_m=minutes * 60 * speed, moving_s=minutes * 60.0, **kw), samples(aid, start, pts)


def _write(lake: Lake, items: list[tuple[dict, list[dict]]]) -> None:
    upsert(lake, A.SPEC, activities_frame([a for a, _ in items]))
    recs = [r for _, rs in items for r in rs]
    if recs:
        replace_rows(lake, R.SPEC, records_frame(recs), by="activity_id", values=[a["activity_id"] for a, _ in items if _])


def _history() -> list[tuple[dict, list[dict]]]:
    d = dt.datetime(2025, 1, 1, 6)
    return [
        _run("a1", d, 40, 150),
        _run("a2", d + dt.timedelta(hours=10), 30, 140),  # double on day 1
        _run("a3", d + dt.timedelta(days=3), 60, None),  # no HR: pace fallback
        (activity("ride", d + dt.timedelta(days=4), sport="cycling", distance_m=40000.0, moving_s=5400.0, avg_hr=130.0), []),
        _run("a4", d + dt.timedelta(days=20), 50, 160, offset_s=3600),
    ]


def _tables(lake: Lake) -> dict[str, pl.DataFrame]:
    keys = {spec.name: list(spec.key) for spec in ALL}
    return {spec.name: read(lake, spec).sort(keys[spec.name]) for spec in ALL}


def test_full_equals_incremental(tmp_path):
    inc, full = Lake.at(str(tmp_path / "inc")), Lake.at(str(tmp_path / "full"))
    settings = Settings(lake_uri=str(tmp_path / "inc"))
    hist = _history()
    _write(inc, hist[:4])
    first = build_marts(inc, settings, today=TODAY)
    assert first.mode == "full"
    new = [_run("a5", dt.datetime(2025, 1, 25, 7), 45, 155), hist[4]]
    _write(inc, new)
    second = build_marts(inc, settings, today=TODAY)
    assert second.mode == "incremental" and second.recomputed == 2 and second.from_day == dt.date(2025, 1, 21)
    _write(full, hist + new[:1])
    build_marts(full, settings, full=True, today=TODAY)
    got, want = _tables(inc), _tables(full)
    for name in want:
        assert got[name].equals(want[name]), name
    # an unchanged rebuild recomputes nothing, a deletion is removed everywhere
    assert build_marts(inc, settings, today=TODAY).recomputed == 0
    delete_rows(inc, A.SPEC, "activity_id = 'a2'")
    third = build_marts(inc, settings, today=TODAY)
    assert third.removed == 1 and third.from_day == dt.date(2025, 1, 1)
    assert "a2" not in read(inc, ACTIVITY_SUMMARY)["activity_id"].to_list()
    assert "a2" not in read(inc, BEST_EFFORTS)["activity_id"].to_list()


def test_lake_level_values(tmp_path):
    lake = Lake.at(str(tmp_path))
    settings = Settings(lake_uri=str(tmp_path), hr_rest_bpm=40, hr_max_bpm=190)
    _write(lake, _history())
    build_marts(lake, settings, today=TODAY)
    daily = read(lake, DAILY_LOAD).sort("date")
    assert daily["date"].to_list() == pl.date_range(dt.date(2025, 1, 1), TODAY, eager=True).to_list()
    day1 = daily.row(0, named=True)
    # two runs on day 1: 40 + 30 min at HR 150 / 140, 5 s samples all counting
    k = 1.92
    t150, t140 = (150 - 40) / 150, (140 - 40) / 150
    trimp1 = 40 * t150 * 0.64 * math.exp(k * t150) + 30 * t140 * 0.64 * math.exp(k * t140)
    assert day1["trimp"] == pytest.approx(trimp1) and day1["runs"] == 2
    assert day1["ctl"] == pytest.approx(trimp1 / 42) and day1["atl"] == pytest.approx(trimp1 / 7) and day1["tsb"] == 0
    assert daily.filter(pl.col("date") == dt.date(2025, 1, 4))["trimp_estimated"][0] is True
    ride_day = daily.filter(pl.col("date") == dt.date(2025, 1, 5)).row(0, named=True)
    assert ride_day["runs"] == 0 and ride_day["distance_m"] == 0 and ride_day["trimp"] > 0
    for spec in ALL:
        frame = read(lake, spec)
        floats = [c for c, t in frame.schema.items() if t == pl.Float64]
        assert not frame.select(pl.any_horizontal(pl.col(floats).is_nan()).any()).item(), spec.name
    weekly = read(lake, WEEKLY_SUMMARY)
    assert weekly["trimp"].sum() == pytest.approx(daily["trimp"].sum())


def test_empty_lake_and_only_non_running(tmp_path):
    lake = Lake.at(str(tmp_path))
    settings = Settings(lake_uri=str(tmp_path))
    result = build_marts(lake, settings, today=TODAY)
    assert result.activities == 0
    assert all(read(lake, spec).is_empty() for spec in ALL)
    _write(lake, [(activity("ride", dt.datetime(2025, 2, 1, 8), sport="cycling", distance_m=30000.0, moving_s=3600.0), [])])
    build_marts(lake, settings, today=TODAY)
    daily = read(lake, DAILY_LOAD)
    assert daily.height == 10 and daily["runs"].sum() == 0 and daily["trimp"].sum() > 0
    assert read(lake, BEST_EFFORTS).is_empty()


def test_profile_history_and_bad_values(tmp_path):
    lake = Lake.at(str(tmp_path))
    settings = Settings(lake_uri=str(tmp_path), hr_rest_bpm=40, hr_max_bpm=190)
    _write(lake, _history())
    build_marts(lake, settings, today=TODAY)
    before = read(lake, ACTIVITY_SUMMARY).sort("activity_id")
    profile = pl.DataFrame({"athlete_id": ["me"], "valid_from": [dt.date(2025, 1, 15)], "hr_max_bpm": [200]})
    upsert(lake, athlete_profile.SPEC, profile)
    result = build_marts(lake, settings, today=TODAY)
    assert result.recomputed == 1  # only a4 (Jan 21) falls after the change
    after = read(lake, ACTIVITY_SUMMARY).sort("activity_id")
    changed = after.join(before, on="activity_id").filter(pl.col("trimp") != pl.col("trimp_right"))
    assert changed["activity_id"].to_list() == ["a4"]
    upsert(lake, athlete_profile.SPEC, pl.DataFrame({"athlete_id": ["me"], "valid_from": [dt.date(2025, 2, 1)], "hr_rest_bpm": [200]}))
    with pytest.raises(ProfileError, match="resting HR 200"):
        build_marts(lake, settings, today=TODAY)


def test_two_athletes_in_one_lake_keep_their_own_marts(tmp_path):
    lake = Lake.at(str(tmp_path))
    me, you = Settings(lake_uri=str(tmp_path)), Settings(lake_uri=str(tmp_path), athlete_id="you")
    theirs = _run("y1", dt.datetime(2025, 1, 5, 7), 30, 150)
    theirs[0]["athlete_id"] = "you"
    for r in theirs[1]:
        r["athlete_id"] = "you"
    _write(lake, _history() + [theirs])
    build_marts(lake, me, today=TODAY)
    first = build_marts(lake, you, today=TODAY)
    assert first.mode == "full" and first.activities == 1
    build_marts(lake, me, full=True, today=TODAY)
    daily = read(lake, DAILY_LOAD)
    assert daily.filter(pl.col("athlete_id") == "you")["date"].min() == dt.date(2025, 1, 5)
    assert daily.filter(pl.col("athlete_id") == "me")["date"].min() == dt.date(2025, 1, 1)
    assert read(lake, ACTIVITY_SUMMARY).filter(pl.col("athlete_id") == "you")["activity_id"].to_list() == ["y1"]


def test_a_mart_written_by_an_older_schema_is_migrated_by_the_next_build(tmp_path):
    from deltalake import write_deltalake

    lake = Lake.at(str(tmp_path))
    settings = Settings(lake_uri=str(tmp_path))
    _write(lake, _history())
    build_marts(lake, settings, today=TODAY)
    old = read(lake, WEEKLY_SUMMARY).drop("strain").to_arrow()  # as if `strain` were added later
    write_deltalake(WEEKLY_SUMMARY.uri(lake), old, mode="overwrite", schema_mode="overwrite")
    assert build_marts(lake, settings, today=TODAY).mode == "full"
    assert read(lake, WEEKLY_SUMMARY)["strain"].drop_nulls().len() > 0


def test_progress_reports_every_recomputed_activity(tmp_path):
    lake = Lake.at(str(tmp_path))
    _write(lake, _history())
    seen: list[tuple[int, int]] = []
    build_marts(lake, Settings(lake_uri=str(tmp_path)), today=TODAY, progress=lambda n, total: seen.append((n, total)))
    assert sum(n for n, _ in seen) == 5 and {total for _, total in seen} == {5}


def test_a_build_spread_over_processes_equals_a_serial_one(tmp_path, monkeypatch, pools_started):
    """Partitions (UTC years) computed in a pool of spawned processes give the serial build's rows."""
    import pipeline.steps.build_marts as steps

    hist = _history() + [_run(f"y{year}", dt.datetime(year, 6, 1, 7), 35, 150) for year in (2023, 2024)]
    serial, pooled = Lake.at(str(tmp_path / "serial")), Lake.at(str(tmp_path / "pooled"))
    _write(serial, hist)
    _write(pooled, hist)
    monkeypatch.setattr(steps, "PARALLEL_MIN_ACTIVITIES", 1)
    pools = pools_started(steps)
    seen: list[int] = []
    build_marts(serial, Settings(lake_uri=str(tmp_path / "serial")), today=TODAY, workers=1)
    build_marts(pooled, Settings(lake_uri=str(tmp_path / "pooled")), today=TODAY, workers=2, progress=lambda n, _: seen.append(n))
    assert pools == [2]  # the serial build started none
    assert sorted(seen) == [1, 1, 5]  # three partitions, reported as each came back
    got, want = _tables(pooled), _tables(serial)
    for name in want:
        assert got[name].equals(want[name]), name
