"""`private/identity_links`: which athlete a signed-in identity is (key: `issuer`, `subject`).

An OpenID Connect identity is the pair (issuer URL, subject); each maps to one athlete. The web
app's replicas share only the lake, so the link is stored here, not in a session or a file.
Private part of the lake: never published, never logged.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, read_versioned, scan, upsert_at_version

SPEC = TableSpec(
    name="private/identity_links",
    grain="one signed-in identity (OIDC issuer + subject) linked to one athlete",
    schema=pl.Schema(
        {
            "issuer": pl.String,  # the provider's issuer URL, as in the ID token's `iss`
            "subject": pl.String,  # the ID token's `sub`: the provider's stable id of the person
            "athlete_id": pl.String,
            "linked_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("issuer", "subject"),
)


def athlete_of(lake: Lake, issuer: str, subject: str) -> str | None:
    """The athlete id linked to the identity, or None."""
    found = scan(lake, SPEC).filter((pl.col("issuer") == issuer) & (pl.col("subject") == subject)).select("athlete_id").collect()
    return found.item(0, 0) if found.height else None


def read_snapshot(lake: Lake) -> tuple[int | None, pl.DataFrame]:
    """Every link with the table's version (for a decision written back with `save_link_at`)."""
    return read_versioned(lake, SPEC)


def save_link_at(lake: Lake, row: dict, *, version: int | None) -> None:
    """Write one link onto the table as it was at `version`: a commit by another writer since
    then fails (`CommitFailedError`), and the caller decides again from a fresh snapshot."""
    upsert_at_version(lake, SPEC, pl.DataFrame([row], schema=SPEC.schema), version=version)
