"""`runlake lake rebuild`: re-derive the decoded tables from the raw FIT archive, on all cores."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context

import polars as pl

from lake import fit_files, raw
from lake.fit_rebuild import replace_fit_derived
from lake.storage import Lake
from lake.table import read
from runlake.settings import Settings
from sources.fit.outcome import INGESTED, QUARANTINED, FileOutcome, decode_to_outcome


@dataclass
class RebuildReport:
    files: int
    activities: int
    records: int
    quarantined: int
    seconds: float

    def summary(self) -> str:
        return (
            f"rebuilt {self.activities} activities ({self.records} records) from {self.files} raw files, "
            f"{self.quarantined} quarantined, in {self.seconds:.1f} s"
        )


def _decode_archived(lake: Lake, row: dict, athlete_id: str, tz: str, now: datetime) -> FileOutcome:
    data = raw.read_bytes(lake, row["raw_uri"])
    return decode_to_outcome(data, sha256=row["sha256"], name=row["file_name"], uri=row["raw_uri"], athlete_id=athlete_id, default_tz=tz, now=now)


def _decode_chunk(lake: Lake, rows: list[dict], athlete_id: str, tz: str, now: datetime) -> list[FileOutcome]:
    return [_decode_archived(lake, row, athlete_id, tz, now) for row in rows]


def rebuild_from_raw(
    lake: Lake, settings: Settings, *, workers: int | None = None, progress: Callable[[int, int], None] | None = None
) -> RebuildReport:
    started = time.perf_counter()
    now = datetime.now(UTC)
    rows = (
        read(lake, fit_files.SPEC)
        .filter((pl.col("athlete_id") == settings.athlete_id) & pl.col("raw_uri").is_not_null())
        .sort("sha256")
        .to_dicts()
    )
    workers = workers or os.cpu_count() or 1
    outcomes: list[FileOutcome] = []
    step = progress or (lambda done, total: None)
    if workers == 1 or len(rows) < 2 * workers:
        for row in rows:
            outcomes.append(_decode_archived(lake, row, settings.athlete_id, settings.timezone, now))
            step(len(outcomes), len(rows))
    else:
        size = max(1, min(64, len(rows) // (workers * 4)))
        chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_decode_chunk, lake, chunk, settings.athlete_id, settings.timezone, now) for chunk in chunks]
            for future in as_completed(futures):
                outcomes.extend(future.result())
                step(len(outcomes), len(rows))
    outcomes.sort(key=lambda o: o.sha256)  # deterministic "later file wins" order
    written = replace_fit_derived(lake, outcomes, athlete_id=settings.athlete_id, now=now)
    return RebuildReport(
        files=len(rows),
        activities=written,
        records=sum(f.height for o in outcomes if o.status == INGESTED for f in o.rows.records),
        quarantined=sum(o.status == QUARANTINED for o in outcomes),
        seconds=time.perf_counter() - started,
    )
