"""Lake-wide invariants of the tables themselves: every key unique, the schema version current."""

from __future__ import annotations

import polars as pl

from lake import meta, migrations
from lake.storage import Lake
from lake.table import TableSpec, scan
from pipeline.checks.finding import Finding, describe_key, finding

KEYS_UNIQUE = "keys_unique"
SCHEMA_VERSION = "schema_version"


def keys_unique(lake: Lake, spec: TableSpec) -> Finding:
    """No two rows share the table's key (`spec.key`), and no key column is null.
    A table that does not exist yet is empty: it holds."""
    key = list(spec.key)
    rows = scan(lake, spec).select(key)
    doubled = rows.group_by(key).agg(pl.len().alias("_n")).filter(pl.col("_n") > 1).drop("_n").collect()
    nulls = rows.filter(pl.any_horizontal(pl.col(c).is_null() for c in key)).collect()
    offenders = [describe_key(r) for r in doubled.head(10).to_dicts()] + [f"null key: {describe_key(r)}" for r in nulls.head(10).to_dicts()]
    return finding(KEYS_UNIQUE, spec.name, offenders, count=doubled.height + nulls.height)


def schema_version(lake: Lake) -> Finding:
    """The lake is at the version this runlake reads and writes (`runlake lake migrate` otherwise)."""
    version = migrations.current_version(lake)
    if version == migrations.LATEST:
        return Finding(SCHEMA_VERSION, meta.MIGRATIONS.name)
    return Finding(SCHEMA_VERSION, meta.MIGRATIONS.name, 1, (f"lake at version {version}, this runlake at {migrations.LATEST}",))
