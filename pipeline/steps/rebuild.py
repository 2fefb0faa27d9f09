"""`runlake lake rebuild`: re-derive the decoded tables from the raw FIT archive, on all cores.

The archived files are decoded in chunks by a pool of spawned worker processes (spawn, not fork:
deltalake's Rust runtime panics in a forked child) and consumed in the order the ingest processed them
(`ingested_at`, then sha256: "a later file of the same recording wins", as in the ingest), with at most a few chunks in flight, while the main process streams
their records into the Delta writer (`pipeline.fit_rebuild`): memory stays bounded whatever the
history's size. The pool starts, and decodes its first chunks, before the rebuild reads the rows it
keeps from the lake, so the workers' start-up overlaps those reads.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context

import polars as pl

from lake import fit_files, raw
from pipeline.fit_rebuild import replace_fit_derived_counted
from lake.storage import Lake
from lake.table import read
from runlake.settings import Settings
from sources.fit.outcome import FileOutcome, decode_to_outcome

#: Files per task sent to a worker, and tasks in flight per worker (bounds memory).
CHUNK_FILES = 24
IN_FLIGHT_PER_WORKER = 3


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


class _DecodedInOrder:
    """Outcomes of `rows`, in their order, decoded by `workers` processes (bounded look-ahead).

    Entering starts the pool and hands it its first chunks, so the workers start (seconds of
    imports each) and decode while the rebuild reads what it keeps from the lake before its
    stream; iterating yields the outcomes as the Delta writer asks for them. Leaving shuts the
    pool down (unstarted chunks cancelled when the rebuild failed).
    """

    def __init__(self, lake: Lake, rows: list[dict], settings: Settings, now: datetime, workers: int,
                 step: Callable[[int, int], None]) -> None:
        self.lake, self.rows, self.settings, self.now, self.step = lake, rows, settings, now, step
        self.serial = workers == 1 or len(rows) < 2 * CHUNK_FILES
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.pending: deque[Future] = deque()
        self.chunks = iter([rows[i : i + CHUNK_FILES] for i in range(0, len(rows), CHUNK_FILES)])

    def __enter__(self) -> Iterator[FileOutcome]:
        if self.serial:
            return self._serial()
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
        for _ in range(self.workers * IN_FLIGHT_PER_WORKER):
            self._submit()
        return self._pooled()

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=exc_type is not None)
            self.pool = None

    def _submit(self) -> None:
        chunk = next(self.chunks, None)
        if chunk is not None:
            self.pending.append(
                self.pool.submit(_decode_chunk, self.lake, chunk, self.settings.athlete_id, self.settings.timezone, self.now))

    def _serial(self) -> Iterator[FileOutcome]:
        total = len(self.rows)
        for done, row in enumerate(self.rows, start=1):
            yield _decode_archived(self.lake, row, self.settings.athlete_id, self.settings.timezone, self.now)
            self.step(done, total)

    def _pooled(self) -> Iterator[FileOutcome]:
        done, total = 0, len(self.rows)
        while self.pending:
            outcomes = self.pending.popleft().result()
            self._submit()
            done += len(outcomes)
            self.step(done, total)
            yield from outcomes


def rebuild_from_raw(
    lake: Lake, settings: Settings, *, workers: int | None = None, progress: Callable[[int, int], None] | None = None
) -> RebuildReport:
    started = time.perf_counter()
    now = datetime.now(UTC)
    rows = (
        read(lake, fit_files.SPEC)
        .filter((pl.col("athlete_id") == settings.athlete_id) & pl.col("raw_uri").is_not_null())
        .sort("ingested_at", "sha256")  # the ingest's order: the file ingested last wins
        .select("sha256", "file_name", "raw_uri")
        .to_dicts()
    )
    workers = workers or settings.worker_count()
    step = progress or (lambda done, total: None)
    with _DecodedInOrder(lake, rows, settings, now, workers, step) as outcomes:
        counts = replace_fit_derived_counted(lake, outcomes, athlete_id=settings.athlete_id, now=now)
    return RebuildReport(
        files=len(rows),
        activities=counts.activities,
        records=counts.records,
        quarantined=counts.quarantined,
        seconds=time.perf_counter() - started,
    )
