"""`runlake lake rebuild` (flows/steps/rebuild.py): re-deriving the tables from the raw archive
gives back exactly what the ingest wrote, streamed in several batches, with a later file of the
same recording winning, and the worker-pool path equal to the in-process one."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from pipeline.lake_access import open_lake
from flows.steps.ingest_fit import ingest_fit_files, resolve_inputs
from flows.steps.rebuild import rebuild_from_raw
from lake import activities, fit_files, laps, records
from pipeline import activity_write, fit_rebuild
from lake.table import read
from runlake.settings import Settings
from sources.fit.decode import decode_fit
from sources.fit.outcome import sha256_of
from sources.fit.synthetic import write_run
from tests.flows.conftest import AMS

KEYS = [(activities.SPEC, ["activity_id"]), (laps.SPEC, ["activity_id", "lap_index"]), (records.SPEC, ["activity_id", "seq"])]


def snapshot(lake) -> dict[str, pl.DataFrame]:
    return {spec.name: read(lake, spec).drop("updated_at", strict=False).sort(key) for spec, key in KEYS}


def ingest(settings: Settings, paths: list[str]):
    lake = open_lake(settings)
    items, opts = resolve_inputs(settings, paths)
    ingest_fit_files(lake, settings, items, read_options=opts, workers=1)
    return lake


@pytest.mark.parametrize("workers", [1, 2])
def test_rebuild_gives_back_what_the_ingest_wrote(tmp_path, fit_folder, monkeypatch, workers):
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = ingest(settings, [str(fit_folder)])
    before = snapshot(lake)
    monkeypatch.setattr(fit_rebuild, "STREAM_ROWS", 1000)  # several streamed batches
    if workers == 2:
        monkeypatch.setattr("flows.steps.rebuild.CHUNK_FILES", 1)  # the pool path on 6 files
    seen = []
    report = rebuild_from_raw(lake, settings, workers=workers, progress=lambda done, total: seen.append((done, total)))
    assert report.files == 6 and report.activities == 6 and report.quarantined == 0
    assert report.records == before["records"].height
    assert seen[-1] == (6, 6)
    after = snapshot(lake)
    for name, frame in before.items():
        assert after[name].equals(frame, null_equal=True), name
    assert (read(lake, fit_files.SPEC)["status"] == "ingested").all()


def test_a_later_file_of_the_same_recording_wins(tmp_path, monkeypatch):
    start = datetime(2025, 6, 1, 7, 0, tzinfo=AMS)
    a = write_run(tmp_path / "in" / "a.fit", start, 3000)
    b = write_run(tmp_path / "in" / "b.fit", start, 3500)  # same watch, same start: same recording
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = ingest(settings, [str(a), str(b)])
    before = snapshot(lake)
    if before["activities"].height != 1:
        pytest.skip("the generator gives these two files different identities")
    monkeypatch.setattr(fit_rebuild, "STREAM_ROWS", 1)  # the loser's records are streamed before the winner comes
    rebuild_from_raw(lake, settings, workers=1)
    after = snapshot(lake)
    winner = max(read(lake, fit_files.SPEC)["sha256"])  # one batch: the higher sha256 wins
    assert after["activities"]["fit_sha256"].to_list() == [winner]
    expected = decode_fit((a if sha256_of(a.read_bytes()) == winner else b).read_bytes(), default_tz=settings.timezone)
    assert after["records"].height == expected.sessions[0].records.height
    assert after["records"].select(pl.struct("activity_id", "seq").is_duplicated().any()).item() is False


def test_across_runs_the_file_ingested_last_wins_in_the_ingest_and_in_the_rebuild(tmp_path):
    start = datetime(2025, 6, 1, 7, 0, tzinfo=AMS)
    files = [write_run(tmp_path / "in" / f"{n}.fit", start, d) for n, d in (("a", 3000), ("b", 3500))]
    shas = [sha256_of(f.read_bytes()) for f in files]
    first, last = (files[0], files[1]) if shas[0] > shas[1] else (files[1], files[0])  # last has the lower sha
    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = ingest(settings, [str(first)])
    ingest(settings, [str(last)])
    expected = sha256_of(last.read_bytes())
    if read(lake, activities.SPEC).height != 1:
        pytest.skip("the generator gives these two files different identities")
    assert read(lake, activities.SPEC)["fit_sha256"].to_list() == [expected]
    rebuild_from_raw(lake, settings, workers=1)
    assert read(lake, activities.SPEC)["fit_sha256"].to_list() == [expected]


def test_an_ingest_committing_during_a_rebuild_stops_it_instead_of_losing_rows(tmp_path, fit_folder, monkeypatch):
    """The rebuild computes from a snapshot; a file ingested meanwhile must survive (a re-run
    includes it) — the rebuild must not overwrite it away."""
    from runlake.errors import LakeChangedError

    settings = Settings(lake_uri=str(tmp_path / "lake"))
    lake = ingest(settings, [str(fit_folder / "easy1.fit")])
    late = tmp_path / "late.fit"
    write_run(late, datetime(2025, 4, 1, 7, 0, tzinfo=AMS), 3000, seed=9)
    real = activity_write.overwrite_batches

    def ingest_meanwhile(*args, **kwargs):
        ingest(settings, [str(late)])  # another process's ingest, committed mid-rebuild
        return real(*args, **kwargs)

    monkeypatch.setattr(activity_write, "overwrite_batches", ingest_meanwhile)
    with pytest.raises(LakeChangedError, match="run `runlake lake rebuild` again"):
        rebuild_from_raw(lake, settings, workers=1)
    monkeypatch.setattr(activity_write, "overwrite_batches", real)
    assert read(lake, activities.SPEC).height == 2, "the late file's activity was lost"
    rebuild_from_raw(lake, settings, workers=1)
    assert read(lake, activities.SPEC).height == 2
    assert read(lake, records.SPEC)["activity_id"].n_unique() == 2
