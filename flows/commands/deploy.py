"""`runlake deploy`: pools, deployments and automations on the Prefect API in PREFECT_API_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.commands.common import console, load_settings, user_errors


def register(app: typer.Typer) -> None:
    @app.command("deploy")
    def deploy(
        scheduled_pool: Annotated[
            str,
            typer.Option(
                help="Whose daily schedule is active: k8s (production), local (a process worker "
                "on this machine) or none. The other's is paused.",
            ),
        ] = "k8s",
        automations: Annotated[
            bool, typer.Option(help="Create or update the automations (needs RUNLAKE_NOTIFY_BLOCK).")
        ] = True,
        prefect_file: Annotated[
            Optional[Path],
            typer.Option(help="Another prefect.yaml (default deployments/prefect.yaml); entrypoints resolve from the repo root."),
        ] = None,
    ) -> None:
        """Create the work pools, deploy every flow (deployments/prefect.yaml) and the automations."""
        from flows.deploy import deploy as run_deploy

        settings = load_settings()
        with user_errors():
            with console.status(f"deploying to the Prefect API ({scheduled_pool} schedule active)…"):
                report = run_deploy(
                    settings, scheduled_pool=scheduled_pool, with_automations=automations, prefect_file=prefect_file
                )
        out = typer.echo
        out(f"Prefect API: {report.api_url}")
        for name in report.pools_created:
            out(f"work pool {name}: created")
        for name in report.pools_updated:
            out(f"work pool {name}: base job template updated")
        out(f"deployments ({len(report.deployments)}): {', '.join(report.deployments)}")
        out(f"daily schedule active on: {', '.join(report.active_schedules) or 'none'}")
        for line in report.automations:
            out(f"automation {line}")
        for note in report.notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)
