"""`private/api_tokens`: the athletes' tokens for the data API (key: `athlete_id`, `token_id`).

A token is `rlk_<token_id>_<secret>`; only `token_id` (public, random) and a salted hash of the
secret are stored, never the secret, so neither a copy of the lake nor an export can be used to
call the API. Making, checking and revoking tokens is `pipeline/tokens.py`; this module is the
table's contract and I/O. Private part of the lake: never published. docs/tokens.md.
"""

from __future__ import annotations

import polars as pl

from lake.storage import Lake
from lake.table import TableSpec, read_versioned, table_version, upsert_at_version

SPEC = TableSpec(
    name="private/api_tokens",
    grain="one API token of an athlete",
    schema=pl.Schema(
        {
            "athlete_id": pl.String,  # owner: the token acts for this athlete only
            "token_id": pl.String,  # 16 random hex digits, public: the part of the token that finds its row
            "name": pl.String,  # the athlete's name for it ([A-Za-z0-9][A-Za-z0-9_.-]{0,63}), unique among its live tokens
            "scopes": pl.String,  # space-separated, sorted: read:public, read:private
            "salt": pl.String,  # 16 random bytes, hex
            "token_hash": pl.String,  # hex of HMAC-SHA256(key=salt bytes, msg=secret)
            "created_at": pl.Datetime("us", "UTC"),
            "expires_at": pl.Datetime("us", "UTC"),  # rejected from this instant on
            "revoked_at": pl.Datetime("us", "UTC"),  # null: not revoked
        }
    ),
    key=("athlete_id", "token_id"),
)


def read_snapshot(lake: Lake) -> tuple[int | None, pl.DataFrame]:
    """Every token row and the table version they were read at (None: no table yet, no rows)."""
    return read_versioned(lake, SPEC)


def save_at_version(lake: Lake, rows: pl.DataFrame, *, version: int | None) -> None:
    """Merge `rows` on the key onto the table as read at `version` (one commit); a concurrent
    commit since then raises `CommitFailedError`, for the caller to decide again on a fresh read
    (`lake.table.upsert_at_version`)."""
    upsert_at_version(lake, SPEC, rows, version=version)


def version(lake: Lake) -> int | None:
    """The table's current Delta version (None: no table yet)."""
    return table_version(lake, SPEC)
