"""A Strava bulk export (FIT, GPX, TCX, gzipped) imported, and the same runs synced from the fake
Strava API, in either order: one activity per run, with the archive's source and Strava id.

Runs from the synthetic FIT generator (always); the same with the real FIT corpus
(`../shared/data/fit`) when it is present.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from lake import activities, fit_files, quarantine, records
from lake.storage import Lake
from lake.table import read
from pipeline.archive_import import import_archive
from pipeline.strava_sync import sync_strava
from sources.fit.decode import decode_fit
from sources.fit.synthetic import run_bytes
from tests.sources.archive_builders import gpx_from_fit, strava_export_zip, tcx_from_fit
from tests.sources.strava.conftest import no_sleep
from tests.sources.strava.fake_data import make_run

T0 = datetime(2025, 4, 7, 7, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
KINDS = ("fit", "gpx", "tcx")


def archive_runs(fits: list[bytes]) -> list[tuple[int, str, bytes, dict]]:
    """Run i of `fits` as a FIT, GPX or TCX file (by turns), Strava ids 700, 701…"""
    out = []
    for i, fit in enumerate(fits):
        kind = KINDS[i % 3]
        data = fit if kind == "fit" else gpx_from_fit(fit) if kind == "gpx" else tcx_from_fit(fit)
        out.append((700 + i, f"{9000 + i}.{kind}", data, {"name": f"Run {i}", "gear": "Pegasus 40"}))
    return out


def strava_side(fake, fits: list[bytes]) -> None:
    """The same runs on Strava: same start and distance as the watch recorded them."""
    for i, fit in enumerate(fits):
        summary = decode_fit(fit).sessions[0].summary
        run = make_run(700 + i, summary["start_time"], duration_s=int(summary["elapsed_s"]), name=f"Run {i} (Strava)")
        run.distance = summary["distance_m"]
        fake.add(run)


def live(lake: Lake) -> pl.DataFrame:
    return read(lake, activities.SPEC).filter(~pl.col("is_deleted")).sort("strava_id")


def check_one_activity_per_run(lake: Lake, n: int) -> pl.DataFrame:
    acts = live(lake)
    assert acts.height == n
    assert acts["strava_id"].to_list() == [700 + i for i in range(n)]
    assert acts["source"].to_list() == [f"{KINDS[i % 3]}+strava" for i in range(n)]
    assert acts["fit_sha256"].null_count() == 0
    assert set(read(lake, records.SPEC)["activity_id"]) == set(acts["activity_id"])  # no Strava-only samples left
    return acts


def import_zip(lake: Lake, settings, tmp_path: Path, runs) -> Path:
    path = tmp_path / "export_12345.zip"
    path.write_bytes(strava_export_zip(runs))
    report = import_archive(lake, settings, str(path), workers=1)
    assert report.ingest.quarantined == [] and report.ingest.unreadable == []
    return path


def synthetic_fits() -> list[bytes]:
    return [run_bytes(T0 + timedelta(days=i), 4000 + 500 * i, seed=20 + i) for i in range(3)]


@pytest.mark.parametrize("order", ["archive-first", "strava-first"])
def test_archive_and_sync_give_one_activity_per_run(make_fake, settings_for, tmp_path, order):
    fits = synthetic_fits()
    fake = make_fake(0)
    strava_side(fake, fits)
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)
    runs = archive_runs(fits)
    if order == "archive-first":
        path = import_zip(lake, settings, tmp_path, runs)
        acts = live(lake)
        assert acts["name"].to_list() == ["Run 0", "Run 1", "Run 2"] and set(acts["gear_id"]) == {"Pegasus 40"}
        streams = fake.count(r"/api/v3/activities/\d+/streams")
        sync_strava(lake, settings, sleep=no_sleep)
        assert fake.count(r"/api/v3/activities/\d+/streams") == streams  # the archive's samples are kept
    else:
        sync_strava(lake, settings, sleep=no_sleep)
        assert live(lake)["source"].to_list() == ["strava"] * 3
        path = import_zip(lake, settings, tmp_path, runs)
    acts = check_one_activity_per_run(lake, 3)
    assert acts["name"].to_list() == [f"Run {i} (Strava)" for i in range(3)] or order == "archive-first"
    # importing the same archive again adds nothing; syncing again neither
    before = read(lake, activities.SPEC).drop("updated_at").sort("activity_id")
    again = import_archive(lake, settings, str(path), workers=1)
    assert again.ingest.already_known == 3 and again.ingest.ingested == 0
    sync_strava(lake, settings, sleep=no_sleep)
    check_one_activity_per_run(lake, 3)
    assert read(lake, activities.SPEC).drop("updated_at").sort("activity_id").drop("name").equals(before.drop("name"))
    assert read(lake, fit_files.SPEC).height == 3


def test_bad_files_are_quarantined_and_the_rest_imported(tmp_path):
    from runlake.settings import Settings

    lake = Lake.at(str(tmp_path / "lake"))
    settings = Settings(home=tmp_path / "home", lake_uri=lake.root)
    fit = synthetic_fits()[0]
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "good.gpx").write_bytes(gpx_from_fit(fit))
    (folder / "broken.tcx").write_bytes(b"<TrainingCenterDatabase><Activities>")
    (folder / "readme.txt").write_text("not an activity")
    report = import_archive(lake, settings, str(folder), workers=1)
    assert report.listed == 2 and report.ingest.ingested == 1
    assert [name for name, _ in report.ingest.quarantined] == ["broken.tcx"]
    assert read(lake, quarantine.SPEC)["error"].item().startswith("unreadable TCX")
    assert live(lake)["source"].to_list() == ["gpx"]


def test_real_fit_files_in_a_strava_export(make_fake, settings_for, tmp_path, shared_fit_dir):
    fits = []
    for path in sorted(shared_fit_dir.rglob("*.fit")):
        try:
            decoded = decode_fit(path.read_bytes())
        except Exception:  # noqa: BLE001 - the corpus holds broken files on purpose: pick decodable runs
            continue
        s = decoded.sessions[0]
        if (len(decoded.sessions) == 1 and s.summary["sport"] == "running" and (s.summary["distance_m"] or 0) > 1000
                and s.records["lat_deg"].null_count() < s.records.height // 10):
            fits.append(path.read_bytes())
        if len(fits) == 3:
            break
    assert len(fits) == 3, "the corpus holds fewer than three GPS runs"
    fake = make_fake(0)
    strava_side(fake, fits)
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)
    import_zip(lake, settings, tmp_path, archive_runs(fits))
    sync_strava(lake, settings, sleep=no_sleep)
    acts = check_one_activity_per_run(lake, 3)
    for i, fit in enumerate(fits):  # GPX and TCX within the documented tolerance of the FIT values
        ref = decode_fit(fit).sessions[0].summary
        row = acts.row(i, named=True)
        assert row["start_time"] == ref["start_time"].astimezone(UTC)
        # GPX: the haversine length of the points, unsmoothed: GPS jitter adds up to 5 % on real files
        assert row["distance_m"] == pytest.approx(ref["distance_m"], rel=0.05 if KINDS[i % 3] == "gpx" else 1e-6)
        if KINDS[i % 3] == "gpx":
            assert row["distance_m"] >= ref["distance_m"] * 0.99
        assert row["elapsed_s"] == pytest.approx(ref["elapsed_s"], abs=1.5)


def test_lake_rebuild_re_derives_imported_gpx_and_tcx(tmp_path):
    from lake import laps
    from pipeline.steps.rebuild import rebuild_from_raw
    from runlake.settings import Settings

    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"))
    lake = Lake.at(settings.lake)
    path = tmp_path / "export.zip"
    path.write_bytes(strava_export_zip(archive_runs(synthetic_fits())))
    import_archive(lake, settings, str(path), workers=1)

    def snapshot() -> dict[str, pl.DataFrame]:
        return {
            "activities": read(lake, activities.SPEC).drop("updated_at").sort("activity_id"),
            "laps": read(lake, laps.SPEC).sort("activity_id", "lap_index"),
            "records": read(lake, records.SPEC).sort("activity_id", "seq"),
        }

    before = snapshot()
    assert sorted(before["activities"]["source"]) == ["fit+strava", "gpx+strava", "tcx+strava"]
    report = rebuild_from_raw(lake, settings, workers=1)
    assert report.files == 3 and report.activities == 3 and report.quarantined == 0
    after = snapshot()
    for name, frame in before.items():
        assert after[name].equals(frame, null_equal=True), name


def test_archive_gear_names_count_for_the_strava_gear_of_that_name(make_fake, settings_for, tmp_path):
    """The CSV gives gear names, the sync gear ids: `marts/gear_distance` puts both on one shoe."""
    from lake import gear as gear_table
    from lake.marts import GEAR_DISTANCE
    from pipeline.steps.build_marts import build_marts

    fits = synthetic_fits()
    fake = make_fake(0)
    strava_side(fake, fits[:1])  # only run 0 is on Strava (gear g1, "Fake Pegasus")
    settings = settings_for(fake, fake.issue_refresh_token())
    lake = Lake.at(settings.lake)
    runs = [(sid, name, data, {**fields, "gear": " fake PEGASUS "}) for sid, name, data, fields in archive_runs(fits)]
    import_zip(lake, settings, tmp_path, runs)
    report = sync_strava(lake, settings, sleep=no_sleep)
    assert report.gear == 1 and fake.count(r"/api/v3/gear/g1") == 1
    assert read(lake, gear_table.SPEC).select("gear_id", "name", "source").rows() == [("g1", "Fake Pegasus", "strava")]
    acts = live(lake)
    assert acts["gear_id"].to_list() == ["g1", "fake PEGASUS", "fake PEGASUS"]  # names, case as in the CSV
    build_marts(lake, settings, today=(T0 + timedelta(days=10)).date())
    mart = read(lake, GEAR_DISTANCE)
    assert mart["gear_id"].to_list() == ["g1"]
    assert mart["distance_m"][0] == pytest.approx(acts["distance_m"].sum()) and mart["runs"][0] == 3
    sync_strava(lake, settings, sleep=no_sleep)
    assert fake.count(r"/api/v3/gear/g1") == 1  # known gear is not fetched again
