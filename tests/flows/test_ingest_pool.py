"""The ingest's worker pool (pipeline/steps/ingest_fit.py): started once for the run, only when a
batch is big enough, and giving exactly what the in-process path gives."""

from __future__ import annotations

import polars as pl

from pipeline.lake_access import open_lake
from pipeline.steps import ingest_fit
from pipeline.steps.ingest_fit import ingest_fit_files, resolve_inputs
from lake import activities, laps, records
from lake.table import read
from runlake.settings import Settings


def run(tmp_path, name: str, fit_folder, **kw) -> dict[str, pl.DataFrame]:
    settings = Settings(lake_uri=str(tmp_path / name), ingest_batch_files=2)
    lake = open_lake(settings)
    items, opts = resolve_inputs(settings, [str(fit_folder)])
    report = ingest_fit_files(lake, settings, items, read_options=opts, **kw)
    assert report.ingested == 6
    keys = {"activities": ["activity_id"], "laps": ["activity_id", "lap_index"], "records": ["activity_id", "seq"]}
    return {spec.name: read(lake, spec).drop("updated_at", strict=False).sort(keys[spec.name]) for spec in (activities.SPEC, laps.SPEC, records.SPEC)}


def test_one_pool_for_every_batch_and_the_same_rows(tmp_path, fit_folder, monkeypatch):
    serial = run(tmp_path, "serial", fit_folder, workers=1)
    started = []
    real_get = ingest_fit._LazyPool.get

    def get(self):
        if not self.started:
            started.append(1)
        return real_get(self)

    monkeypatch.setattr(ingest_fit._LazyPool, "get", get)
    monkeypatch.setattr(ingest_fit, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(ingest_fit, "PARALLEL_MIN_BYTES", 0)
    pooled = run(tmp_path, "pooled", fit_folder, workers=2)
    assert started == [1]  # three batches of two files, one pool
    for name, frame in serial.items():
        assert pooled[name].equals(frame, null_equal=True), name


def test_small_batches_stay_in_process(tmp_path, fit_folder, monkeypatch):
    def refuse(self):
        raise AssertionError("a pool was started for a small ingest")

    monkeypatch.setattr(ingest_fit._LazyPool, "get", refuse)
    run(tmp_path, "small", fit_folder, workers=2)
