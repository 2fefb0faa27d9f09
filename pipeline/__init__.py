"""The pipeline layer: business rules that decide what the lake's tables hold, between the
sources and marts below and the flows, CLI, dashboard and API above.

* `fit_batch` — the write path of a decoded FIT batch (which file wins, the crash-safe order).
* `fit_rebuild` — re-deriving an athlete's FIT rows from the raw archive.
* `activity_merge` — one activity per run across sources (FIT + Strava), privacy marks that follow it.
* `lake_access` — opening the configured lake (credentials, the schema-version guard).

`lake/` below is table specs and Delta I/O only; the import direction is checked by
`import-linter` (`.importlinter`, run by `tests/test_layers.py`).
"""
