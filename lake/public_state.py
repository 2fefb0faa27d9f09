"""`private/public_build_state`: which activities' routes and samples are in `public/`, and from
what (key: `activity_id`).

Routes and samples are the one expensive part of the public layer (they read the records), so
`pipeline.steps.build_public` recomputes them only for activities whose fingerprint (the activity row
plus the privacy settings and id key in force) changed since the last build. This table lives in
the private part of the lake: it maps private ids to public ones and must never be published.
"""

import polars as pl

from lake.table import TableSpec

SPEC = TableSpec(
    name="private/public_build_state",
    grain="one public activity whose routes and samples are in public/",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "activity_id": pl.String,
            "public_activity_id": pl.String,
            "fingerprint": pl.String,  # activity row + settings_fingerprint (sha256)
            "settings_fingerprint": pl.String,  # privacy settings + protected places + id key
            "has_route": pl.Boolean,
            "has_shape": pl.Boolean,
        }
    ),
    key=("activity_id",),
)
