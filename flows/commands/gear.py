"""`runlake gear add|retire|list`: the athlete's shoes (pipeline/gear.py, docs/product.md "Gear").

Strava gear arrives with `runlake strava sync`; an archive's gear names are matched to it by the
marts. `add --default [--from DATE]` makes a manual shoe the one worn on runs that name no gear.
Distances change in `marts/gear_distance` at the next `runlake marts build`; `list` computes them
from the lake now.
"""

from __future__ import annotations

import datetime as dt

import typer

from flows.commands.common import athlete_context, athlete_lease, athlete_option, console, user_errors
from marts.gear import DEFAULT_RETIRE_KM
from pipeline import gear

app = typer.Typer(no_args_is_help=True, help="Shoes and other gear: add, retire, list with distance.")


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value} is not a date (YYYY-MM-DD)", param_hint="--from") from None


@app.command("add")
def add(
    name: str = typer.Argument(..., help="The gear's name (as on Strava, to match an archive's gear names)."),
    brand: str = typer.Option(None, "--brand"),
    model: str = typer.Option(None, "--model"),
    retire_km: float = typer.Option(None, "--retire-km", help=f"Retirement threshold in km (default {DEFAULT_RETIRE_KM:.0f})."),
    default: bool = typer.Option(False, "--default", help="Worn on runs that name no gear."),
    start: str = typer.Option(None, "--from", help="With --default: from this local date on (YYYY-MM-DD); default every run."),
    handle: str = athlete_option(),
) -> None:
    """Add a shoe to your list; prints its id."""
    lake, athlete = athlete_context(handle)
    default_from = _date(start)
    with user_errors(), athlete_lease(lake, athlete.athlete_id, "gear add"):
        row = gear.add_gear(lake, athlete.athlete_id, name=name, brand=brand, model=model, retire_km=retire_km,
                            default=default, default_from=default_from, now=dt.datetime.now(dt.UTC))
    worn = f", default from {default_from or 'the first run'}" if default else ""
    print(f"gear {row['gear_id']} ({row['name']}) added for {athlete.handle}{worn}; `runlake marts build` updates its distance")


@app.command("retire")
def retire(gear_id: str = typer.Argument(..., help="The gear's id (see `runlake gear list`)."), handle: str = athlete_option()) -> None:
    """Retire a shoe: it stays listed with its distance, no longer worn by default."""
    lake, athlete = athlete_context(handle)
    with user_errors(), athlete_lease(lake, athlete.athlete_id, "gear retire"):
        row = gear.retire_gear(lake, athlete.athlete_id, gear_id, now=dt.datetime.now(dt.UTC))
    print(f"gear {row['gear_id']} ({row['name']}) of {athlete.handle} retired")


@app.command("list")
def list_command(handle: str = athlete_option()) -> None:
    """One line per gear: id, name, km, runs, first/last use, state."""
    lake, athlete = athlete_context(handle)
    with user_errors():
        rows = gear.gear_report(lake, athlete.athlete_id)
    if rows.is_empty():
        console.print(f"{athlete.handle} has no gear", highlight=False)
    for r in rows.iter_rows(named=True):
        state = "retired" if r["retired"] else ("over threshold" if r["over_threshold"] else "in use")
        used = f"{r['first_used']} to {r['last_used']}" if r["first_used"] else "never used"
        print(f"{r['gear_id']}  {r['name']}  {r['distance_km']:.1f} km of {r['retire_km']:.0f}  {r['runs']} runs  "
              f"{used}  {r['source']}{'  default' if r['is_default'] else ''}  {state}")
