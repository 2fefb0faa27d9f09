"""`private/credentials`: each athlete's credentials for a connected service, encrypted
(key: `athlete_id`, `provider`).

Several API/web replicas and Kubernetes pods share only the lake, so the lake is the store of
record for Strava's rotating tokens. This module moves ciphertext only: encrypting and
decrypting live outside `lake/` (`runlake/secrets_box.py`), with the key passed in, so no code
here ever sees a token. `key_id` names the key that encrypted a row (8 hex digits of its
SHA-256), so reading with another key fails with a clear message instead of a bare "invalid
token". Private part of the lake: never published, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, scan, upsert

STRAVA = "strava"

SPEC = TableSpec(
    name="private/credentials",
    grain="one athlete's credentials for one provider, encrypted",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,
            "provider": pl.String,  # strava
            "ciphertext": pl.String,  # a Fernet token of the provider's credentials as JSON
            "key_id": pl.String,  # first 8 hex digits of the SHA-256 of the key that encrypted it
            "updated_at": pl.Datetime("us", "UTC"),
        }
    ),
    key=("athlete_id", "provider"),
)


@dataclass(frozen=True)
class Sealed:
    """Encrypted credentials as stored: the ciphertext and the id of the key that made it."""

    ciphertext: str = field(repr=False)
    key_id: str


def load_sealed(lake: Lake, athlete_id: str, provider: str) -> Sealed | None:
    rows = (
        scan(lake, SPEC)
        .filter((pl.col("athlete_id") == athlete_id) & (pl.col("provider") == provider))
        .select("ciphertext", "key_id")
        .collect()
        .rows()
    )
    return Sealed(*rows[0]) if rows else None


def save_sealed(lake: Lake, athlete_id: str, provider: str, sealed: Sealed, *, now: datetime) -> None:
    """Replace the athlete's credentials for `provider` (one merge on the key, one commit)."""
    row = {"athlete_id": athlete_id, "provider": provider, "ciphertext": sealed.ciphertext, "key_id": sealed.key_id, "updated_at": now}
    upsert(lake, SPEC, pl.DataFrame([row], schema=SPEC.schema))

