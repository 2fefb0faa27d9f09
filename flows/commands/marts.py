"""`runlake marts build [--full]`: build the private marts and the public layer."""

from __future__ import annotations

import datetime as dt

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from flows.commands.athlete import profile_errors
from flows.commands.common import (
    athlete_lease, athlete_option, console, fail, is_tty, lake_from, load_settings, user_errors, verbose_logging,
)
from marts.profile import ProfileError

app = typer.Typer(no_args_is_help=True, help="Derived tables: training load, weekly reports, best efforts.")


@app.command("build")
def build(
    full: bool = typer.Option(False, "--full", help="Recompute everything instead of what changed."),
    today: str = typer.Option(None, "--today", help="Build as of this local date (YYYY-MM-DD); default today."),
    handle: str = athlete_option(),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Build daily_load, weekly_summary, activity_summary, best efforts, PBs, predictions and the
    public layer — of one athlete, or (without --athlete) of every athlete, each on its own."""
    from pipeline.athletes import list_athletes, resolve_athlete

    verbose_logging(verbose)
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors(), profile_errors():
        try:
            day = dt.date.fromisoformat(today) if today else None
        except ValueError:
            raise ProfileError(f"--today {today!r} is not a date (YYYY-MM-DD)") from None
        athletes = [resolve_athlete(lake, settings, handle)] if handle is not None else list_athletes(lake, settings)
    failed = []
    for athlete in athletes:
        if len(athletes) > 1:
            console.print(f"athlete {athlete.handle}", highlight=False)
        try:
            with user_errors(), profile_errors():
                _build_one(lake, athlete.settings, full, day)
        except typer.Exit:  # this athlete's data or settings: the others still build
            failed.append(athlete.handle)
    if failed:
        fail(f"marts build failed for {', '.join(failed)} (the other athletes were built)")


def _build_one(lake, settings, full: bool, day: dt.date | None) -> None:
    from flows.steps.build_marts import build_marts

    with athlete_lease(lake, settings.athlete_id, "marts build"), Progress(
        TextColumn("marts"), BarColumn(), MofNCompleteColumn(), TextColumn("activities"), TimeElapsedColumn(),
        console=console, transient=True, disable=not is_tty(),
    ) as bar:
        task = bar.add_task("marts", total=None)

        def advance(n: int, total: int) -> None:
            bar.update(task, total=total, advance=n)

        result = build_marts(lake, settings, full=full, today=day, progress=advance)
    print(
        f"marts {result.mode}: {result.activities} activities ({result.recomputed} recomputed, "
        f"{result.removed} removed), {result.days} days from {result.from_day or '-'}, {result.weeks} weeks, "
        f"{result.seconds:.1f} s" + (f"; public: {result.public}" if result.public else "")
    )
