"""The public layer on a private lake built to break the anonymization rules."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from bench.private_history import Run, offset_point, write_private_lake
from pipeline.steps.build_public import build_public
from lake import public as public_tables
from lake.public_id_key import KEY_PATH
from lake.storage import Lake
from lake.table import read
from runlake.settings import Settings

HOME = (48.85, 2.35, 300.0)
WORK = (48.87, 2.45, 250.0)
TODAY = dt.date(2025, 3, 20)
T0 = dt.datetime(2025, 3, 10, 6, 30, tzinfo=dt.timezone.utc)


def _dist(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _runs() -> list[Run]:
    west_of_work = offset_point(WORK[0], WORK[1], 0.0, -3000.0)
    day = dt.timedelta(days=1)
    return [
        Run("a_start_home", T0, HOME[0], HOME[1], 5000.0, bearing_deg=90, efforts={"1k": 230.0, "5k": 1250.0}),
        Run("b_through_work", T0 + day, *west_of_work, 6000.0, bearing_deg=90),
        Run("c_short", T0 + 2 * day, 45.0, 5.0, 390.0),
        Run("d_private_env", T0 + 3 * day, 45.0, 5.0, 21000.0, efforts={"1k": 170.0, "half": 3600.0}),
        Run("e_strava_private", T0 + 4 * day, 45.0, 5.0, 8000.0, source="fit+strava", is_private=True, strava_id=77),
        Run("f_strava_only", T0 + 5 * day, 45.0, 5.0, 9000.0, source="strava", strava_id=88),
        Run("g_merged", T0 + 6 * day, 45.0, 5.0, 7000.0, source="fit+strava", strava_id=99),
        Run("h_deleted", T0 + 7 * day, 45.0, 5.0, 6000.0, is_deleted=True),
        Run("i_plain", T0 + 8 * day, 45.5, 5.5, 5000.0, bearing_deg=0),
        Run("j_treadmill", T0 + 8 * day, None, None, 8000.0),
    ]


def _settings(lake_dir, **extra) -> Settings:
    zones = ";".join(f"{lat},{lon},{r}" for lat, lon, r in (HOME, WORK))
    values = dict(lake_uri=str(lake_dir), privacy_zones=zones, private_activities="d_private_env", timezone="Europe/Paris")
    values.update(extra)
    return Settings(**values)


@pytest.fixture()
def built(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _runs())
    settings = _settings(tmp_path / "lake")
    build_public(lake, settings, today=TODAY)
    return lake, settings


def _public(lake, spec) -> pl.DataFrame:
    return read(lake, spec)


def _ids_of(lake) -> dict[str, str]:
    from marts.public import public_id
    from pipeline.steps.build_public import public_id_key

    key = public_id_key(lake, _settings(lake.root))
    return {r.activity_id: public_id(key, r.activity_id) for r in _runs()}


def test_only_public_activities_are_published(built):
    lake, _ = built
    ids = _ids_of(lake)
    published = set(_public(lake, public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])
    expected = {ids[a] for a in ("a_start_home", "b_through_work", "c_short", "g_merged", "i_plain", "j_treadmill")}
    assert published == expected
    for spec in (public_tables.ROUTES_PUBLIC, public_tables.SAMPLES_PUBLIC, public_tables.BEST_EFFORTS_PUBLIC):
        assert set(_public(lake, spec)["public_activity_id"]) <= expected, spec.name


def test_hidden_activities_leave_no_trace_in_aggregates(built):
    lake, _ = built
    weekly = _public(lake, public_tables.WEEKLY_SUMMARY_PUBLIC)
    daily = _public(lake, public_tables.DAILY_LOAD_PUBLIC)
    acts = _public(lake, public_tables.ACTIVITIES_PUBLIC)
    public_km = 5000 + 6000 + 390 + 7000 + 5000 + 8000
    assert weekly["distance_m"].sum() == pytest.approx(public_km)
    assert daily["distance_m"].sum() == pytest.approx(public_km)
    assert acts["distance_m"].sum() == pytest.approx(public_km)
    assert daily["runs"].sum() == 6
    assert daily["date"].max() == TODAY  # up to today, rest days included
    # The private half marathon is no public PB and no prediction basis.
    bests = _public(lake, public_tables.PERSONAL_BESTS_PUBLIC)
    assert set(bests["effort"]) == {"1k", "5k"}
    assert bests.filter(pl.col("effort") == "1k", pl.col("period") == "all")["elapsed_s"][0] == 230.0
    preds = _public(lake, public_tables.RACE_PREDICTIONS_PUBLIC)
    assert preds.height > 0 and set(preds["basis_effort"]) == {"5k"}


def _route(lake, activity_id) -> pl.DataFrame:
    pid = _ids_of(lake)[activity_id]
    return _public(lake, public_tables.ROUTES_PUBLIC).filter(pl.col("public_activity_id") == pid).sort("seq")


def _outside(zone, route: pl.DataFrame) -> bool:
    lat, lon, r = zone
    return all(_dist(lat, lon, a, b) > r for a, b in zip(route["lat_deg"], route["lon_deg"]))


def test_route_starting_inside_a_zone_has_no_position(built):
    lake, _ = built
    assert _route(lake, "a_start_home").is_empty()
    pid = _ids_of(lake)["a_start_home"]
    assert _public(lake, public_tables.ROUTE_SHAPES_PUBLIC).filter(pl.col("public_activity_id") == pid).is_empty()
    acts = _public(lake, public_tables.ACTIVITIES_PUBLIC).filter(pl.col("public_activity_id") == pid)
    assert acts.select("has_route", "has_route_shape").row(0) == (False, False)


def test_route_starting_inside_a_zone_is_only_a_shape_when_the_athlete_opts_in(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _runs())
    build_public(lake, _settings(tmp_path / "lake", privacy_place_routes="shape"), today=TODAY)
    assert _route(lake, "a_start_home").is_empty()
    pid = _ids_of(lake)["a_start_home"]
    shape = _public(lake, public_tables.ROUTE_SHAPES_PUBLIC).filter(pl.col("public_activity_id") == pid)
    assert shape.height > 100 and "lat_deg" not in shape.columns
    acts = _public(lake, public_tables.ACTIVITIES_PUBLIC).filter(pl.col("public_activity_id") == pid)
    assert acts.select("has_route", "has_route_shape").row(0) == (False, True)


def test_route_through_a_zone_is_not_on_the_map(built):
    lake, _ = built
    assert _route(lake, "b_through_work").is_empty()
    pid = _ids_of(lake)["b_through_work"]
    acts = _public(lake, public_tables.ACTIVITIES_PUBLIC).filter(pl.col("public_activity_id") == pid)
    assert acts.select("has_route", "has_route_shape").row(0) == (False, False)


def test_trim_is_a_keyed_straight_line_distance_from_first_and_last_fix(built):
    lake, _ = built
    route = _route(lake, "i_plain")
    start, end = (45.5, 5.5), offset_point(45.5, 5.5, 5000.0, 0.0)
    first = _dist(*start, route["lat_deg"][0], route["lon_deg"][0])
    last = _dist(*end, route["lat_deg"][-1], route["lon_deg"][-1])
    assert 200 <= first <= 400 + 15 and 200 <= last <= 400 + 15
    assert abs(first - last) > 1  # two keyed radii, not one published constant


def test_run_shorter_than_twice_the_trim_publishes_no_points(built):
    lake, _ = built
    pid = _ids_of(lake)["c_short"]
    assert _route(lake, "c_short").is_empty()
    assert _public(lake, public_tables.SAMPLES_PUBLIC).filter(pl.col("public_activity_id") == pid).is_empty()
    acts = _public(lake, public_tables.ACTIVITIES_PUBLIC).filter(pl.col("public_activity_id") == pid)
    assert acts["has_route"].to_list() == [False]


def test_samples_are_trimmed_and_relative(built):
    lake, _ = built
    pid = _ids_of(lake)["j_treadmill"]
    samples = _public(lake, public_tables.SAMPLES_PUBLIC).filter(pl.col("public_activity_id") == pid).sort("seq")
    assert samples.height > 50
    assert samples["distance_m"].min() >= 200 and samples["distance_m"].max() <= 8000 - 200
    assert samples["elapsed_s"].min() > 0 and samples["speed_mps"].mean() == pytest.approx(3.5)
    assert _route(lake, "j_treadmill").is_empty()


def test_strava_only_is_published_only_when_allowed(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _runs())
    build_public(lake, _settings(tmp_path / "lake", public_sources="fit,strava"), today=TODAY)
    pid = _ids_of(lake)["f_strava_only"]
    assert pid in set(_public(lake, public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])


def test_no_time_of_day_or_private_identifier_anywhere_in_public(built):
    lake, _ = built
    secrets = {r.activity_id for r in _runs()} | {"3999999999", "Secret", "door to door", "g123", "ab" * 32, "garmin"}
    for spec in public_tables.ALL:
        frame = _public(lake, spec)
        assert not public_tables.FORBIDDEN_COLUMNS.intersection(frame.columns), spec.name
        for name, dtype in frame.schema.items():
            assert not isinstance(dtype, (pl.Datetime, pl.Time)), f"{spec.name}.{name} bears a time of day"
            if dtype == pl.String:
                values = set(frame[name].drop_nulls())
                assert not any(s in v for s in secrets for v in values), f"{spec.name}.{name} leaks"


def test_public_ids_stable_and_not_derivable(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    write_private_lake(lake, _runs())
    settings = _settings(tmp_path / "lake")
    build_public(lake, settings, today=TODAY)
    first = sorted(_public(lake, public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])
    build_public(lake, settings, today=TODAY)
    assert sorted(_public(lake, public_tables.ACTIVITIES_PUBLIC)["public_activity_id"]) == first
    key_file = tmp_path / "lake" / KEY_PATH
    assert key_file.is_file() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert not any("key" in p.name for p in (tmp_path / "lake" / "public").rglob("*"))
    import hashlib

    private = {r.activity_id for r in _runs()}
    plain_hashes = {hashlib.sha256(a.encode()).hexdigest()[:20] for a in private}
    assert not set(first) & (private | plain_hashes)
    # A salt replaces the lake's key: other ids, again stable.
    salted = _settings(tmp_path / "lake", public_id_salt="pepper-" + "p" * 40)  # 47 base64url characters
    build_public(lake, salted, today=TODAY)
    with_salt = sorted(_public(lake, public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])
    assert not set(with_salt) & set(first)
    build_public(lake, salted, today=TODAY)
    assert sorted(_public(lake, public_tables.ACTIVITIES_PUBLIC)["public_activity_id"]) == with_salt


def test_empty_lake_builds_empty_public_tables(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    counts = build_public(lake, _settings(tmp_path / "lake", private_activities=""), today=TODAY)
    assert set(counts) == {s.name for s in public_tables.ALL} and not any(counts.values())
    for spec in public_tables.ALL:
        assert read(lake, spec).schema == spec.schema


def test_bad_privacy_zone_fails_before_writing(tmp_path):
    lake = Lake.at(str(tmp_path / "lake"))
    with pytest.raises(ValueError, match="RUNLAKE_PRIVACY_ZONES"):
        build_public(lake, _settings(tmp_path / "lake", privacy_zones="48.8,2.3"), today=TODAY)
    assert not (tmp_path / "lake" / "public").exists()


def test_tracks_computed_in_a_pool_of_processes_equal_a_serial_build(tmp_path, monkeypatch, pools_started):
    """A fresh public layer with many activities spreads the records partitions over processes:
    the same rows as one process, partition after partition."""
    import pipeline.steps.build_public as steps

    year = dt.timedelta(days=365)
    runs = _runs() + [Run(f"y{n}", T0 - n * year, 45.2, 5.2, 6000.0, bearing_deg=45) for n in (1, 2)]
    monkeypatch.setattr(steps, "PARALLEL_MIN_ACTIVITIES", 1)
    pools = pools_started(steps)
    tables = {}
    for workers in (1, 2):
        lake = Lake.at(str(tmp_path / f"lake{workers}"))
        write_private_lake(lake, runs)
        key = tmp_path / "lake1" / KEY_PATH
        if workers == 2:  # the same public-id key, so the same public ids
            (tmp_path / "lake2" / KEY_PATH).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "lake2" / KEY_PATH).write_bytes(key.read_bytes())
        build_public(lake, _settings(tmp_path / f"lake{workers}", workers=workers), today=TODAY)
        tables[workers] = {spec.name: read(lake, spec).sort(read(lake, spec).columns) for spec in public_tables.TRACKS}
    assert pools == [2]
    assert all(tables[2][name].height for name in ("public/samples", "public/routes"))
    for name, frame in tables[1].items():
        assert tables[2][name].equals(frame), name
