"""The FIT ingest: idempotent, crash-repairable, concurrent-safe, quarantine without loss."""

from __future__ import annotations

import shutil
from multiprocessing import get_context
from pathlib import Path

import polars as pl
import pytest

from pipeline.lake_access import open_lake
from flows.steps.ingest_fit import ingest_fit_files, resolve_inputs
from lake import activities, fit_files, laps, quarantine, records
from pipeline import fit_batch
from lake.storage import Lake
from lake.table import read
from runlake.settings import Settings


def _ingest(settings: Settings, paths: list[str], **kw):
    lake = open_lake(settings)
    items, opts = resolve_inputs(settings, paths)
    return lake, ingest_fit_files(lake, settings, items, read_options=opts, **kw)


def _counts(lake: Lake) -> dict[str, int]:
    return {spec.name: read(lake, spec).height for spec in (activities.SPEC, laps.SPEC, records.SPEC, fit_files.SPEC, quarantine.SPEC)}


def test_ingest_fills_every_table_and_a_rerun_changes_nothing(tmp_path, fit_folder):
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake, report = _ingest(settings, [str(fit_folder)])
    assert report.ingested == 6 and not report.quarantined and not report.unreadable
    acts = read(lake, activities.SPEC)
    assert acts.height == 6
    assert acts["utc_offset_s"].null_count() == 0
    assert set(acts["utc_offset_s"]) == {3600, 9 * 3600}  # Amsterdam in March (CET), Tokyo
    assert acts["source"].unique().to_list() == ["fit"] and (acts["athlete_id"] == "me").all()
    recs = read(lake, records.SPEC)
    assert recs.height == report.records > 0
    assert recs.select(pl.struct("activity_id", "seq").is_duplicated().any()).item() is False
    treadmill = acts.filter(pl.col("sub_sport") == "treadmill")["activity_id"].item()
    assert recs.filter(pl.col("activity_id") == treadmill)["lat_deg"].null_count() == recs.filter(pl.col("activity_id") == treadmill).height
    before = _counts(lake)
    _, again = _ingest(settings, [str(fit_folder)])
    assert again.ingested == 0 and again.already_known == 6
    assert _counts(lake) == before


def test_raw_bytes_are_archived_relative_to_the_lake_so_a_moved_lake_works(tmp_path, fit_folder):
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake, _ = _ingest(settings, [str(fit_folder / "easy1.fit")])
    row = read(lake, fit_files.SPEC).row(0, named=True)
    assert row["raw_uri"].startswith("raw/fit/") and row["status"] == "ingested"
    moved = tmp_path / "moved"
    shutil.move(lake.root, moved)
    assert (moved / row["raw_uri"]).read_bytes() == (fit_folder / "easy1.fit").read_bytes()
    assert read(Lake.at(str(moved)), activities.SPEC).height == 1


def test_bad_files_are_quarantined_and_the_rest_go_on(tmp_path, fit_folder):
    folder = tmp_path / "in"
    shutil.copytree(fit_folder, folder)
    (folder / "empty.fit").write_bytes(b"")
    (folder / "text.fit").write_bytes(b"This is not a FIT file at all")
    good = (fit_folder / "easy1.fit").read_bytes()
    (folder / "cut.fit").write_bytes(good[: len(good) // 2])
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake, report = _ingest(settings, [str(folder)])
    assert report.ingested == 6
    errors = dict(report.quarantined)
    assert set(errors) == {"empty.fit", "text.fit", "cut.fit"}
    assert all("\n" not in e and e for e in errors.values())
    q = read(lake, quarantine.SPEC)
    assert q.height == 3 and (q["attempts"] == 1).all()
    _, _ = _ingest(settings, [str(folder)])
    assert (read(lake, quarantine.SPEC)["attempts"] == 2).all(), "a re-seen bad file counts another attempt"


def test_a_run_killed_before_fit_files_was_written_is_repaired_without_doubles(tmp_path, fit_folder, monkeypatch):
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    real_upsert = fit_batch.upsert

    def crash_on_fit_files(lake, spec, frame, **kw):
        if spec is fit_files.SPEC:
            raise KeyboardInterrupt("killed")
        return real_upsert(lake, spec, frame, **kw)

    monkeypatch.setattr(fit_batch, "upsert", crash_on_fit_files)
    with pytest.raises(KeyboardInterrupt):
        _ingest(settings, [str(fit_folder)])
    monkeypatch.setattr(fit_batch, "upsert", real_upsert)
    lake, report = _ingest(settings, [str(fit_folder)])
    assert report.ingested == 6
    acts = read(lake, activities.SPEC)
    assert acts.height == 6
    recs = read(lake, records.SPEC)
    assert recs.select(pl.struct("activity_id", "seq").is_duplicated().any()).item() is False
    assert recs.height == report.records


def test_activity_ids_are_stable_across_reingests_and_batches(tmp_path, fit_folder):
    a, _ = _ingest(Settings(lake_uri=str(tmp_path / "a")), [str(fit_folder)])
    b, _ = _ingest(Settings(lake_uri=str(tmp_path / "b"), ingest_batch_files=2), [str(fit_folder)])
    assert sorted(read(a, activities.SPEC)["activity_id"]) == sorted(read(b, activities.SPEC)["activity_id"])


def _ingest_in_child(lake_uri: str, paths: list[str], env: dict) -> None:
    """One ingest run as the CLI and the flows run it: under the athlete's lease."""
    import os

    from lake import lease

    os.environ.update(env)
    settings = Settings(lake_uri=lake_uri)
    with lease.acquire(open_lake(settings), settings.athlete_id, "ingest fit", wait_s=240):
        _ingest(settings, paths, workers=1)


def _concurrent_overlapping_ingests(lake_uri: str, fit_folder: Path, env: dict) -> None:
    files = sorted(str(p) for p in fit_folder.rglob("*") if p.suffix.lower() == ".fit")
    first, second = files[:4], files[2:]  # two files in both runs
    ctx = get_context("spawn")
    procs = [ctx.Process(target=_ingest_in_child, args=(lake_uri, part, env)) for part in (first, second)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
        assert p.exitcode == 0
    lake = Lake.at(lake_uri, env=env)
    acts = read(lake, activities.SPEC)
    assert acts.height == 6 and acts["activity_id"].n_unique() == 6
    recs = read(lake, records.SPEC)
    assert recs.select(pl.struct("activity_id", "seq").is_duplicated().any()).item() is False
    per_file = read(lake, fit_files.SPEC)
    assert per_file.height == 6 and per_file["sha256"].n_unique() == 6


@pytest.mark.slow
def test_two_concurrent_overlapping_ingests_locally(tmp_path, fit_folder):
    _concurrent_overlapping_ingests(str(tmp_path / "lake"), fit_folder, {})


# No S3 (moto) twin: two writers of one athlete are serialised by the lease, whose one atomic
# primitive on S3 is a PUT with `If-None-Match: *` — and moto's conditional put is not atomic, so
# there both runs could take the lease at once, for moto's reason, not runlake's (real S3
# refuses one). The lease on S3 is tested in tests/lake/test_lease.py without such a race.


@pytest.mark.slow
def test_ingest_from_an_s3_inbox_into_an_s3_lake(s3_bucket, fit_folder):
    import os

    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    bucket = s3_bucket.removeprefix("s3://")
    for p in fit_folder.rglob("*"):
        if p.is_file():
            s3.upload_file(str(p), bucket, f"inbox/{p.relative_to(fit_folder)}")
    s3.put_object(Bucket=bucket, Key="inbox/notes.txt", Body=b"not a FIT file, ignored")
    settings = Settings(lake_uri=f"{s3_bucket}/lake", inbox_uri=f"{s3_bucket}/inbox/")
    lake, report = _ingest(settings, [])
    assert report.ingested == 6  # easy2.FIT included: the suffix matches in any case
    assert read(lake, fit_files.SPEC)["raw_uri"].str.starts_with("raw/fit/").all()


@pytest.mark.slow
def test_an_s3_inbox_in_a_missing_bucket_is_an_error_not_an_empty_inbox(s3_bucket):
    from runlake.errors import RunlakeError

    settings = Settings(lake_uri=f"{s3_bucket}/lake", inbox_uri="s3://no-such-bucket-runlake/inbox/")
    with pytest.raises(RunlakeError, match="no such S3 bucket"):
        resolve_inputs(settings, [])


def test_a_quarantined_file_that_now_decodes_leaves_the_quarantine(tmp_path, fit_folder):
    from datetime import UTC, datetime

    from lake.table import upsert
    from sources.fit.outcome import sha256_of

    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = open_lake(settings)
    good = fit_folder / "easy1.fit"
    now = datetime.now(UTC)
    upsert(lake, quarantine.SPEC, pl.DataFrame([{  # as an older decoder left it
        "sha256": sha256_of(good.read_bytes()), "athlete_id": "me", "source_path": str(good), "file_name": good.name,
        "error": "undecodable (old decoder)", "first_seen_at": now, "last_seen_at": now, "attempts": 1}]))
    _, report = _ingest(settings, [str(good)])
    assert report.ingested == 1
    assert read(lake, quarantine.SPEC).height == 0
