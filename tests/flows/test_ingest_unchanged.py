"""An inbox ingest where nothing changed reads no FIT file (issue 16, item 3): it lists the inbox
and compares with `private/inbox_files`; only new or changed files are read."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from lake import activities, fit_files, inbox_files, laps, quarantine, records
from lake.storage import Lake
from lake.table import delete_rows, read
from pipeline.lake_access import open_lake
from pipeline.steps import ingest_fit as step
from runlake.settings import Settings
from sources.fit.synthetic import write_run


def _ingest(settings: Settings, paths: list[str] | None = None):
    lake = open_lake(settings)
    items, opts = step.resolve_inputs(settings, paths)
    return lake, step.ingest_fit_files(lake, settings, items, read_options=opts, workers=1)


def _counts(lake: Lake) -> dict[str, int]:
    return {s.name: read(lake, s).height for s in (activities.SPEC, laps.SPEC, records.SPEC, fit_files.SPEC, quarantine.SPEC, inbox_files.SPEC)}


@pytest.fixture
def reads(monkeypatch) -> list[str]:
    """The names of the files the ingest reads (through the one reader it calls)."""
    names: list[str] = []
    real = step.inbox.read_bytes

    def recording(item, options=None):
        names.append(item.name)
        return real(item, options)

    monkeypatch.setattr(step.inbox, "read_bytes", recording)
    return names


def _no_reading(monkeypatch) -> None:
    def refuse(item, options=None):
        raise AssertionError(f"read {item.uri}")

    monkeypatch.setattr(step.inbox, "read_bytes", refuse)


@pytest.fixture
def home(tmp_path, fit_folder) -> Path:
    home = tmp_path / "home"
    shutil.copytree(fit_folder, home / "inbox")
    (home / "inbox" / "broken.fit").write_bytes(b"\x0e\x10 not a FIT file")
    return home


def test_a_second_ingest_of_an_unchanged_inbox_opens_no_file(home, monkeypatch):
    settings = Settings(home=home)
    lake, first = _ingest(settings)
    assert first.ingested == 6 and len(first.quarantined) == 1 and first.unchanged == 0
    rows = read(lake, inbox_files.SPEC)
    assert sorted(rows["rel_path"]) == ["broken.fit", "easy1.fit", "easy2.FIT", "far-east.fit", "nohr.fit", "sub/track.fit", "sub/treadmill.fit"]
    assert rows["etag"].null_count() == rows.height and (rows["athlete_id"] == "me").all()
    before = _counts(lake)
    _no_reading(monkeypatch)
    _, again = _ingest(settings)
    assert (again.files, again.unchanged, again.ingested, again.already_known) == (7, 7, 0, 0)
    assert again.quarantined == [] and again.unreadable == []
    assert "7 unchanged (not read)" in again.summary()
    assert _counts(lake) == before
    assert read(lake, quarantine.SPEC)["attempts"].to_list() == [1]  # an unchanged bad file is not tried again


def test_new_rewritten_and_touched_files_are_read_and_nothing_else(home, reads):
    settings = Settings(home=home)
    _ingest(settings)
    reads.clear()
    inbox = home / "inbox"
    write_run(inbox / "sub" / "new.fit", datetime(2025, 4, 1, 7, tzinfo=ZoneInfo("Europe/Amsterdam")), 5000, seed=3)
    write_run(inbox / "nohr.fit", datetime(2025, 4, 2, 7, tzinfo=ZoneInfo("Europe/Amsterdam")), 2600, heart_rate=False)
    touched = inbox / "easy1.fit"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 1_000_000_000))
    lake, report = _ingest(settings)
    assert sorted(reads) == ["easy1.fit", "new.fit", "nohr.fit"]
    assert (report.unchanged, report.ingested, report.already_known) == (5, 2, 1)
    rows = read(lake, inbox_files.SPEC).filter(pl.col("rel_path") == "easy1.fit")
    assert rows["modified_ns"].item() == touched.stat().st_mtime_ns
    reads.clear()
    _, quiet = _ingest(settings)
    assert reads == [] and quiet.unchanged == 8


def test_a_moved_home_keeps_its_inbox_known(home, tmp_path, monkeypatch):
    _ingest(Settings(home=home))
    moved = tmp_path / "elsewhere" / "home"
    shutil.move(home, moved)
    _no_reading(monkeypatch)
    lake, report = _ingest(Settings(home=moved))
    assert report.unchanged == 7 and report.ingested == 0
    assert read(lake, activities.SPEC).height == 6


def test_paths_given_explicitly_are_read_and_decided_by_content(home, reads):
    settings = Settings(home=home)
    _ingest(settings)
    reads.clear()
    _, report = _ingest(settings, [str(home / "inbox")])
    assert len(reads) == 7 and report.unchanged == 0 and report.already_known == 6


def test_a_file_no_longer_in_fit_files_is_read_again(home, reads):
    settings = Settings(home=home)
    lake, _ = _ingest(settings)
    gone = read(lake, inbox_files.SPEC).filter(pl.col("rel_path") == "far-east.fit")["sha256"].item()
    delete_rows(lake, fit_files.SPEC, f"sha256 = '{gone}'")  # e.g. the table restored to an older version
    reads.clear()
    _, report = _ingest(settings)
    assert reads == ["far-east.fit"] and report.already_known == 0 and report.ingested == 1


def test_a_run_killed_before_inbox_files_reads_the_batch_again(home, reads, monkeypatch):
    from pipeline import fit_batch

    settings = Settings(home=home)
    real_upsert = fit_batch.upsert

    def crash_on_inbox_files(lake, spec, frame, **kw):
        if spec is inbox_files.SPEC:
            raise KeyboardInterrupt("killed")
        return real_upsert(lake, spec, frame, **kw)

    monkeypatch.setattr(fit_batch, "upsert", crash_on_inbox_files)
    with pytest.raises(KeyboardInterrupt):
        _ingest(settings)
    monkeypatch.setattr(fit_batch, "upsert", real_upsert)
    reads.clear()
    lake, report = _ingest(settings)
    assert len(reads) == 7 and report.already_known == 6 and report.unchanged == 0
    assert read(lake, inbox_files.SPEC).height == 7


def test_export_and_erasure_reach_inbox_files(home):
    from pipeline.steps.athlete_data import erase_athlete, export_athlete, export_file_name

    settings = Settings(home=home)
    lake, _ = _ingest(settings)
    assert read(lake, inbox_files.SPEC).height == 7
    export_athlete(lake, settings, "me", home.parent / "me.zip")
    import zipfile

    with zipfile.ZipFile(home.parent / "me.zip") as zf:
        assert export_file_name(inbox_files.SPEC) in zf.namelist()
    erase_athlete(lake, settings, "me")
    assert read(lake, inbox_files.SPEC).height == 0


@pytest.mark.slow
def test_an_unchanged_s3_inbox_is_listed_not_read(s3_bucket, fit_folder, monkeypatch, reads):
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    bucket = s3_bucket.removeprefix("s3://")
    for p in sorted(fit_folder.rglob("*")):
        if p.is_file():
            s3.upload_file(str(p), bucket, f"inbox/{p.relative_to(fit_folder).as_posix()}")
    settings = Settings(lake_uri=f"{s3_bucket}/lake", inbox_uri=f"{s3_bucket}/inbox/")
    lake, first = _ingest(settings)
    assert first.ingested == 6 and len(reads) == 6
    rows = read(lake, inbox_files.SPEC)
    assert rows["etag"].null_count() == 0 and rows["modified_ns"].null_count() == 0
    assert "sub/track.fit" in rows["rel_path"].to_list()
    before = _counts(lake)
    reads.clear()
    _, again = _ingest(settings)
    assert reads == [] and again.unchanged == 6 and _counts(lake) == before

    s3.put_object(Bucket=bucket, Key="inbox/easy1.fit", Body=(fit_folder / "nohr.fit").read_bytes())  # rewritten
    s3.upload_file(str(fit_folder / "easy1.fit"), bucket, "inbox/later/easy1-copy.fit")  # new (same bytes as before)
    _, changed = _ingest(settings)
    assert sorted(reads) == ["easy1-copy.fit", "easy1.fit"] and changed.unchanged == 5 and changed.already_known == 2

    for key in [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="inbox/")["Contents"]]:  # move the inbox
        s3.copy_object(Bucket=bucket, Key="moved/" + key.removeprefix("inbox/"), CopySource={"Bucket": bucket, "Key": key})
    reads.clear()
    _, moved = _ingest(Settings(lake_uri=f"{s3_bucket}/lake", inbox_uri=f"{s3_bucket}/moved/"))
    assert reads == [] and moved.unchanged == 7
