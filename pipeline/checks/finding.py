"""What one invariant found about one table: a row of the `runlake lake check` report."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

VIOLATION, WARNING = "violation", "warning"

#: How many offending keys a finding names.
EXAMPLES = 3

#: Key columns whose values are personal identifiers: a finding names a short hash instead.
REDACTED_COLUMNS = frozenset({"subject", "issuer"})


@dataclass(frozen=True)
class Finding:
    """`count` offending items (keys, activities, files, days, rows) of `invariant` in `table`;
    0 means the invariant holds. `examples` name a few by key or id, never by a private value
    (no coordinates, names, tokens or handles)."""

    invariant: str
    table: str
    count: int = 0
    examples: tuple[str, ...] = ()
    severity: str = VIOLATION

    @property
    def ok(self) -> bool:
        return self.count == 0

    @property
    def fails(self) -> bool:
        return not self.ok and self.severity == VIOLATION

    @property
    def result(self) -> str:
        if self.ok:
            return "ok"
        return "VIOLATION" if self.severity == VIOLATION else "warning"


def finding(invariant: str, table: str, offenders: Iterable[str], *, count: int | None = None, severity: str = VIOLATION) -> Finding:
    """A finding from the offending items (sorted, the first few kept as examples)."""
    items = sorted(set(offenders))
    return Finding(invariant, table, len(items) if count is None else count, tuple(items[:EXAMPLES]), severity)


def describe_key(row: dict) -> str:
    """`col=value, …` of a key, personal identifiers replaced by an 8-digit hash."""
    parts = []
    for column, value in row.items():
        if column in REDACTED_COLUMNS and value is not None:
            value = "#" + hashlib.sha256(str(value).encode()).hexdigest()[:8]
        parts.append(f"{column}={value}")
    return ", ".join(parts)
