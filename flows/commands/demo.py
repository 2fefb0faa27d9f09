"""`runlake demo`: synthetic training history into an inbox beside the lake, then the pipeline."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import athlete_lease, lake_from, out, load_settings, user_errors
from flows.commands.ingest import print_report, progress_bar
from flows.steps.demo import run_demo


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        years: Annotated[float, typer.Option(help="Years of synthetic training to generate.")] = 2.0,
        seed: Annotated[int, typer.Option(help="Random seed of the synthetic athlete.")] = 7,
    ) -> None:
        """Generate a synthetic elite runner's history and run the whole pipeline on it."""
        settings = load_settings()
        lake = lake_from(settings)
        with user_errors(), athlete_lease(lake, settings.athlete_id, "demo"):
            with progress_bar() as bar:
                task = bar.add_task("generating", total=None)

                def on_progress(stage: str, done: int, total: int | None) -> None:
                    bar.update(task, description=stage, completed=done, total=total)

                result = run_demo(lake, settings, years=years, seed=seed, progress=on_progress)
        print_report(result.ingest)
        for line in result.notes:
            out.print(line, highlight=False)
        out.print(f"lake: {lake.root}", highlight=False)
