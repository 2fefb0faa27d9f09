"""Which inbox files an ingest can skip without reading them, and the rows that remember the ones
it read (`private/inbox_files`, lake/inbox_files.py).

A file listed in the athlete's inbox is *unchanged* when its row in `inbox_files` (same
`rel_path`) has the same size and the same version as the listing shows — the ETag on S3 (a
digest of the content, kept when objects are copied to a new prefix), else the modification
time (`st_mtime_ns`) — and the sha256 read then is still in `fit_files` (a table restored to before that ingest, or rows removed by
hand, make the file new again). Unchanged files are not opened; every other file is read and
decided by sha256 as before. Only files discovered as the inbox carry a `rel_path`: paths given
explicitly (`runlake ingest fit FILE…`, uploads) are always read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from lake import fit_files, inbox_files
from lake.storage import Lake
from lake.table import scan
from sources.fit.inbox import FitInput

_LISTED = ("size_bytes", "modified_ns", "etag")


def _version(size_bytes: int, modified_ns: int | None, etag: str | None) -> tuple:
    """What says a listed file is the one read before: size and ETag on S3, else size and mtime."""
    return (size_bytes, "etag", etag) if etag is not None else (size_bytes, "mtime", modified_ns)


def known(lake: Lake, athlete_id: str) -> pl.DataFrame:
    """The athlete's `inbox_files` rows whose file is still in `fit_files` (rel_path, size_bytes,
    modified_ns, etag)."""
    in_lake = scan(lake, fit_files.SPEC).filter(pl.col("athlete_id") == athlete_id).select("sha256")
    return (
        scan(lake, inbox_files.SPEC)
        .filter(pl.col("athlete_id") == athlete_id)
        .join(in_lake, on="sha256", how="semi")
        .select("rel_path", *_LISTED)
        .collect()
    )


def split_unchanged(known_rows: pl.DataFrame, items: Sequence[FitInput]) -> tuple[list[FitInput], list[FitInput]]:
    """(unchanged, to read) — `items` in their order. Pure: `known_rows` as `known` returns them."""
    listed = {row["rel_path"]: _version(*(row[c] for c in _LISTED)) for row in known_rows.iter_rows(named=True)}
    unchanged, to_read = [], []
    for item in items:
        same = item.rel_path is not None and listed.get(item.rel_path) == _version(item.size_bytes, item.modified_ns, item.etag)
        (unchanged if same else to_read).append(item)
    return unchanged, to_read


def seen_rows(read: Sequence[tuple[FitInput, str]], *, athlete_id: str, now: datetime) -> pl.DataFrame:
    """`inbox_files` rows for the inbox files of `read` ((file, sha256 of the bytes read))."""
    return pl.DataFrame(
        [
            {"athlete_id": athlete_id, "rel_path": item.rel_path, "size_bytes": item.size_bytes,
             "modified_ns": item.modified_ns, "etag": item.etag, "sha256": sha, "seen_at": now}
            for item, sha in read
            if item.rel_path is not None
        ],
        schema=inbox_files.SPEC.schema,
    )
