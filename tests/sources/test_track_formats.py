"""GPX and TCX decoding: the same run as its FIT file, within documented tolerances (docs/import.md)."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sources.archive import ArchiveReader, open_archive, strava_activities_csv
from sources.fit.model import BrokenFitFile, NotAnActivity
from sources.fit.synthetic import run_bytes
from sources.formats import decode_activity_file, file_format
from sources.track import track_distance
from tests.sources.archive_builders import gpx_from_fit, strava_export_zip, tcx_from_fit

START = datetime(2025, 4, 7, 7, 30, tzinfo=ZoneInfo("Europe/Amsterdam"))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: the tolerances docs/import.md states for a GPX/TCX file made from a FIT file's samples
GPX_DISTANCE_REL = 0.02
TIME_ABS_S = 1.0
HR_ABS_BPM = 1.0
CADENCE_ABS_SPM = 1.0
ASCENT_ABS_M = 1.0


@pytest.fixture(scope="module")
def fit() -> bytes:
    return run_bytes(START, 5000, seed=4)


def _summary(data: bytes) -> dict:
    decoded = decode_activity_file(data, default_tz="UTC", now=NOW)
    assert len(decoded.sessions) == 1
    return {**decoded.sessions[0].summary, "source": decoded.source, "laps": decoded.sessions[0].laps.height,
            "records": decoded.sessions[0].records.height}


@pytest.mark.parametrize("kind", ["gpx", "tcx"])
def test_gpx_and_tcx_agree_with_the_fit_file_of_the_same_run(fit, kind):
    ref = _summary(fit)
    data = gpx_from_fit(fit) if kind == "gpx" else tcx_from_fit(fit)
    assert file_format(data) == kind
    got = _summary(data)
    assert got["source"] == kind and got["sport"] == "running"
    assert got["start_time"] == ref["start_time"]
    assert got["utc_offset_s"] == ref["utc_offset_s"] == 7200  # Amsterdam in April, from the position's zone
    assert got["elapsed_s"] == pytest.approx(ref["elapsed_s"], abs=TIME_ABS_S)
    assert got["moving_s"] == pytest.approx(ref["moving_s"], abs=TIME_ABS_S)
    if kind == "tcx":  # the file's own cumulative distance
        assert got["distance_m"] == pytest.approx(ref["distance_m"], abs=0.5)
        assert got["laps"] == ref["laps"]
    else:  # haversine length of the points
        assert got["distance_m"] == pytest.approx(ref["distance_m"], rel=GPX_DISTANCE_REL)
        assert got["laps"] == 1
    assert got["avg_hr_bpm"] == pytest.approx(ref["avg_hr_bpm"], abs=HR_ABS_BPM)
    assert got["max_hr_bpm"] == ref["max_hr_bpm"]
    assert got["avg_cadence_spm"] == pytest.approx(ref["avg_cadence_spm"], abs=CADENCE_ABS_SPM)
    assert got["ascent_m"] == pytest.approx(ref["ascent_m"], abs=ASCENT_ABS_M)
    assert got["records"] == ref["records"]


def test_haversine_distance_of_a_known_line():
    # one degree of latitude along a meridian: 111.195 km on a 6,371 km sphere
    lat = [0.0, 0.5, float("nan"), 1.0]
    lon = [0.0, 0.0, float("nan"), 0.0]
    import numpy as np

    total = track_distance(np.array(lat), np.array(lon))
    assert total[-1] == pytest.approx(111_195, rel=1e-4)
    assert total[2] == total[1]  # a point without a fix carries the last total


def test_one_timed_point_is_no_recording():
    gpx = b"""<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
    <trkpt lat="52" lon="4"><time>2025-01-10T08:00:00Z</time></trkpt></trkseg></trk></gpx>"""
    with pytest.raises(NotAnActivity):
        decode_activity_file(gpx, default_tz="UTC", now=NOW)


def test_without_positions_the_default_zone_and_the_stated_distance_count():
    tcx = b"""<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>
    <Activity Sport="Running"><Lap StartTime="2025-01-10T13:00:00Z"><TotalTimeSeconds>600</TotalTimeSeconds>
    <DistanceMeters>2000</DistanceMeters><Calories>150</Calories><Track>
    <Trackpoint><Time>2025-01-10T13:00:00Z</Time><DistanceMeters>0</DistanceMeters></Trackpoint>
    <Trackpoint><Time>2025-01-10T13:10:30Z</Time><DistanceMeters>2000</DistanceMeters></Trackpoint>
    </Track></Lap></Activity></Activities></TrainingCenterDatabase>"""
    summary = decode_activity_file(tcx, default_tz="America/New_York", now=NOW).sessions[0].summary
    assert summary["utc_offset_s"] == -5 * 3600  # New York in January: no position, the default zone
    assert (summary["distance_m"], summary["elapsed_s"], summary["moving_s"], summary["calories_kcal"]) == (2000.0, 630.0, 600.0, 150.0)


def test_broken_and_non_activity_files():
    with pytest.raises(BrokenFitFile, match="unreadable GPX"):
        decode_activity_file(b"<?xml version='1.0'?><gpx><trk><trkseg><trkpt lat=", default_tz="UTC", now=NOW)
    with pytest.raises(BrokenFitFile, match="unreadable TCX"):
        decode_activity_file(b"<TrainingCenterDatabase><Activities><Activity>", default_tz="UTC", now=NOW)
    route = b"""<?xml version="1.0"?><gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1">
    <rte><rtept lat="52" lon="4"/><rtept lat="52.1" lon="4"/></rte></gpx>"""
    with pytest.raises(NotAnActivity, match="route"):
        decode_activity_file(route, default_tz="UTC", now=NOW)
    course = b"<TrainingCenterDatabase xmlns='http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2'><Courses/></TrainingCenterDatabase>"
    with pytest.raises(NotAnActivity, match="Activity"):
        decode_activity_file(course, default_tz="UTC", now=NOW)


def test_strava_csv_first_of_repeated_columns_and_files_only():
    text = ("Activity ID,Activity Name,Activity Type,Distance,Activity Gear,Filename,Distance\n"
            "11,Long run,Run,21.1,Pegasus,activities/a.fit.gz,21100\n"
            "12,Manual,Run,5,,,\n"
            "x,Bad id,Run,5,,activities/b.gpx,\n")
    rows = strava_activities_csv(text)
    assert list(rows) == ["a.fit"]
    row = rows["a.fit"]
    assert (row.strava_id, row.name, row.sport, row.gear, row.is_private) == (11, "Long run", "Run", "Pegasus", None)


def test_strava_zip_lists_gzipped_members_and_reads_them(tmp_path, fit):
    path = tmp_path / "export.zip"
    path.write_bytes(strava_export_zip([(1, "1.fit", fit, {}), (2, "2.gpx", gpx_from_fit(fit), {}), (3, "3.tcx", tcx_from_fit(fit), {})]))
    archive = open_archive(path)
    assert [i.name for i in archive.items] == ["1.fit", "2.gpx", "3.tcx"]
    assert set(archive.strava) == {"1.fit", "2.gpx", "3.tcx"}
    with ArchiveReader(archive) as reader:
        assert reader.read(archive.items[0]) == fit
        assert file_format(reader.read(archive.items[1])) == "gpx"


def test_garmin_export_nested_zips(tmp_path, fit):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("me@example.com_123.fit", fit)
        z.writestr("me@example.com_124.tcx", tcx_from_fit(fit))
        z.writestr("notes.json", "{}")
    outer = tmp_path / "garmin.zip"
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue())
        z.writestr("DI_CONNECT/DI-Connect-Fitness/me_summarizedActivities.json", "[]")
        z.writestr("__MACOSX/._x.fit", b"junk")
    archive = open_archive(outer)
    assert [i.name for i in archive.items] == ["me@example.com_123.fit", "me@example.com_124.tcx"]
    with ArchiveReader(archive) as reader:
        assert [len(reader.read(i)) > 0 for i in archive.items] == [True, True]


def test_corrupt_gzip_member_is_unreadable(tmp_path, fit):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("activities/1.fit.gz", gzip.compress(fit)[:200])
    archive = open_archive(path)
    with ArchiveReader(archive) as reader, pytest.raises(OSError, match="corrupt archive member"):
        reader.read(archive.items[0])


def test_paths_without_activity_files_are_user_errors(tmp_path):
    from runlake.errors import RunlakeError

    (tmp_path / "empty").mkdir()
    with pytest.raises(RunlakeError, match="no .fit, .gpx or .tcx"):
        open_archive(tmp_path / "empty")
    with pytest.raises(RunlakeError, match="no such file"):
        open_archive(tmp_path / "missing.zip")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(RunlakeError, match="not a readable zip"):
        open_archive(tmp_path / "bad.zip")
