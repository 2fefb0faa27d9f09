"""`runlake activity set ID --public|--private`: the athlete's decisions about one activity.

ID is an activity id, a Strava id, `strava-<id>` or a Strava activity URL. Each option of `set`
is one independent change, applied in turn (more will come: sport, race, distance).
"""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import fail, lake_from, load_settings, out, user_errors

app = typer.Typer(no_args_is_help=True)


@app.command("set")
def set_command(
    activity: Annotated[str, typer.Argument(help="Activity id, Strava id, strava-<id> or Strava activity URL.")],
    public: Annotated[
        bool | None,
        typer.Option("--public/--private", help="Publish the run (overrides older privacy marks) or keep it private for good."),
    ] = None,
) -> None:
    """Change what runlake knows about one activity."""
    from pipeline.steps.visibility import set_visibility

    if public is None:
        fail("nothing to set: give --public or --private")
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors():
        changes = [set_visibility(lake, settings, activity, private=not public)]
    for change in changes:
        out.print(change.summary(), highlight=False)
