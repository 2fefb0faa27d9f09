"""Ingest FIT files from a folder, a list of paths or an S3 prefix into the lake.

`ingest_fit_files` is the plain function the CLI and the `ingest-fit` flow share. Inbox files
unchanged since an earlier run (same path under the inbox, size, modification time, ETag:
`pipeline.inbox_seen`) are skipped without being read; the others are read, and files already in
the lake (by sha256) are skipped; new ones are archived, decoded (in one worker pool for the run
when a batch is big enough, else in process) and committed a batch at a time (one commit per table
per batch), each batch's commit overlapping the next batch's reading and decoding. Bad files are quarantined with their error and the rest go on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context

from pipeline.lake_access import lake_at
from lake import raw
from pipeline import fit_batch, inbox_seen
from lake.storage import Lake
from runlake.settings import Settings
from sources.fit import inbox
from sources.fit.outcome import INGESTED, QUARANTINED, SKIPPED, FileOutcome, decode_to_outcome, sha256_of

log = logging.getLogger(__name__)

#: Below this many files to decode, worker processes cost more than they save.
PARALLEL_MIN_FILES = 24
#: ... and below this many bytes: a spawned worker pays ~2–3 s of imports (polars, pyarrow,
#: pandas, the reference decoders) before its first file, while the NumPy path decodes a typical
#: 100 KB run in ~5 ms — ~60 MB of FIT per core in that time (bench/RESULTS.md).
PARALLEL_MIN_BYTES = 96_000_000


@dataclass
class IngestReport:
    files: int = 0
    ingested: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)
    already_known: int = 0  # read, and their bytes already in the lake
    unchanged: int = 0  # inbox files skipped without reading: unchanged since an earlier run
    quarantined: list[tuple[str, str]] = field(default_factory=list)  # (name, error)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (uri, error)
    activities: int = 0
    records: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.files} files: {self.ingested} ingested ({self.activities} activities, {self.records} records), "
            f"{self.already_known} already in the lake, {self.unchanged} unchanged (not read), "
            f"{len(self.skipped)} skipped (not activities), "
            f"{len(self.quarantined)} quarantined, {len(self.unreadable)} unreadable, in {self.seconds:.1f} s"
        )


class _LazyPool:
    """One spawned process pool for the whole run, started only when a batch is big enough.

    spawn, not fork: deltalake's Rust runtime panics in a forked child. Started once, not per
    batch: each start costs seconds of imports in every worker.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=get_context("spawn"))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _decode_all(jobs: list[dict], *, pool: _LazyPool, on_done: Callable[[], None]) -> list[FileOutcome]:
    small = len(jobs) < PARALLEL_MIN_FILES or sum(len(job["data"]) for job in jobs) < PARALLEL_MIN_BYTES
    if pool.workers <= 1 or (small and not pool.started):
        results = (decode_to_outcome(**job) for job in jobs)
    else:
        futures = [pool.get().submit(decode_to_outcome, **job) for job in jobs]
        results = (future.result() for future in futures)
    outcomes = []
    for outcome in results:
        outcomes.append(outcome)
        on_done()
    return outcomes


def ingest_fit_files(
    lake: Lake,
    settings: Settings,
    items: Sequence[inbox.FitInput],
    *,
    read_options: dict | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    reader: Callable[[inbox.FitInput], bytes] | None = None,
    annotate: Callable[[list[FileOutcome]], None] | None = None,
) -> IngestReport:
    """Ingest `items` into `lake`. `progress(n)` is called as files complete.

    `reader` reads one item's bytes (default: the file or S3 object its uri names; an archive
    import reads zip members, `sources.archive`); an `OSError` from it makes the item unreadable.
    `annotate` may add to the decoded rows of each batch before they are committed (an archive
    import adds what Strava's `activities.csv` says about the files)."""
    started = time.perf_counter()
    report = IngestReport(files=len(items))
    step = progress or (lambda n: None)
    if any(item.rel_path is not None for item in items):  # the inbox: skip what it already gave
        unchanged, items = inbox_seen.split_unchanged(inbox_seen.known(lake, settings.athlete_id), items)
        report.unchanged = len(unchanged)
        step(len(unchanged))
    pool = _LazyPool(workers if workers is not None else settings.worker_count())
    try:
        read_one = reader or (lambda item: inbox.read_bytes(item, read_options))
        _ingest_batches(lake, settings, items, read_one, report, step, pool, annotate)
    finally:
        pool.close()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Prepared:
    """One batch read, checked against the lake and archived, ready to decode."""

    now: datetime
    read: list[tuple[inbox.FitInput, str]]  # (inbox file, sha256 of its bytes)
    raw_paths: dict[str, str]
    jobs: list[dict]


def _prepare(
    lake: Lake,
    settings: Settings,
    batch: Sequence[inbox.FitInput],
    read_one: Callable[[inbox.FitInput], bytes],
    report: IngestReport,
    step: Callable[[int], None],
    committing: dict[str, str],
) -> _Prepared:
    """Read `batch`, drop the files already in the lake and archive the new ones.

    `committing` (sha256 → status) are the outcomes of the batch whose commit may still be running:
    they count as in the lake, exactly as the `fit_files` rows that commit writes."""
    now = datetime.now(UTC)
    loaded: dict[str, tuple[inbox.FitInput, bytes]] = {}
    read: list[tuple[inbox.FitInput, str]] = []
    unreadable = 0
    for item in batch:
        try:
            data = read_one(item)
        except OSError as exc:
            report.unreadable.append((item.uri, exc.strerror or str(exc)))
            unreadable += 1
            continue
        sha = sha256_of(data)
        loaded.setdefault(sha, (item, data))
        read.append((item, sha))
    known = fit_batch.known_statuses(lake, settings.athlete_id, list(loaded))
    known.update({sha: status for sha, status in committing.items() if sha in loaded})
    todo = {sha: v for sha, v in loaded.items() if known.get(sha) not in (INGESTED, SKIPPED)}
    # Files already in the lake, and repeats of the same bytes within this batch.
    already = len(batch) - unreadable - len(todo)
    report.already_known += already
    step(already + unreadable)
    raw_paths = {sha: raw.archive_fit(lake, sha, data) for sha, (_, data) in todo.items()}
    jobs = [
        dict(data=data, sha256=sha, name=item.name, uri=item.uri, athlete_id=settings.athlete_id, default_tz=settings.timezone, now=now)
        for sha, (item, data) in todo.items()
    ]
    return _Prepared(now=now, read=read, raw_paths=raw_paths, jobs=jobs)


def _count(report: IngestReport, outcomes: Sequence[FileOutcome]) -> None:
    for o in outcomes:
        if o.status == INGESTED:
            report.ingested += 1
            report.records += sum(f.height for f in o.rows.records)
        elif o.status == SKIPPED:
            report.skipped.append((o.name, o.reason or ""))
        elif o.status == QUARANTINED:
            report.quarantined.append((o.name, o.reason or ""))


def _ingest_batches(
    lake: Lake,
    settings: Settings,
    items: Sequence[inbox.FitInput],
    read_one: Callable[[inbox.FitInput], bytes],
    report: IngestReport,
    step: Callable[[int], None],
    pool: _LazyPool,
    annotate: Callable[[list[FileOutcome]], None] | None,
) -> None:
    """Batch after batch: read, decode, commit (`fit_batch.commit_batch`). A batch's commit runs on
    one committer thread while the next batch is read and decoded (in the worker pool or in this
    thread): the commits stay one at a time and in batch order, so a run killed at any moment
    leaves what a sequential run would, and the decoding never waits for Delta."""
    committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-commit")
    in_commit: tuple[Future, list[FileOutcome]] | None = None
    try:
        for batch in inbox.iter_batches(items, settings.ingest_batch_files):
            committing = {o.sha256: o.status for o in in_commit[1]} if in_commit else {}
            prepared = _prepare(lake, settings, batch, read_one, report, step, committing)
            outcomes = _decode_all(prepared.jobs, pool=pool, on_done=lambda: step(1))
            if annotate is not None:
                annotate(outcomes)
            seen = inbox_seen.seen_rows(prepared.read, athlete_id=settings.athlete_id, now=prepared.now)
            if in_commit is not None:
                _settle(report, *in_commit)
            in_commit = (
                committer.submit(fit_batch.commit_batch, lake, outcomes, athlete_id=settings.athlete_id, now=prepared.now,
                                 raw_paths=prepared.raw_paths, seen=seen),
                outcomes,
            )
        if in_commit is not None:
            _settle(report, *in_commit)
            in_commit = None
    except BaseException as exc:
        failed = in_commit[0].exception() if in_commit is not None else None  # waits for a running commit
        if failed is not None and failed is not exc:
            exc.add_note(f"the commit of the batch before also failed: {failed!r}")
        raise
    finally:
        committer.shutdown(wait=True)


def _settle(report: IngestReport, commit: Future, outcomes: list[FileOutcome]) -> None:
    """Wait for a batch's commit (its error is raised here) and count its outcomes."""
    report.activities += commit.result()
    _count(report, outcomes)


def resolve_inputs(settings: Settings, paths: Sequence[str] | None) -> tuple[list[inbox.FitInput], dict]:
    """The files to ingest (the inbox when no paths are given) and how to read them."""
    targets = list(paths) if paths else [settings.inbox]
    locations = [lake_at(p, settings) for p in targets]
    read_options = next((loc.fsspec_options() for loc in locations if loc.is_s3), {})
    return inbox.discover(locations, inbox=not paths), read_options


