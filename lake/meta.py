"""`_meta/migrations`: the lake's schema version, one row per applied migration (key: `version`).

A system table: it belongs to no athlete (no `athlete_id`, no `athlete`) and is neither exported
nor erased with one. `lake.migrations` reads it to tell the lake's version and appends a row at the
end of each migration; a new lake gets a row for every migration when it is first opened for
writing (it never needs migrating). docs/athletes.md, "Migration", explains the versions.
"""

import polars as pl

from lake.table import TableSpec

MIGRATIONS = TableSpec(
    name="_meta/migrations",
    grain="one migration applied to (or stamped on) the lake",
    schema=pl.Schema(
        {
            "version": pl.Int32,  # the lake version this migration brings it to (2, 3, …)
            "name": pl.String,  # e.g. many_athletes
            "applied_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("version",),
)
