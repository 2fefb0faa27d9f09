"""One activity per run across sources: the same end state whichever source arrives first.

Real watch files (the project's synthetic FIT generator) through the real FIT ingest, and Strava
activities through the real sync against the fake server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.steps.ingest_fit import ingest_fit_files, resolve_inputs
from lake import activities, laps, records
from lake.storage import Lake
from lake.table import read
from sources.fit.synthetic import write_run
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep
from tests.sources.strava.fake_data import make_run

T0 = datetime(2025, 4, 7, 5, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def watch_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("watch")
    write_run(root / "morning.fit", T0, 5000, seed=1)  # uploaded to Strava as this file
    write_run(root / "b.fit", T0 + timedelta(days=1), 4000, seed=2)  # also recorded by the phone
    write_run(root / "c.fit", T0 + timedelta(days=2), 3000, seed=3)  # never on Strava
    return root


def strava_side(fake) -> None:
    a = make_run(501, T0 + timedelta(minutes=7), external_id="morning.fit", duration_s=300, name="Hill reps")
    a.distance = 5600.0  # corrected on Strava: 12 % off, the external_id still names the file
    a.description, a.private = "legs heavy", True
    b = make_run(502, T0 + timedelta(days=1, seconds=25), external_id="iphone-7F3A", duration_s=300, name="Easy")
    b.distance = 4000 * 1.02  # within 3 %, starts 25 s apart
    d = make_run(504, T0 + timedelta(days=3), duration_s=300, name="Strava only")
    for activity in (a, b, d):
        fake.add(activity)


def ingest(lake: Lake, settings, folder: Path):
    items, options = resolve_inputs(settings, [str(folder)])
    return ingest_fit_files(lake, settings, items, read_options=options, workers=1)


def state_of(lake: Lake) -> dict[str, pl.DataFrame]:
    acts = read(lake, activities.SPEC).drop("updated_at").sort("activity_id")
    return {
        "activities": acts,
        "laps": read(lake, laps.SPEC).sort("activity_id", "lap_index"),
        "records": read(lake, records.SPEC).sort("activity_id", "seq"),
    }


def test_same_end_state_whichever_source_arrives_first(make_fake, settings_for, tmp_path, watch_files):
    fake = make_fake(0)
    strava_side(fake)
    token = fake.issue_refresh_token()
    fit_first = settings_for(fake, token, lake_uri=str(tmp_path / "fit-first"), home=tmp_path / "h1")
    # credentials live in each lake: the second lake is authorized on its own
    strava_first = settings_for(fake, fake.issue_refresh_token(), lake_uri=str(tmp_path / "strava-first"), home=tmp_path / "h1")
    lake1, lake2 = Lake.at(fit_first.lake), Lake.at(strava_first.lake)

    ingest(lake1, fit_first, watch_files)
    fit_ids = set(read(lake1, activities.SPEC)["activity_id"])
    before = fake.count(r"/api/v3/activities/\d+/streams")
    report = sync_strava(lake1, fit_first, sleep=no_sleep)
    assert report.merged == 2
    assert fake.count(r"/api/v3/activities/\d+/streams") - before == 1  # only the Strava-only run's samples

    sync_strava(lake2, strava_first, sleep=no_sleep)
    assert set(read(lake2, activities.SPEC)["activity_id"]) == {"strava-501", "strava-502", "strava-504"}
    ingest(lake2, strava_first, watch_files)

    one, two = state_of(lake1), state_of(lake2)
    acts = one["activities"]
    assert set(acts["activity_id"]) == fit_ids | {"strava-504"}
    by_strava = {r["strava_id"]: r for r in acts.to_dicts()}
    a, b = by_strava[501], by_strava[502]
    assert a["source"] == b["source"] == "fit+strava" and a["fit_sha256"] and b["fit_sha256"]
    assert (a["name"], a["description"], a["is_private"], a["gear_id"]) == ("Hill reps", "legs heavy", True, "g1")
    assert a["distance_m"] == pytest.approx(5000, rel=0.01)  # the watch's distance and samples win
    assert acts.filter(pl.col("strava_id").is_null())["source"].to_list() == ["fit"]
    assert by_strava[504]["source"] == "strava"
    for name in ("activities", "laps", "records"):
        assert one[name].equals(two[name]), f"{name} differ between the two orders"
    assert one["records"].filter(pl.col("activity_id").is_in(["strava-501", "strava-502"])).is_empty()

    # re-syncing and re-ingesting never split or duplicate anything
    sync_strava(lake1, fit_first, sleep=no_sleep)
    ingest(lake2, strava_first, watch_files)
    sync_strava(lake2, strava_first, sleep=no_sleep)
    for lake in (lake1, lake2):
        again = state_of(lake)
        assert again["activities"].equals(one["activities"]) and again["records"].height == one["records"].height


def merged_lake(make_fake, settings_for, watch_files):
    """The watch files ingested, then Strava synced: (fake, settings, lake)."""
    fake = make_fake(0)
    strava_side(fake)
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)
    ingest(lake, settings, watch_files)
    sync_strava(lake, settings, sleep=no_sleep)
    return fake, settings, lake


def test_deleted_on_strava_a_merged_run_stays_without_its_strava_fields(make_fake, settings_for, tmp_path, watch_files):
    fake, settings, lake = merged_lake(make_fake, settings_for, watch_files)
    merged_id = read(lake, activities.SPEC).filter(pl.col("strava_id") == 501)["activity_id"].item()
    samples = read(lake, records.SPEC).filter(pl.col("activity_id") == merged_id).height
    count = read(lake, activities.SPEC).height
    fake.delete(501)
    fake.delete(504)
    fake.activities[502].name, fake.activities[502].private = "Renamed on Strava", True
    before = fake.count(r"/api/v3/activities/\d+/streams")
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.deleted == 2 and report.updated == 1
    renamed = read(lake, activities.SPEC).filter(pl.col("strava_id") == 502).row(0, named=True)
    assert (renamed["name"], renamed["is_private"], renamed["source"]) == ("Renamed on Strava", True, "fit+strava")
    assert renamed["activity_id"].startswith("fit-") and read(lake, activities.SPEC).height == count
    assert fake.count(r"/api/v3/activities/\d+/streams") == before  # the watch's samples stay
    row = read(lake, activities.SPEC).filter(pl.col("activity_id") == merged_id).row(0, named=True)
    assert (row["source"], row["strava_id"], row["name"], row["description"], row["is_private"], row["is_deleted"]) == ("fit", None, None, None, False, False)
    assert read(lake, records.SPEC).filter(pl.col("activity_id") == merged_id).height == samples
    gone = read(lake, activities.SPEC).filter(pl.col("activity_id") == "strava-504").row(0, named=True)
    assert gone["is_deleted"] is True


def test_reingesting_a_watch_file_keeps_the_strava_fields(make_fake, settings_for, tmp_path, watch_files):
    fake, settings, lake = merged_lake(make_fake, settings_for, watch_files)
    before = read(lake, activities.SPEC).filter(pl.col("strava_id") == 501).row(0, named=True)
    # the same recording exported again (other bytes, same file_id): the FIT columns update only
    copy = tmp_path / "again"
    write_run(copy / "morning-export.fit", T0, 5000, seed=9)
    report = ingest(lake, settings, copy)
    assert report.ingested == 1
    row = read(lake, activities.SPEC).filter(pl.col("activity_id") == before["activity_id"]).row(0, named=True)
    assert row["fit_sha256"] != before["fit_sha256"]  # the new file's data…
    assert (row["strava_id"], row["name"], row["source"]) == (501, "Hill reps", "fit+strava")  # …Strava's fields kept
