"""The whole shared corpus through the real ingest (skipped when `../shared/data/fit` is absent):
activity files become one `activities` row per session agreeing with `decode_fit` (itself checked
value by value against the reference decoders in tests/sources/fit), broken files end in
`quarantine` with a one-line error, non-activity files are skipped with a reason."""

from __future__ import annotations

import polars as pl
import pytest

from pipeline.lake_access import open_lake
from pipeline.steps.ingest_fit import ingest_fit_files, resolve_inputs
from lake import activities, fit_files, quarantine, records
from lake.table import read
from runlake.settings import Settings
from sources.fit.decode import decode_fit
from sources.fit.model import FitError


@pytest.fixture(scope="module")
def corpus_lake(shared_fit_dir, tmp_path_factory):
    settings = Settings(lake_uri=str(tmp_path_factory.mktemp("corpus") / "lake"))
    lake = open_lake(settings)
    items, opts = resolve_inputs(settings, [str(shared_fit_dir)])
    report = ingest_fit_files(lake, settings, items, read_options=opts)
    return lake, report


def test_every_broken_file_is_quarantined_with_one_line(corpus_lake, shared_fit_dir):
    lake, report = corpus_lake
    broken = {p.name for p in (shared_fit_dir / "broken").glob("*.fit")}
    q = read(lake, quarantine.SPEC)
    assert set(q["file_name"]) == broken
    assert all(e and "\n" not in e for e in q["error"])
    assert not report.unreadable


def test_activity_files_give_one_row_per_session_matching_the_decoder(corpus_lake, shared_fit_dir):
    lake, _ = corpus_lake
    acts = read(lake, activities.SPEC)
    files = read(lake, fit_files.SPEC)
    by_name = dict(zip(files["file_name"], files["sha256"], strict=True))
    expected_sessions = 0
    for path in sorted(shared_fit_dir.glob("*.fit")):
        try:
            decoded = decode_fit(path.read_bytes(), default_tz="UTC")
        except FitError:
            status = files.filter(pl.col("file_name") == path.name)["status"].item()
            assert status == "skipped-not-activity", path.name
            continue
        rows = acts.filter(pl.col("fit_sha256") == by_name[path.name]).sort("session_index")
        assert rows.height == len(decoded.sessions), path.name
        expected_sessions += rows.height
        for row, session in zip(rows.iter_rows(named=True), decoded.sessions, strict=True):
            for column in ("start_time", "distance_m", "elapsed_s", "avg_hr_bpm", "sport", "utc_offset_s"):
                assert row[column] == session.summary[column], (path.name, column)
    assert acts.height == expected_sessions
    assert acts["utc_offset_s"].null_count() == 0


def test_skipped_files_say_why(corpus_lake):
    lake, report = corpus_lake
    skipped = read(lake, fit_files.SPEC).filter(pl.col("status") == "skipped-not-activity")
    assert skipped.height >= 1 and skipped["reason"].null_count() == 0
    assert len(report.skipped) == skipped.height


def test_samples_are_kept_and_keyed(corpus_lake):
    lake, report = corpus_lake
    recs = read(lake, records.SPEC)
    assert recs.height == report.records
    assert recs.select(pl.struct("activity_id", "seq").is_duplicated().any()).item() is False
