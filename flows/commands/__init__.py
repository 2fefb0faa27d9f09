"""CLI command groups; `register_all` adds every group to the root app."""

from __future__ import annotations

import typer


def register_all(app: typer.Typer) -> None:
    from flows.commands import ingest, lake

    app.add_typer(ingest.app, name="ingest", help="Bring new data into the lake.")
    app.add_typer(lake.app, name="lake", help="Look after the lake (maintenance, rebuild).")
    from flows.commands import demo

    demo.register(app)
    from flows.commands import dashboard

    dashboard.register(app)
