"""`runlake ingest fit PATH...`"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from flows.commands.common import athlete_context, athlete_lease, athlete_option, console, out, user_errors, verbose_logging
from pipeline.steps.ingest_fit import IngestReport, ingest_fit_files, resolve_inputs

app = typer.Typer(no_args_is_help=True)


def print_report(report: IngestReport) -> None:
    out.print(report.summary(), highlight=False)
    for name, error in report.quarantined:
        out.print(f"  [yellow]quarantined[/] {name}: {error}", highlight=False)
    for name, reason in report.skipped:
        out.print(f"  [dim]skipped[/] {name}: {reason}", highlight=False)
    for uri, error in report.unreadable:
        out.print(f"  [red]unreadable[/] {uri}: {error}", highlight=False)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


@app.command("fit")
def fit(
    paths: Annotated[list[str] | None, typer.Argument(help="FIT files, folders or s3:// prefixes (default: the inbox).")] = None,
    lake_uri: Annotated[str | None, typer.Option("--lake", help="Lake root (default: RUNLAKE_LAKE_URI).")] = None,
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Ingest FIT files for one athlete (default: the athlete's inbox). Bad files are quarantined
    (exit 0); exit 1 only when the run failed."""
    verbose_logging(verbose)
    lake, athlete = athlete_context(handle, lake_uri=lake_uri)
    settings = athlete.settings
    with user_errors():
        items, read_options = resolve_inputs(settings, paths)
        with athlete_lease(lake, settings.athlete_id, "ingest fit"), progress_bar() as bar:
            task = bar.add_task("ingesting", total=len(items))
            report = ingest_fit_files(lake, settings, items, read_options=read_options, progress=lambda n: bar.advance(task, n))
    print_report(report)
    if report.unreadable:
        raise typer.Exit(1)
