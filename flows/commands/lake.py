"""`runlake lake maintain`, `runlake lake rebuild`, `runlake lake migrate`"""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import athlete_context, athlete_lease, athlete_option, fail, lake_from, out, load_settings, user_errors
from lake.maintenance import maintain_lake

app = typer.Typer(no_args_is_help=True)


@app.command("maintain")
def maintain_command(
    retention_hours: Annotated[int | None, typer.Option(help="Vacuum keeps files newer than this (default: RUNLAKE_VACUUM_RETENTION_HOURS).")] = None,
) -> None:
    """Compact small files and vacuum old ones in every table."""
    settings = load_settings(vacuum_retention_hours=retention_hours)
    lake = lake_from(settings)
    with user_errors():
        results = maintain_lake(lake, retention_hours=settings.vacuum_retention_hours)
    for r in results:
        out.print(f"{r.table}: compacted {r.files_removed} → {r.files_added} files, vacuumed {r.vacuumed} files", highlight=False)


@app.command("rebuild")
def rebuild_command(
    workers: Annotated[int | None, typer.Option(help="Decoding processes (default: all cores).")] = None,
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
