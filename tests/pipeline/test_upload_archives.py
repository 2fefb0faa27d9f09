"""Web uploads of what `runlake import` takes: GPX, TCX, `.gz`, a Strava bulk export and a Garmin
Connect export, through the functions the `/upload` page and the `ingest-upload` flow call
(`unpack`, `stage_upload`, `staged_in`, `ingest_upload`). The rows equal those of `runlake import`
of the same zip; hostile archives are still refused."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import polars as pl
import pytest

import flows.ingest_upload as flow_module
from lake import activities, fit_files, laps, quarantine, records
from lake.storage import Lake
from lake.table import read
from pipeline.athletes import resolve_athlete
from pipeline.steps.ingest_upload import (
    RESULT_DUPLICATE, RESULT_INGESTED, RESULT_REFUSED, RESULT_SKIPPED, ingest_upload, stage_upload, staged_in,
)
from pipeline.uploads import MB, UploadLimits, UploadRefused, unpack
from runlake.settings import Settings
from tests.flows.test_cli_ingest import runlake
from tests.pipeline.test_archive_import import KINDS, archive_runs, synthetic_fits
from tests.pipeline.test_uploads import zipped
from tests.sources.archive_builders import gpx_from_fit, strava_export_zip, tcx_from_fit

LIMITS = UploadLimits(max_bytes=20 * MB, max_files=50, max_uncompressed_bytes=20 * MB, max_ratio=100)


@pytest.fixture(scope="module")
def fits() -> list[bytes]:
    return synthetic_fits()


@pytest.fixture(scope="module")
def export(fits) -> bytes:
    """A Strava bulk export: run 0 as FIT, 1 as GPX, 2 as TCX, all gzipped, with activities.csv
    (names "Run i", gear "Pegasus 40", Strava ids 700…), a profile.csv and a manual entry."""
    return strava_export_zip(archive_runs(fits))


def garmin_export(fits: list[bytes]) -> bytes:
    """A Garmin Connect data export: the originals in a zip inside the zip, beside JSON summaries."""
    inner = zipped([("me@example.com_123.fit", fits[0]), ("me@example.com_124.tcx", tcx_from_fit(fits[1])),
                    ("me@example.com_125.gpx", gpx_from_fit(fits[2]))])
    return zipped([
        ("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner),
        ("DI_CONNECT/DI-Connect-Fitness/me_summarizedActivities.json", b"[]"),
    ])


def reasons(unpacked) -> dict[str, str]:
    return {r.name: r.reason for r in unpacked.refused}


@pytest.fixture
def home(tmp_path):
    """A lake and inbox with the default athlete ("me"), as `runlake import` uses them."""
    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), inbox_uri=str(tmp_path / "inbox"))
    lake = Lake.at(settings.lake)
    return lake, resolve_athlete(lake, settings)


def upload(lake, athlete, blobs: list[tuple[str, bytes]]):
    """What the page's in-process job does: unpack, stage, ingest (upload_jobs.UploadJob.work)."""
    unpacked = unpack(blobs, LIMITS)
    staged = stage_upload(athlete.settings, unpacked.files, strava_csv=unpacked.strava_csv)
    return ingest_upload(lake, athlete, staged.files, strava=staged.strava, refused=unpacked.refused)


def results(report) -> dict[str, tuple[str, str]]:
    return {r.file: (r.result, r.detail) for r in report.files}


# --- unpack ---------------------------------------------------------------------------------------


def test_a_strava_export_unpacks_to_its_files_gunzipped_and_its_csv(fits, export):
    got = unpack([("export_12345.zip", export)], LIMITS)
    assert [f.name for f in got.files] == [f"export_12345.zip/activities/{9000 + i}.{KINDS[i]}.gz" for i in range(3)]
    assert [f.safe_name for f in got.files] == ["9000.fit", "9001.gpx", "9002.tcx"]
    assert got.files[0].data == fits[0] and got.files[1].data == gpx_from_fit(fits[1])
    assert sorted(got.strava) == ["9000.fit", "9001.gpx", "9002.tcx"]
    assert got.strava["9001.gpx"].strava_id == 701 and got.strava["9001.gpx"].gear == "Pegasus 40"
    assert len(got.strava_csv) == 1
    assert reasons(got) == {"export_12345.zip/profile.csv": "not a .fit, .gpx or .tcx file (optionally .gz)"}


def test_loose_gpx_tcx_and_gz_files_are_accepted_by_content(fits):
    gpx, tcx = gpx_from_fit(fits[1]), tcx_from_fit(fits[2])
    got = unpack([("a.gpx", gpx), ("b.TCX.gz", gzip.compress(tcx)), ("c.fit.gz", gzip.compress(fits[0])),
                  ("named.fit", gpx_from_fit(fits[0])), ("x.gpx", b"<html></html>"), ("y.tcx.gz", gzip.compress(b"{}")),
                  ("z.fit.gz", b"\x1f\x8b not really gzip"), ("notes.gz", gzip.compress(b"x"))], LIMITS)
    assert [(f.name, f.safe_name) for f in got.files] == [
        ("a.gpx", "a.gpx"), ("b.TCX.gz", "b.tcx"), ("c.fit.gz", "c.fit"), ("named.fit", "named.fit")]
    assert [f.data for f in got.files[:3]] == [gpx, tcx, fits[0]]
    assert reasons(got) == {
        "x.gpx": "not a GPX file (no <gpx> root element)",
        "y.tcx.gz": "not a TCX file (no <TrainingCenterDatabase> root element)",
        "z.fit.gz": "corrupt gzip stream",
        "notes.gz": "not a .fit, .gpx or .tcx file (optionally .gz) or a .zip archive",
    }


def test_a_loose_activities_csv_counts_and_an_unreadable_one_is_refused(fits):
    good = b"Activity ID,Activity Name,Filename\n42,Long run,activities/7.fit.gz\n"
    got = unpack([("activities.csv", good), ("7.fit", fits[0])], LIMITS)
    assert got.strava["7.fit"].strava_id == 42 and got.strava["7.fit"].name == "Long run" and not got.refused
    huge = b"Activity ID,Filename\n1,\"" + b"x" * 200_000 + b"\"\n"  # a field over the csv module's limit
    got = unpack([("export.zip", zipped([("activities.csv", huge), ("activities/7.fit", fits[0])]))], LIMITS)
    assert reasons(got) == {"export.zip/activities.csv": "activities.csv: unreadable at line 2 (field larger than field limit (131072))"}
    assert got.strava == {} and got.strava_csv == [] and len(got.files) == 1


def test_a_garmin_export_opens_one_nested_zip(fits):
    got = unpack([("garmin.zip", garmin_export(fits))], LIMITS)
    part = "garmin.zip/DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
    assert [f.name for f in got.files] == [f"{part}/me@example.com_123.fit", f"{part}/me@example.com_124.tcx",
                                           f"{part}/me@example.com_125.gpx"]
    assert reasons(got) == {"garmin.zip/DI_CONNECT/DI-Connect-Fitness/me_summarizedActivities.json":
                            "not a .fit, .gpx or .tcx file (optionally .gz)"}


def bomb_fit() -> bytes:
    """A FIT header and 5 MB of zeros: compresses about a thousand times."""
    return bytes([14, 0x20, 0, 0, 0, 0, 0, 0]) + b".FIT" + b"\0\0" + b"\0" * (5 * MB)


@pytest.mark.parametrize("blobs", [
    [("bomb.fit.gz", gzip.compress(bomb_fit()))],  # a gzip bomb sent as it is
    [("export.zip", zipped([("activities/1.fit.gz", gzip.compress(bomb_fit()))]))],  # inside a Strava export
    [("garmin.zip", zipped([("DI_CONNECT/Part1.zip", zipped([("run.fit", bomb_fit())]))]))],  # inside the nested zip
], ids=["gz", "zip-gz", "nested-zip"])
def test_bombs_in_gzip_streams_and_nested_zips_refuse_the_whole_upload(blobs):
    with pytest.raises(UploadRefused, match="zip bomb"):
        unpack(blobs, LIMITS)


def test_a_nested_zip_larger_than_the_budget_refuses_the_upload(fits):
    capped = UploadLimits(max_bytes=20 * MB, max_files=50, max_uncompressed_bytes=1 * MB, max_ratio=10_000)
    inner = zipped([("run.fit", bomb_fit())])
    with pytest.raises(UploadRefused, match="more than 1 MB of activity files"):
        unpack([("garmin.zip", zipped([("DI_CONNECT/Part1.zip", inner)]))], capped)


def encrypted(archive: bytes, member: str) -> bytes:
    """The archive with `member`'s "encrypted" flag set in its local and central headers."""
    data = bytearray(archive)
    for signature, flag_at, name_len_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        at = data.find(signature)
        while at != -1:
            size = int.from_bytes(data[at + name_len_at: at + name_len_at + 2], "little")
            if data[at + name_at: at + name_at + size].decode() == member:
                data[at + flag_at] |= 0x1
            at = data.find(signature, at + 4)
    return bytes(data)


def test_a_hostile_export_is_refused_entry_by_entry(fits):
    gz = gzip.compress(fits[1])
    export = zipped([
        ("activities/1.fit.gz", gzip.compress(fits[0])),
        ("../activities/2.fit.gz", gz),  # path traversal
        ("activities/3.fit.gz", gz[:200]),  # truncated gzip stream
        ("activities/4.gpx.gz", gzip.compress(gpx_from_fit(fits[2]))),
        ("nested/activities.csv", b"Activity ID,Filename\n1,activities/1.fit.gz\n"),
        ("activities/5.fit", fits[2]),
    ])
    export = encrypted(export, "activities/5.fit")
    inner_deep = zipped([("deeper.zip", zipped([("x.fit", fits[0])])), ("activities.csv", b"Activity ID\n")])
    got = unpack([("e.zip", export), ("g.zip", zipped([("Part1.zip", inner_deep)]))], LIMITS)
    assert reasons(got) == {
        "e.zip/../activities/2.fit.gz": "unsafe path (..)",
        "e.zip/activities/3.fit.gz": "corrupt gzip stream",
        "e.zip/activities/5.fit": "encrypted",
        "g.zip/Part1.zip/deeper.zip": "an archive inside a nested archive (unpack it first)",
        "g.zip/Part1.zip/activities.csv": "activities.csv inside a nested archive (not read)",
    }
    assert [f.name for f in got.files] == ["e.zip/activities/1.fit.gz", "e.zip/activities/4.gpx.gz"]
    assert list(got.strava) == ["1.fit"]  # nested/activities.csv: depth 0 of the upload's zip, as runlake import reads it


# --- ingest: the same rows as `runlake import` ------------------------------------------------------------


def lake_rows(lake: Lake) -> dict[str, pl.DataFrame]:
    """The imported rows, without the times they were written at."""
    return {
        "activities": read(lake, activities.SPEC).drop("updated_at").sort("activity_id"),
        "laps": read(lake, laps.SPEC).sort("activity_id", "lap_index"),
        "records": read(lake, records.SPEC).sort("activity_id", "seq"),
        "fit_files": read(lake, fit_files.SPEC).drop("ingested_at").sort("sha256"),
        "quarantine": read(lake, quarantine.SPEC).select("sha256", "error").sort("sha256"),
    }


def test_an_uploaded_strava_export_gives_the_rows_of_runlake_import(tmp_path, export, home):
    lake, me = home
    report = upload(lake, me, [("export_12345.zip", export)])
    assert results(report) == {
        **{f"export_12345.zip/activities/{9000 + i}.{KINDS[i]}.gz": (RESULT_INGESTED, "") for i in range(3)},
        "export_12345.zip/profile.csv": (RESULT_REFUSED, "not a .fit, .gpx or .tcx file (optionally .gz)"),
    }
    uploaded = lake_rows(lake)
    acts = uploaded["activities"].sort("strava_id")
    assert acts["strava_id"].to_list() == [700, 701, 702]
    assert acts["source"].to_list() == ["fit+strava", "gpx+strava", "tcx+strava"]
    assert acts["name"].to_list() == ["Run 0", "Run 1", "Run 2"] and set(acts["gear_id"]) == {"Pegasus 40"}
    assert sorted(uploaded["fit_files"]["file_name"]) == ["9000.fit", "9001.gpx", "9002.tcx"]

    path = tmp_path / "export_12345.zip"
    path.write_bytes(export)
    env = {"RUNLAKE_HOME": str(tmp_path / "cli-home"), "RUNLAKE_LAKE_URI": str(tmp_path / "cli-lake")}
    proc = runlake("import", str(path), env=env)
    assert proc.returncode == 0, proc.stderr
    imported = lake_rows(Lake.at(str(tmp_path / "cli-lake")))
    assert set(imported["activities"]["athlete_id"]) == {me.athlete_id}
    for table, frame in uploaded.items():
        assert frame.equals(imported[table], null_equal=True), table

    again = upload(lake, me, [("again.zip", export)])
    assert {r.result for r in again.files if r.result != RESULT_REFUSED} == {RESULT_DUPLICATE}
    assert read(lake, activities.SPEC).height == 3


def test_a_garmin_export_and_loose_files_upload(fits, home):
    lake, me = home
    route = b"<gpx xmlns='http://www.topografix.com/GPX/1/1' version='1.1'><rte><rtept lat='1' lon='2'/></rte></gpx>"
    report = upload(lake, me, [("garmin.zip", garmin_export(fits)), ("route.gpx", route)])
    got = results(report)
    assert [r for r, _ in got.values()].count(RESULT_INGESTED) == 3
    assert got["route.gpx"][0] == RESULT_SKIPPED
    assert sorted(read(lake, activities.SPEC)["source"]) == ["fit", "gpx", "tcx"]


def test_the_flow_run_reads_the_staged_export_and_its_csv(monkeypatch, export, home):
    monkeypatch.setattr(flow_module, "get_run_logger", lambda: logging.getLogger("test"))
    lake, me = home
    monkeypatch.setenv("RUNLAKE_INBOX_URI", me.settings.inbox)
    monkeypatch.setenv("RUNLAKE_HOME", str(Path(me.settings.home)))
    unpacked = unpack([("export.zip", export)], LIMITS)
    staged = stage_upload(me.settings, unpacked.files, strava_csv=unpacked.strava_csv)
    again = staged_in(me.settings, staged.folder)
    assert [s.file_name for s in again.files] == ["9000.fit", "9001.gpx", "9002.tcx"]
    assert again.strava == staged.strava and len(again.strava) == 3

    assert flow_module.ingest_upload_flow.fn(athlete=me.athlete_id, folder=staged.folder, lake_uri=lake.root) == {"ingested": 3}
    acts = read(lake, activities.SPEC).sort("strava_id")
    assert acts["strava_id"].to_list() == [700, 701, 702] and acts["name"].to_list() == ["Run 0", "Run 1", "Run 2"]
