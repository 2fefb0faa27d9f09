"""`runlake athlete export|erase`: an athlete's data rights (pipeline/steps/athlete_data.py).

Registered on the `athlete` group (`flows.commands.athlete.app`) when the CLI loads it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from flows.commands.athlete import app
from flows.commands.common import fail, lake_from, load_settings, out, user_errors
from pipeline.steps.athlete_data import erase_athlete, export_athlete


@app.command("export")
def export(
    handle: str = typer.Argument(..., help="The athlete's handle (`me`: the default athlete)."),
    out_file: Path = typer.Option(..., "--out", help="The zip to write (replaced if it exists)."),
) -> None:
    """Every row and raw file the athlete owns, as a zip of Parquet files plus manifest.json."""
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors():
        report = export_athlete(lake, settings, handle, out_file)
    total = sum(report.rows.values())
    out.print(f"exported {handle}: {total} rows from {sum(1 for n in report.rows.values() if n)} tables, "
              f"{report.raw_files} raw files → {report.out}", highlight=False)
    for note in report.notes:
        out.print(f"note: {note}", highlight=False)


@app.command("erase")
def erase(
    handle: str = typer.Argument(..., help="The athlete's handle (`me`: the default athlete)."),
    yes: bool = typer.Option(False, "--yes", help="Really erase: nothing can bring the data back."),
) -> None:
    """Delete every row, raw file, token and inbox folder of the athlete, and purge the lake's history."""
    if not yes:
        fail(f"erasing {handle} deletes all of its data and every table's history for good: add --yes", 2)
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors():
        report = erase_athlete(lake, settings, handle)
    for table, rows in report.rows.items():
        out.print(f"{table}: {rows} rows deleted", highlight=False)
    out.print(f"raw files: {len(report.raw_removed)} deleted, {len(report.raw_kept_shared)} kept (another athlete's too)",
              highlight=False)
    for path in report.folders_removed + report.files_removed:
        out.print(f"deleted {path}", highlight=False)
    out.print(f"history purged: {len(report.purged)} tables", highlight=False)
    for note in report.notes:
        out.print(f"note: {note}", highlight=False)
    out.print(f"erased {handle}", highlight=False)
