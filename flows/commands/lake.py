"""`runlake lake maintain`, `rebuild`, `migrate`, `check`, `restore`"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated

import typer

from flows.commands.common import athlete_context, athlete_lease, athlete_option, fail, lake_from, out, load_settings, user_errors
from lake.maintenance import check_retention, maintain_lake

app = typer.Typer(no_args_is_help=True)


@app.command("maintain")
def maintain_command(
    retention_hours: Annotated[int | None, typer.Option(help="Vacuum keeps files newer than this; at least RUNLAKE_VACUUM_RETENTION_HOURS (the default).")] = None,
) -> None:
    """Compact small files and vacuum old ones in every table (never within the restore window)."""
    settings = load_settings()
    hours = settings.vacuum_retention_hours if retention_hours is None else retention_hours
    lake = lake_from(settings)
    with user_errors():
        check_retention(hours, settings.vacuum_retention_hours)
        results = maintain_lake(lake, retention_hours=hours)
    for r in results:
        out.print(f"{r.table}: compacted {r.files_removed} → {r.files_added} files, vacuumed {r.vacuumed} files", highlight=False)


@app.command("rebuild")
def rebuild_command(
    workers: Annotated[int | None, typer.Option(help="Decoding processes (default: RUNLAKE_WORKERS, else all cores).")] = None,
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
) -> None:
    """Re-derive an athlete's activities, laps and records from the raw FIT archive (after a decoder change)."""
    from flows.commands.ingest import progress_bar
    from pipeline.steps.rebuild import rebuild_from_raw

    lake, athlete = athlete_context(handle)
    settings = athlete.settings
    with user_errors():
        with athlete_lease(lake, settings.athlete_id, "lake rebuild"), progress_bar() as bar:
            task = bar.add_task("decoding raw files", total=None)
            report = rebuild_from_raw(lake, settings, workers=workers, progress=lambda done, total: bar.update(task, completed=done, total=total))
    out.print(report.summary(), highlight=False)


@app.command("migrate")
def migrate_command() -> None:
    """Bring a lake written by an older runlake up to this version (safe to stop and run again)."""
    from lake import migrations
    from lake.athletes import DEFAULT_HANDLE

    settings = load_settings()
    lake = lake_from(settings, for_write=False)
    with user_errors():
        version = migrations.current_version(lake)
        if version > migrations.LATEST:
            fail(f"the lake {lake.root} is at version {version}, newer than this runlake knows ({migrations.LATEST}): upgrade runlake")
        todo = migrations.pending(lake)
        if not todo:
            out.print(f"lake {lake.root} is at version {version}: nothing to do", highlight=False)
            return
        out.print(f"lake {lake.root} is at version {version}; migrating to {migrations.LATEST}: "
                  + ", ".join(f"v{m.VERSION} {m.NAME}" for m in todo), highlight=False)
        ctx = migrations.MigrationContext(default_athlete_id=settings.athlete_id, default_handle=DEFAULT_HANDLE)
        migrations.migrate(lake, ctx, progress=lambda line: out.print(line, highlight=False))
    out.print(f"lake {lake.root} is at version {migrations.current_version(lake)}", highlight=False)


@app.command("check")
def check_command(
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
    sample_days: Annotated[int, typer.Option(min=1, help="Days per athlete whose marts sums are recomputed.")] = 20,
) -> None:
    """Verify the lake's invariants (keys, orphans, raw archive, marts, public layer, version); exit 1 on a violation."""
    from pipeline.lake_check import check_lake

    settings = load_settings()
    lake = lake_from(settings, for_write=False)  # an older lake is reported, not refused
    with user_errors():
        report = check_lake(lake, settings, athlete=handle, sample_days=sample_days)
    for line in report.lines():
        out.print(line, highlight=False, markup=False)
    if not report.ok:
        raise typer.Exit(1)


def _instant(text: str) -> dt.datetime:
    """An ISO 8601 instant; without an offset it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        fail(f"--timestamp {text!r} is not an ISO 8601 time (e.g. 2025-06-01T08:00:00Z)")
        raise  # unreachable: fail() exits
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@app.command("restore")
def restore_command(
    table: Annotated[str, typer.Option("--table", help="The table, as named in lake/registry.py (e.g. activities, marts/daily_load).")],
    version: Annotated[int | None, typer.Option(min=0, help="The Delta version to bring back.")] = None,
    timestamp: Annotated[str | None, typer.Option(help="Bring back the version current at this time (ISO 8601; UTC without an offset).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation at a terminal.")] = False,
) -> None:
    """Restore one table to an earlier version (Delta time travel, one new commit; public/* never)."""
    from lake.restore import restorable_spec, restore_table
    from lake.table import read

    if (version is None) == (timestamp is None):
        fail("give --version or --timestamp (one of them)")
    instant = _instant(timestamp) if timestamp is not None else None
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors():
        spec = restorable_spec(table)
        if not yes and sys.stdin.isatty():
            what = f"version {version}" if version is not None else f"the version current at {instant.isoformat()}"
            typer.confirm(f"restore {spec.name} of {lake.root} to {what}?", abort=True)
        before = read(lake, spec).height
        done = restore_table(lake, spec, version=version, timestamp=instant, retention_hours=settings.vacuum_retention_hours)
        after = read(lake, spec).height
    out.print(f"{done.table}: restored version {done.restored_version} (committed {done.restored_at.isoformat(timespec='seconds')}) "
              f"as version {done.new_version}; rows {before} → {after}", highlight=False, markup=False)
    out.print(f"undo: runlake lake restore --table {done.table} --version {done.previous_version}", highlight=False, markup=False)
    out.print("Restoring one table can leave the others inconsistent with it: run `runlake lake check` "
              "(and `runlake marts build` after restoring activities, laps or records).", highlight=False, markup=False)
