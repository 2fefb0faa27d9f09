"""`runlake activity set ID [--athlete H] --sport S --race --exclude-from-load --distance-km D
--public|--private`, `runlake activity merge ID ID` and `runlake activity split ID --at TIME`:
the athlete's decisions about activities.

ID is an activity id, a Strava id, `strava-<id>` or a Strava activity URL. `--public/--private`
goes through the privacy marks (pipeline/steps/visibility.py, docs/privacy.md); the other options
are corrections kept in `private/overrides` and applied by every marts build
(pipeline/steps/overrides.py, docs/marts.md); `--clear-corrections` forgets earlier ones first,
merges and splits included. Merges and splits live in `private/activity_edits`
(pipeline/steps/edits.py, marts/edits.py).
Each part given is recorded, in that order: clear, corrections, privacy.
"""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import athlete_context, athlete_lease, athlete_option, fail, out, user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("set")
def set_command(
    activity: Annotated[str, typer.Argument(help="Activity id, Strava id, strava-<id> or Strava activity URL.")],
    public: Annotated[
        bool | None,
        typer.Option("--public/--private", help="Publish the run (overrides older privacy marks) or keep it private for good."),
    ] = None,
    sport: Annotated[str | None, typer.Option("--sport", help="The right sport (e.g. running, cycling).")] = None,
    race: Annotated[bool, typer.Option("--race", help="Mark it a race (session type race).")] = False,
    exclude_from_load: Annotated[
        bool, typer.Option("--exclude-from-load", help="Count its training load as 0 in daily_load.")
    ] = False,
    distance_km: Annotated[float | None, typer.Option("--distance-km", help="The right distance, km.")] = None,
    clear: Annotated[
        bool, typer.Option("--clear-corrections", help="Forget the earlier corrections first (the sources' values again).")
    ] = False,
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
) -> None:
    """Change what runlake knows about one activity."""
    from pipeline.steps.edits import clear_edits
    from pipeline.steps.overrides import Correction, check, clear_overrides, set_overrides
    from pipeline.steps.visibility import set_visibility

    correction = Correction(
        sport=sport, is_race=True if race else None, exclude_from_load=True if exclude_from_load else None,
        distance_m=None if distance_km is None else distance_km * 1000.0,
    )
    if public is None and not correction.values() and not clear:
        fail("nothing to set: give --public or --private, --sport, --race, --exclude-from-load, --distance-km "
             "or --clear-corrections")
    lake, athlete = athlete_context(handle)
    changes = []
    with user_errors(), athlete_lease(lake, athlete.athlete_id, "activity set"):
        check(correction)  # before anything is written
        if clear:
            changes.append(clear_overrides(lake, athlete.settings, activity))
            changes.append(clear_edits(lake, athlete.settings, activity))
        if correction.values():
            changes.append(set_overrides(lake, athlete.settings, activity, correction))
        if public is not None:
            changes.append(set_visibility(lake, athlete.settings, activity, private=not public))
    for change in changes:
        out.print(change.summary(), highlight=False)


@app.command("merge")
def merge_command(
    activity: Annotated[str, typer.Argument(help="The activity that stays (id, Strava id, strava-<id> or Strava URL).")],
    other: Annotated[str, typer.Argument(help="The activity merged into it: its samples outside the first's time span are added.")],
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
) -> None:
    """Make two recordings one run (a restarted watch, a duplicate the rules missed)."""
    from pipeline.steps.edits import merge_activities

    lake, athlete = athlete_context(handle)
    with user_errors(), athlete_lease(lake, athlete.athlete_id, "activity merge"):
        change = merge_activities(lake, athlete.settings, activity, other)
    out.print(change.summary(), highlight=False)


@app.command("split")
def split_command(
    activity: Annotated[str, typer.Argument(help="Activity id, Strava id, strava-<id> or Strava activity URL.")],
    at: Annotated[str, typer.Option("--at", help="Where the second part starts: 2026-03-01T07:42:10[+01:00], 07:42:10 (the activity's local time) or +25:00 (into the activity).")],
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
) -> None:
    """Cut one recording in two (a warm-up and a race, a watch left running)."""
    from pipeline.steps.edits import split_activity

    lake, athlete = athlete_context(handle)
    with user_errors(), athlete_lease(lake, athlete.athlete_id, "activity split"):
        change = split_activity(lake, athlete.settings, activity, at)
    out.print(change.summary(), highlight=False)
