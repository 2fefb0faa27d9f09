"""Web uploads: the hostile-input checks (pipeline/uploads.py), staging into the athlete's inbox
only, and the ingest of exactly those files into that athlete's rows (pipeline/steps/ingest_upload.py)."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from lake import activities, fit_files, lease
from lake.storage import Lake
from lake.table import read
from pipeline.athletes import add_athlete
from pipeline.steps.ingest_upload import (
    RESULT_DUPLICATE, RESULT_INGESTED, RESULT_QUARANTINED, RESULT_REFUSED, ingest_upload, stage_upload, staged_in,
)
from pipeline.uploads import MB, UploadLimits, UploadRefused, is_fit_content, safe_name, unpack
from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.fit.synthetic import write_run

OSLO = ZoneInfo("Europe/Oslo")
LIMITS = UploadLimits(max_bytes=20 * MB, max_files=50, max_uncompressed_bytes=20 * MB, max_ratio=100)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[bytes]:
    """Three distinct synthetic runs, as bytes."""
    folder = tmp_path_factory.mktemp("runs")
    start = datetime(2025, 3, 10, 6, 30, tzinfo=OSLO)
    out = []
    for i in range(3):
        path = folder / f"run{i}.fit"
        write_run(path, start + timedelta(days=i), 3000 + 500 * i, seed=i + 1)
        out.append(path.read_bytes())
    return out


def zipped(entries: list[tuple[str, bytes]], *, symlinks: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def with_declared_size(archive: bytes, size: int) -> bytes:
    """The same archive with every entry's declared uncompressed size replaced (a lying header)."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature)
        while at != -1:
            struct.pack_into("<I", data, at + offset, size)
            at = data.find(signature, at + 4)
    return bytes(data)


def reasons(unpacked) -> dict[str, str]:
    return {r.name: r.reason for r in unpacked.refused}


# --- unpack: what is refused -------------------------------------------------------------------


def test_plain_files_and_a_good_zip_with_folders_are_accepted(runs):
    archive = zipped([("2025/03/run1.fit", runs[1]), ("2025/03/RUN2.FIT", runs[2]), ("2025/", b"")])
    got = unpack([("run0.fit", runs[0]), ("watch.zip", archive)], LIMITS)
    assert [f.name for f in got.files] == ["run0.fit", "watch.zip/2025/03/run1.fit", "watch.zip/2025/03/RUN2.FIT"]
    assert [f.safe_name for f in got.files] == ["run0.fit", "run1.fit", "RUN2.fit"]
    assert [f.data for f in got.files] == runs
    assert not got.refused


@pytest.mark.parametrize("name, reason", [
    ("../x.fit", "unsafe path (..)"),
    ("a/../../x.fit", "unsafe path (..)"),
    ("/abs.fit", "unsafe path (absolute)"),
    ("C:/windows/x.fit", "unsafe path (absolute)"),
    ("..\\x.fit", "unsafe path (..)"),
])
def test_zip_slip_entries_are_refused(runs, name, reason):
    got = unpack([("a.zip", zipped([(name, runs[0]), ("ok.fit", runs[1])]))], LIMITS)
    assert reasons(got) == {f"a.zip/{name}": reason}
    assert [f.data for f in got.files] == [runs[1]]


def test_symlink_entries_deeply_nested_zips_and_other_names_are_refused(runs):
    """One level of zip inside the zip is opened (a Garmin export's originals); two are refused."""
    deeper = zipped([("run.fit", runs[2])])
    inner = zipped([("run.fit", runs[0]), ("deeper.zip", deeper)])
    archive = zipped(
        [("link.fit", b"/etc/passwd"), ("inner.zip", inner), ("notes.txt", b"hello"), ("__MACOSX/._run.fit", b"x"),
         ("run.fit", runs[1])],
        symlinks=("link.fit",),
    )
    got = unpack([("a.zip", archive), ("photo.jpg", b"\xff\xd8")], LIMITS)
    assert reasons(got) == {
        "a.zip/link.fit": "a symbolic link",
        "a.zip/inner.zip/deeper.zip": "an archive inside a nested archive (unpack it first)",
        "a.zip/notes.txt": "not a .fit, .gpx or .tcx file (optionally .gz)",
        "a.zip/__MACOSX/._run.fit": "macOS metadata, not an activity file",
        "photo.jpg": "not a .fit, .gpx or .tcx file (optionally .gz) or a .zip archive",
    }
    assert [f.name for f in got.files] == ["a.zip/inner.zip/run.fit", "a.zip/run.fit"]
    assert [f.data for f in got.files] == [runs[0], runs[1]]


def test_non_fit_content_renamed_fit_is_refused(runs):
    got = unpack([("fake.fit", b"PK\x03\x04" + b"\0" * 100), ("empty.fit", b""), ("run.fit", runs[0])], LIMITS)
    assert reasons(got) == {"fake.fit": "not a FIT file (no FIT header)", "empty.fit": "not a FIT file (no FIT header)"}
    assert is_fit_content(runs[0]) and not is_fit_content(runs[0][:8])


def test_duplicate_names_and_duplicate_content_are_refused(runs):
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile warns; a hostile zip does it anyway
        archive = zipped([("run.fit", runs[0]), ("run.fit", runs[1]), ("copy.fit", runs[0])])
    got = unpack([("a.zip", archive), ("x.fit", runs[2]), ("x.fit", runs[2])], LIMITS)
    assert reasons(got) == {"a.zip/run.fit": "the same name twice in one upload", "a.zip/copy.fit": "the same file as a.zip/run.fit",
                            "x.fit": "the same name twice in one upload"}
    assert [f.data for f in got.files] == [runs[0], runs[2]]


def test_a_corrupt_archive_is_refused_not_raised(runs):
    got = unpack([("broken.zip", b"PK\x03\x04 not really"), ("run.fit", runs[0])], LIMITS)
    assert reasons(got) == {"broken.zip": "not a readable zip archive"}
    assert len(got.files) == 1


# --- unpack: limits over the whole upload ---------------------------------------------------------


def test_too_big_an_upload_is_refused(runs):
    small = UploadLimits(max_bytes=len(runs[0]) + 10, max_files=50, max_uncompressed_bytes=20 * MB, max_ratio=100)
    with pytest.raises(UploadRefused, match="at most 0 MB"):
        unpack([("a.fit", runs[0]), ("b.fit", runs[1])], small)


def test_too_many_files_are_refused(runs):
    archive = zipped([(f"r{i}.fit", runs[i % 3][:-2] + bytes([i, 0])) for i in range(4)])
    two = UploadLimits(max_bytes=20 * MB, max_files=3, max_uncompressed_bytes=20 * MB, max_ratio=100)
    with pytest.raises(UploadRefused, match="more than 3 activity files"):
        unpack([("a.zip", archive)], two)


def bomb_entry() -> bytes:
    """A FIT header and 5 MB of zeros: a valid-looking name and start, a ratio near 1,000."""
    return bytes([14, 0x20, 0, 0, 0, 0, 0, 0]) + b".FIT" + b"\0\0" + b"\0" * (5 * MB)


def test_a_high_ratio_entry_is_refused_as_a_zip_bomb():
    with pytest.raises(UploadRefused, match="zip bomb"):
        unpack([("bomb.zip", zipped([("run.fit", bomb_entry())]))], LIMITS)


def test_the_total_uncompressed_size_is_capped_on_declared_sizes():
    capped = UploadLimits(max_bytes=20 * MB, max_files=50, max_uncompressed_bytes=1 * MB, max_ratio=10_000)
    with pytest.raises(UploadRefused, match="more than 1 MB of activity files"):
        unpack([("bomb.zip", zipped([("run.fit", bomb_entry())]))], capped)


def test_a_declared_size_that_lies_is_not_trusted():
    """The header says 100 bytes; the entry inflates to 5 MB. Never accepted: zipfile stops at the
    declared size and the CRC then fails, so the entry is refused as corrupt."""
    lying = with_declared_size(zipped([("run.fit", bomb_entry())]), 100)
    assert zipfile.ZipFile(io.BytesIO(lying)).infolist()[0].file_size == 100
    got = unpack([("bomb.zip", lying)], UploadLimits(max_bytes=20 * MB, max_files=50, max_uncompressed_bytes=1 * MB, max_ratio=10_000))
    assert not got.files
    assert reasons(got) == {"bomb.zip/run.fit": "corrupt archive entry (its size or checksum does not match)"}


@pytest.mark.parametrize("name, expected", [
    ("run.fit", "run.fit"), ("a/b/My Run (1).FIT", "My_Run_1.fit"), ("..fit", "file.fit"),
    ("x" * 300 + ".fit", "x" * 92 + ".fit"), ("c:\\evil\\..\\r.fit", "r.fit"),
])
def test_safe_names_have_no_path_and_end_in_fit(name, expected):
    assert safe_name(name) == expected


# --- staging and ingest -------------------------------------------------------------------------------


@pytest.fixture
def lake_and_athletes(tmp_path):
    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"), inbox_uri=str(tmp_path / "inbox"))
    lake = Lake.at(settings.lake)
    ann = add_athlete(lake, settings, "ann", timezone="Europe/Oslo")
    bob = add_athlete(lake, settings, "bob", timezone="Europe/Oslo")
    return tmp_path, lake, ann, bob


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_staging_writes_only_under_the_athletes_inbox(runs, lake_and_athletes):
    root, lake, ann, _ = lake_and_athletes
    before = files_under(root)
    got = unpack([("../../etc/x.fit", runs[0]), ("w.zip", zipped([("deep/run.fit", runs[1])]))], LIMITS)
    staged = stage_upload(ann.settings, got.files)
    written = files_under(root) - before
    own_inbox = Path(ann.settings.inbox) / "uploads"
    assert own_inbox == root / "inbox" / "athletes" / ann.athlete_id / "uploads"
    assert written and all(own_inbox in p.parents for p in written), written
    assert {Path(s.uri) for s in staged.files} == written
    assert sorted(p.read_bytes() for p in written) == sorted(runs[:2])
    assert [s.file_name for s in staged_in(ann.settings, staged.folder).files] == ["x.fit", "run.fit"]


def test_a_staged_folder_parameter_cannot_point_elsewhere(lake_and_athletes):
    _, _, ann, _ = lake_and_athletes
    for bad in ("..", "uploads/../../x", "/tmp", "uploads/20250101T000000Z-zzzzzzzz"):
        with pytest.raises(RunlakeError, match="not an upload folder"):
            staged_in(ann.settings, bad)


def test_an_upload_becomes_that_athletes_rows_only_and_a_reupload_is_duplicates(runs, lake_and_athletes):
    _, lake, ann, bob = lake_and_athletes
    phases = []
    got = unpack([("w.zip", zipped([("a.fit", runs[0]), ("b.fit", runs[1])])), ("bad.fit", runs[2][:40]), ("n.txt", b"x")], LIMITS)
    staged = stage_upload(ann.settings, got.files)
    report = ingest_upload(lake, ann, staged.files, refused=got.refused, progress=lambda *p: phases.append(p))

    results = {r.file: (r.result, r.detail) for r in report.files}
    assert results["w.zip/a.fit"] == (RESULT_INGESTED, "") and results["w.zip/b.fit"] == (RESULT_INGESTED, "")
    assert results["bad.fit"][0] == RESULT_QUARANTINED and results["bad.fit"][1]
    assert results["n.txt"] == (RESULT_REFUSED, "not a .fit, .gpx or .tcx file (optionally .gz) or a .zip archive")
    assert ("ingesting", 3, 3) in phases and phases[-1] == ("building marts", 1, 1)

    acts = read(lake, activities.SPEC)
    assert acts.height == 2 and set(acts["athlete_id"]) == {ann.athlete_id}
    assert read(lake, fit_files.SPEC).filter(pl.col("athlete_id") == bob.athlete_id).is_empty()
    assert lease.read_holder(lake, ann.athlete_id).released_at is not None  # taken, and let go
    assert lease.read_holder(lake, bob.athlete_id) is None

    again = stage_upload(ann.settings, unpack([("a.fit", runs[0])], LIMITS).files)
    second = ingest_upload(lake, ann, again.files)
    assert [(r.file, r.result) for r in second.files] == [("a.fit", RESULT_DUPLICATE)]
    assert read(lake, activities.SPEC).height == 2

    for_bob = ingest_upload(lake, bob, stage_upload(bob.settings, unpack([("a.fit", runs[0])], LIMITS).files).files)
    assert [r.result for r in for_bob.files] == [RESULT_INGESTED]  # the same file given by bob is bob's
    per_athlete = dict(read(lake, activities.SPEC).group_by("athlete_id").len().iter_rows())
    assert per_athlete == {ann.athlete_id: 2, bob.athlete_id: 1}
