"""`runlake lake check`: verify the lake's invariants and report, without writing anything.

`check_lake` runs every check of `pipeline/checks/` over every table of `lake.registry` (a table
registered later is covered by the lake-wide checks without being told; a table not written yet
is empty, which holds) and returns a `CheckReport`: one `Finding` per invariant and table.
Invariants (docs/reliability.md says what a violation means and what to do):

| invariant | tables | scope |
|---|---|---|
| `keys_unique` | every registered table | lake |
| `schema_version` | `_meta/migrations` | lake |
| `records_laps_present` | `records`, `laps` | athletes |
| `no_orphans` | `records`, `laps` | athletes |
| `raw_files_present` | `fit_files`, `strava_activities` | athletes |
| `raw_files_referenced` (warning) | `raw/fit` | lake, only when every athlete is checked |
| `marts_daily_sums` | `marts/daily_load` | athletes |
| `marts_weekly_sums` | `marts/weekly_summary` | athletes |
| `public_columns` | every public table | lake |
| `public_athletes` | every public table | lake |
| `public_activities` | public tables with activity ids | athletes |

"athletes" checks cover every athlete, or one (`athlete=`). The check reads tables one after
the other, not from one snapshot: run it when nothing writes the lake (the `daily` flow runs it
after every athlete's steps), since an ingest committing meanwhile can look like orphans.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lake import registry
from lake.storage import Lake
from pipeline.athletes import list_athletes, resolve_athlete
from pipeline.checks import activities, marts, public, raw_archive, tables
from pipeline.checks.finding import Finding
from runlake.errors import RunlakeError
from runlake.settings import Settings

log = logging.getLogger(__name__)


class LakeCheckFailed(RunlakeError):
    """At least one invariant is violated; the message is the report's summary line."""


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok and not f.fails]

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        """`lake check: OK (N invariants)` or `lake check: N violations (invariant table, …)`."""
        if self.ok:
            note = f"; {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"lake check: OK ({len(self.findings)} invariants{note})"
        named = ", ".join(f"{f.invariant} {f.table}" for f in self.violations)
        return f"lake check: {len(self.violations)} violations ({named})"

    def lines(self) -> list[str]:
        """The report as a plain table, each failure's examples under it, then the summary line."""
        width = max(len(f.invariant) for f in self.findings)
        table_width = max(len(f.table) for f in self.findings)
        rows = [f"{'invariant':<{width}}  {'table':<{table_width}}  {'result':<9}  count"]
        for f in self.findings:
            rows.append(f"{f.invariant:<{width}}  {f.table:<{table_width}}  {f.result:<9}  {f.count}")
            rows += [f"    e.g. {example}" for example in f.examples]
        return [*rows, self.summary()]

    def raise_on_violation(self) -> None:
        if not self.ok:
            raise LakeCheckFailed(self.summary())


def check_lake(
    lake: Lake, settings: Settings, *, athlete: str | None = None, sample_days: int = marts.DEFAULT_SAMPLE_DAYS
) -> CheckReport:
    """Verify every invariant (see the module doc); `athlete` (a handle or id) limits the
    per-athlete checks to that athlete. Reads only."""
    everyone = list_athletes(lake, settings)
    checked = everyone if athlete is None else [resolve_athlete(lake, settings, athlete)]
    ids = {a.athlete_id for a in checked}
    archived = raw_archive.archived_files(lake)

    findings: list[Finding] = [tables.keys_unique(lake, spec) for spec in registry.ALL]
    findings.append(tables.schema_version(lake))
    findings += activities.records_laps_present(lake, ids)
    findings += activities.no_orphans(lake, ids)
    findings += raw_archive.raw_files_present(lake, ids, archived)
    if athlete is None:
        findings.append(raw_archive.raw_files_referenced(lake, archived))
    findings.append(marts.marts_daily_sums(lake, ids, sample=sample_days))
    findings.append(marts.marts_weekly_sums(lake, ids))
    findings += [public.public_columns(lake, spec) for spec in registry.PUBLIC]
    findings += [public.public_athletes(lake, spec, everyone) for spec in registry.PUBLIC]
    findings += public.public_activities(lake, checked)
    report = CheckReport(tuple(findings))
    for f in report.violations + report.warnings:
        log.warning("lake check: %s %s: %s (%d) %s", f.invariant, f.table, f.result, f.count, "; ".join(f.examples))
    return report
