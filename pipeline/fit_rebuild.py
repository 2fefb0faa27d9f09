"""Replace every FIT-derived row of one athlete with rows re-derived from the raw archive.

Rows from other sources (Strava-only activities) are kept, and a FIT activity merged with a
Strava activity keeps the Strava-owned columns.

Bounded memory (a 10-year history is ~20 M records): `replace_fit_derived` takes the decoded
files as an iterable and streams their records into one overwrite commit of `records` through
the one write path for activities (`pipeline.activity_write`, scope: every row of the athlete),
keeping only activities and laps (small) in memory. Then `laps`, `activities` and `fit_files`
are overwritten, one commit each. Crash safety: each commit
is atomic; a run killed before the `records` commit changes nothing; one killed between the
commits leaves tables each internally whole, and a re-run (which only reads `fit_files` and the
raw archive) rewrites them all — nothing is lost because the raw archive is never touched.

"A later file of the same recording wins" (`fit_batch.latest_per_activity`): the iterable must
come in the order that decides it (the ingest's: `ingested_at`, then sha256). When a later file repeats an activity id whose
records were already streamed, its records are held back and swapped in with one more commit
right after the streamed one (`late_records`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from lake import activities, fit_files, laps, records
from lake.storage import Lake
from lake.table import read, scan, table_version, upsert
from pipeline.activity_write import activity_frame, concat_conformed, write_activities
from runlake.errors import LakeChangedError
from sources.fit.outcome import INGESTED, QUARANTINED, FileOutcome

#: Records handed to the Delta writer at a time (~20 MB of Arrow).
STREAM_ROWS = 250_000


@dataclass
class RebuildCounts:
    files: int = 0
    activities: int = 0
    records: int = 0
    quarantined: int = 0
    statuses: list[dict] = field(default_factory=list)


def replace_fit_derived(lake: Lake, outcomes: Iterable[FileOutcome], *, athlete_id: str, now: datetime) -> int:
    """Rewrite the athlete's FIT-derived rows from `outcomes`; returns the activities written."""
    return replace_fit_derived_counted(lake, outcomes, athlete_id=athlete_id, now=now).activities


def replace_fit_derived_counted(
    lake: Lake, outcomes: Iterable[FileOutcome], *, athlete_id: str, now: datetime
) -> RebuildCounts:
    # Ingest and Strava sync commit `fit_files` / `activities` last: if either moves while this
    # rewrite computes from its snapshot, stop rather than overwrite their new rows. A re-run
    # then includes them (the raw archive holds every file). Records appended concurrently
    # make the streamed overwrite itself fail (a Delta conflict on the partition).
    versions = {spec.name: table_version(lake, spec) for spec in (fit_files.SPEC, activities.SPEC)}

    def ensure_unchanged() -> None:
        for spec in (fit_files.SPEC, activities.SPEC):
            if table_version(lake, spec) != versions[spec.name]:
                raise LakeChangedError(
                    f"{spec.name} changed while the rebuild ran (an ingest or a sync committed): "
                    "run `runlake lake rebuild` again; nothing is lost, the raw archive holds every file"
                )

    existing = read(lake, activities.SPEC).filter(pl.col("athlete_id") == athlete_id)
    other_sources = existing.filter(pl.col("fit_sha256").is_null())
    keep_ids = other_sources["activity_id"].to_list()

    def kept_children(spec) -> pl.DataFrame:
        return scan(lake, spec).filter((pl.col("athlete_id") == athlete_id) & pl.col("activity_id").is_in(keep_ids)).collect()

    kept_records = kept_children(records.SPEC)  # read before the stream: no Delta call may run inside it
    kept_laps = kept_children(laps.SPEC)
    counts = RebuildCounts()
    chosen: dict[str, tuple[dict, pl.DataFrame]] = {}  # activity_id -> (activity row, laps)
    held: dict[str, pl.DataFrame] = {}  # records of a repeated activity id, swapped in after the stream

    def record_frames() -> Iterator[pl.DataFrame]:
        # Runs on the Delta writer's thread, inside its runtime: no deltalake call in here.
        pending: list[pl.DataFrame] = [kept_records]
        rows = pending[0].height
        for outcome in outcomes:
            counts.files += 1
            counts.quarantined += outcome.status == QUARANTINED
            counts.statuses.append(
                {"sha256": outcome.sha256, "status": outcome.status, "reason": outcome.reason, "decoder": outcome.decoder,
                 "activities": len(outcome.rows.activities) if outcome.rows else 0}
            )  # fmt: skip
            if outcome.status != INGESTED or outcome.rows is None:
                continue
            for row, lap_frame, record_frame in zip(outcome.rows.activities, outcome.rows.laps, outcome.rows.records, strict=True):
                activity_id = row["activity_id"]
                counts.records += record_frame.height
                if activity_id in chosen:
                    held[activity_id] = record_frame
                else:
                    pending.append(record_frame)
                    rows += record_frame.height
                chosen[activity_id] = (row, lap_frame)
            outcome.rows = None  # the records are in `pending` or written: let them go
            if rows >= STREAM_ROWS:
                yield concat_conformed(pending, records.SPEC)
                pending, rows = [], 0
        if pending:
            yield concat_conformed(pending, records.SPEC)

    def fit_activities() -> pl.DataFrame:
        new_fit = activity_frame([c[0] for c in chosen.values()])
        carried = existing.filter(pl.col("strava_id").is_not_null() & pl.col("fit_sha256").is_not_null()).select(
            "activity_id", *activities.STRAVA_OWNED
        )
        if carried.height:
            new_fit = new_fit.update(carried, on="activity_id", how="left", include_nulls=True)
        return pl.concat([new_fit, other_sources], how="vertical")

    write_activities(
        lake,
        athlete_id,
        records=record_frames(),
        late_records=lambda: concat_conformed(list(held.values()), records.SPEC),
        laps=lambda: pl.concat([concat_conformed([c[1] for c in chosen.values()], laps.SPEC), laps.SPEC.conform(kept_laps)]),
        activities=fit_activities,
        replace_ids=None,
        before_commit=ensure_unchanged,
    )
    counts.activities = len(chosen)
    status = pl.DataFrame(
        counts.statuses,
        schema={"sha256": pl.String, "status": pl.String, "reason": pl.String, "decoder": pl.String, "activities": pl.Int32},
    ).unique("sha256", keep="last", maintain_order=True)
    known = (
        read(lake, fit_files.SPEC).filter(pl.col("athlete_id") == athlete_id)
        .drop("status", "reason", "decoder", "activities").join(status, on="sha256", how="inner")
    )
    upsert(lake, fit_files.SPEC, known)
    return counts
