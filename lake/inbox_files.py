"""`private/inbox_files`: one row per file an athlete's inbox listing showed and the ingest has
read (key: `athlete_id`, `rel_path`).

What lets `runlake ingest fit` over an unchanged inbox read no file: a listed file whose
`rel_path` and `size_bytes` match its row here, and its `etag` (S3) or `modified_ns` (local),
is skipped without being opened (`pipeline.inbox_seen`). `rel_path` is relative to the inbox
root, so the same tree under a moved home or a copied bucket prefix stays known. Written after `fit_files` in an ingest batch: a file is only
"seen" once its rows are in, and a run killed earlier reads it again (harmless, by sha256).
"""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="private/inbox_files",
    grain="one file path in an athlete's inbox, as last read",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "rel_path": pl.String,  # relative to the inbox root, '/'-separated
            "size_bytes": pl.Int64,
            "modified_ns": pl.Int64,  # local st_mtime_ns (compared); S3 LastModified as ns since the epoch (kept, not compared)
            "etag": pl.String,  # S3 ETag as listed, quotes included (compared); null for local files
            "sha256": pl.String,  # of the bytes read then (a `fit_files` key)
            "seen_at": pl.Datetime("us", "UTC"),  # the batch that read it
        }
    ),
    key=("athlete_id", "rel_path"),
)
