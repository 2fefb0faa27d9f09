"""Restore one table to an earlier Delta version: time travel, as one new commit.

`restore_table` brings a table back to a version (or to the version current at an instant) by
appending a RESTORE commit: the versions in between stay in the log, so a restore is undone by
restoring the version before it. What it may reach is what `runlake lake maintain` promises to keep
(docs/reliability.md, "restore"):

* a version that was current at some moment of the last `retention_hours`
  (RUNLAKE_VACUUM_RETENTION_HOURS): the vacuum deletes a file only once it has been out of the
  table for longer than that, so every file of such a version is still there; older versions are
  refused even when their files happen to survive, so what restore can do does not depend on
  when maintenance last ran;
* and only versions still in the table's log: a privacy purge (`lake.purge.purge_history`: an
  athlete's erasure, a tightening of the public layer) erases a table's past on purpose.

Some tables are never restored (`NOT_RESTORED`): the public layer, which is rebuilt from the
private tables and must never regain what left it, and the tables whose older rows would undo a
privacy or security decision. Restoring one table never touches the others: `runlake lake check`
says whether the lake is still consistent afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError, TableNotFoundError

from lake import athletes, credentials, identities, meta, privacy_marks, public_state, registry, tokens
from lake.storage import Lake
from lake.table import TableSpec, open_table
from runlake.errors import RunlakeError

#: Tables `restore_table` refuses, with the reason it prints. The public layer is refused as a whole.
NOT_RESTORED: dict[str, str] = {
    athletes.SPEC.name: "an older registry could make a private athlete public again; change athletes with `runlake athlete set`",
    privacy_marks.SPEC.name: "privacy decisions are never rolled back (a run once private stays private)",
    public_state.SPEC.name: "it describes the public layer, which is rebuilt, never restored",
    tokens.SPEC.name: "an older version would bring revoked API tokens back to life",
    credentials.SPEC.name: "an older version would bring back Strava tokens that were rotated or revoked",
    identities.SPEC.name: "an older version would re-link sign-in identities that were unlinked",
    meta.MIGRATIONS.name: "the lake's version follows its migrations (`runlake lake migrate`)",
}
PUBLIC_REASON = "the public layer is rebuilt from the private tables by `runlake marts build`, never restored"


class RestoreRefused(RunlakeError):
    """The table or the version asked for cannot be restored; the message says why in one line."""


@dataclass(frozen=True)
class Restored:
    table: str
    restored_version: int  # the version whose rows the table now holds
    restored_at: dt.datetime  # when that version was committed
    previous_version: int  # the table's version before the restore (restore it to undo)
    new_version: int  # the RESTORE commit


def restorable_spec(name: str) -> TableSpec:
    """The registered table `name`, or `RestoreRefused` naming why it is never restored."""
    try:
        spec = registry.by_name(name)
    except KeyError:
        names = ", ".join(s.name for s in registry.ALL)
        raise RestoreRefused(f"no table {name!r} in the lake's registry; tables: {names}") from None
    if spec in registry.PUBLIC:
        raise RestoreRefused(f"{name} is not restored: {PUBLIC_REASON}")
    if spec.name in NOT_RESTORED:
        raise RestoreRefused(f"{name} is not restored: {NOT_RESTORED[spec.name]}")
    return spec


def commit_times(table: DeltaTable) -> dict[int, dt.datetime]:
    """Version → commit time (UTC) of every commit still in the table's log."""
    return {
        int(entry["version"]): dt.datetime.fromtimestamp(int(entry["timestamp"]) / 1000, tz=dt.UTC)
        for entry in table.history()
        if entry.get("version") is not None and entry.get("timestamp") is not None
    }


def version_at(times: dict[int, dt.datetime], instant: dt.datetime) -> int | None:
    """The version current at `instant` (the last one committed at or before it), None before the first."""
    before = [v for v, t in times.items() if t <= instant]
    return max(before) if before else None


def oldest_restorable(times: dict[int, dt.datetime], *, retention_hours: int, now: dt.datetime) -> int:
    """The oldest version the retention promises: the one current `retention_hours` ago, or the
    oldest still in the log when that moment is before it."""
    horizon = now - dt.timedelta(hours=retention_hours)
    at_horizon = version_at(times, horizon)
    return min(times) if at_horizon is None else at_horizon


def restore_table(
    lake: Lake, spec: TableSpec, *, version: int | None = None, timestamp: dt.datetime | None = None,
    retention_hours: int, now: dt.datetime | None = None,
) -> Restored:
    """Restore `spec` (from `restorable_spec`) to `version`, or to the version current at
    `timestamp`, as one commit. Refused (`RestoreRefused`, nothing written) for a version the
    retention does not promise or the log no longer holds, and for the current version."""
    if (version is None) == (timestamp is None):
        raise RestoreRefused("give either a version or a timestamp")
    now = now or dt.datetime.now(dt.UTC)
    table = open_table(lake, spec)
    if table is None:
        raise RestoreRefused(f"{spec.name} does not exist in the lake {lake.root}")
    times = commit_times(table)
    current = table.version()
    oldest = oldest_restorable(times, retention_hours=retention_hours, now=now)
    setting = f"RUNLAKE_VACUUM_RETENTION_HOURS={retention_hours}"
    if timestamp is not None:
        if timestamp.tzinfo is None:
            raise RestoreRefused("the timestamp needs a time zone (e.g. 2025-06-01T08:00:00Z)")
        if timestamp > now:
            raise RestoreRefused(f"{timestamp.isoformat()} is in the future")
        if timestamp < now - dt.timedelta(hours=retention_hours):
            raise RestoreRefused(
                f"{timestamp.isoformat()} is more than {setting} h ago: the retention keeps the table's "
                f"versions of the last {retention_hours} h only (oldest restorable: version {oldest})"
            )
        version = version_at(times, timestamp)
        if version is None:
            raise RestoreRefused(f"{spec.name} has no version at {timestamp.isoformat()} in its log "
                                 f"(its oldest is version {min(times)}, {times[min(times)].isoformat()})")
    assert version is not None
    if version not in times:
        why = "it never existed" if version > current else "its history was purged or cleaned up"
        raise RestoreRefused(f"{spec.name} has no version {version} in its log ({why}); "
                             f"restorable: versions {oldest} to {current - 1}")
    if version == current:
        raise RestoreRefused(f"{spec.name} is at version {version} already")
    if version < oldest:
        raise RestoreRefused(
            f"{spec.name} version {version} was replaced more than {setting} h ago: the retention does not "
            f"keep it (oldest restorable: version {oldest})"
        )
    try:
        DeltaTable(spec.uri(lake), storage_options=lake.storage_options).restore(version)
    except (TableNotFoundError, DeltaError) as exc:
        raise RestoreRefused(f"{spec.name} version {version} cannot be restored: {' '.join(str(exc).split())}") from exc
    after = DeltaTable(spec.uri(lake), storage_options=lake.storage_options).version()
    return Restored(spec.name, version, times[version], current, after)
