"""`runlake lake maintain`"""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import console, lake_from, out, load_settings, user_errors
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
