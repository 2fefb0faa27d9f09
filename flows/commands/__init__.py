"""CLI command groups; `register_all` adds every group to the root app.

Groups are imported here, when the CLI starts, not at package import.
"""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    from flows.commands import activity, athlete, dashboard, demo, deploy, gear, importer, ingest, lake, marts, strava, token
    from flows.commands import athlete_data  # noqa: F401  registers `athlete export|erase` on athlete.app
    from flows.commands import api as api_command

    app.add_typer(ingest.app, name="ingest", help="Bring new data into the lake.")
    app.add_typer(marts.app, name="marts", help="Build the marts (training load, weekly reports, best efforts).")
    app.add_typer(athlete.app, name="athlete", help="The lake's athletes: registry, settings, physiology, export, erasure.")
    app.add_typer(lake.app, name="lake", help="Look after the lake (maintenance, rebuild, migrate, check, restore).")
    app.add_typer(activity.app, name="activity", help="Decide about one activity (public or private).")
    app.add_typer(token.app, name="token", help="API tokens of an athlete: create, revoke, list.")
    app.add_typer(gear.app, name="gear", help="Shoes and other gear: add, retire, list with distance.")
    importer.register(app)
    strava.register(app)
    deploy.register(app)
    dashboard.register(app)
    api_command.register(app)
    demo.register(app)
