"""`runlake activity set ID [--athlete H] --sport S --race --exclude-from-load --distance-km D
--public|--private`: the athlete's decisions about one activity.

ID is an activity id, a Strava id, `strava-<id>` or a Strava activity URL. `--public/--private`
goes through the privacy marks (pipeline/steps/visibility.py, docs/privacy.md); the other options
are corrections kept in `private/overrides` and applied by every marts build
(pipeline/steps/overrides.py, docs/marts.md); `--clear-corrections` forgets earlier ones first.
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
        if correction.values():
            changes.append(set_overrides(lake, athlete.settings, activity, correction))
        if public is not None:
            changes.append(set_visibility(lake, athlete.settings, activity, private=not public))
    for change in changes:
        out.print(change.summary(), highlight=False)
