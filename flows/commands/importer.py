"""`runlake import PATH [--athlete HANDLE]`: an export archive, a folder or files into the lake."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import athlete_context, athlete_lease, athlete_option, out, user_errors, verbose_logging
from flows.commands.ingest import print_report, progress_bar


def import_command(
    path: Annotated[str, typer.Argument(help="A Strava or Garmin Connect export zip, a folder, or a .fit/.gpx/.tcx(.gz) file.")],
    lake_uri: Annotated[str | None, typer.Option("--lake", help="Lake root (default: RUNLAKE_LAKE_URI).")] = None,
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Import an export archive (Strava bulk export, Garmin Connect data export), a folder or single
    FIT, GPX or TCX files (optionally .gz) for one athlete (docs/import.md). Bad files are
    quarantined (exit 0); exit 1 when the archive cannot be read or a member of it is damaged."""
    from pipeline.archive_import import import_archive

    verbose_logging(verbose)
    lake, athlete = athlete_context(handle, lake_uri=lake_uri)
    settings = athlete.settings
    with user_errors():
        with athlete_lease(lake, settings.athlete_id, "import"), progress_bar() as bar:
            task = bar.add_task("importing", total=None)
            report = import_archive(
                lake, settings, path,
                on_listed=lambda n: bar.update(task, total=n),
                progress=lambda n: bar.advance(task, n),
            )
    out.print(f"{report.listed} activity files in {path}", highlight=False)
    print_report(report.ingest)
    if report.csv_rows:
        out.print(f"activities.csv: {report.csv_rows} rows name a file; {report.with_strava_id} activities given their Strava id",
                  highlight=False)
    for strava_id in report.strava_id_elsewhere:
        out.print(f"  [dim]Strava id {strava_id} is already on another file's activity: not given twice[/]", highlight=False)
    if report.ingest.unreadable:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("import")(import_command)
