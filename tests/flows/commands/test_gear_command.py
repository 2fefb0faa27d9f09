"""`runlake gear add|retire|list`, the marts build writing `marts/gear_distance`, and export and
erasure reaching `private/gear` and the mart."""

from __future__ import annotations

import datetime as dt
import zipfile

import polars as pl
from typer.testing import CliRunner

from flows.cli import app
from lake import activities as A
from lake import gear as gear_table
from lake.marts import GEAR_DISTANCE
from lake.table import read, upsert
from pipeline.athletes import resolve_athlete
from runlake.settings import Settings
from tests.marts.factory import activities_frame, activity


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def _added(*args: str) -> str:
    result = run("gear", "add", *args)
    assert result.exit_code == 0, result.output
    return result.stdout.split()[1]  # "gear m-xxxxxxxx (name) added …"


def test_add_list_retire_and_the_mart(lake):
    shoe = _added("Daily Trainer", "--brand", "Asics", "--retire-km", "600", "--default", "--from", "2025-03-01")
    assert shoe.startswith("m-") and len(shoe) == 10
    racer = _added("Racer")
    acts = [
        activity("before", dt.datetime(2025, 2, 20, 7), distance_m=9000.0),  # before --from: no gear
        activity("r1", dt.datetime(2025, 3, 2, 7), distance_m=10000.0),
        activity("r2", dt.datetime(2025, 3, 4, 7), distance_m=12345.0),
        activity("race", dt.datetime(2025, 3, 9, 7), distance_m=21097.5, gear_id="racer"),  # an archive's gear name
    ]
    upsert(lake, A.SPEC, activities_frame(acts))
    listing = run("gear", "list")
    assert listing.exit_code == 0, listing.output
    assert f"{shoe}  Daily Trainer  22.3 km of 600  2 runs  2025-03-02 to 2025-03-04  manual  default  in use" in listing.stdout
    assert f"{racer}  Racer  21.1 km of 800  1 runs" in listing.stdout

    assert run("marts", "build", "--today", "2025-03-10").exit_code == 0
    mart = {r["gear_id"]: r for r in read(lake, GEAR_DISTANCE).iter_rows(named=True)}
    assert mart[shoe]["distance_m"] == 10000.0 + 12345.0 and mart[shoe]["brand"] == "Asics"
    assert mart[racer]["distance_m"] == 21097.5 and mart[racer]["retire_km"] == 800.0

    result = run("gear", "retire", racer)
    assert result.exit_code == 0 and "retired" in result.stdout
    assert run("marts", "build", "--today", "2025-03-10").exit_code == 0
    row = read(lake, GEAR_DISTANCE).filter(pl.col("gear_id") == racer).row(0, named=True)
    assert row["retired"] and row["distance_m"] == 21097.5
    assert f"{racer}  Racer  21.1 km of 800  1 runs  2025-03-09 to 2025-03-09  manual  retired" in run("gear", "list").stdout


def test_gear_list_counts_a_corrected_distance_as_the_mart_does(lake):
    """`runlake gear list` reads the activities as the marts build does: corrections applied."""
    shoe = _added("Trainer", "--default")
    upsert(lake, A.SPEC, activities_frame([
        activity("r1", dt.datetime(2025, 3, 2, 7), distance_m=10000.0),
        activity("treadmill", dt.datetime(2025, 3, 4, 7), distance_m=5000.0),
    ]))
    assert run("activity", "set", "treadmill", "--distance-km", "5.25").exit_code == 0
    assert f"{shoe}  Trainer  15.2 km of 800  2 runs" in run("gear", "list").stdout
    assert run("marts", "build", "--today", "2025-03-10").exit_code == 0
    assert read(lake, GEAR_DISTANCE).filter(pl.col("gear_id") == shoe)["distance_m"].item() == 15250.0


def test_one_line_errors(lake):
    shoe = _added("Shoe")
    for args, message in [
        (("gear", "add", "shoe"), "already called"),
        (("gear", "add", "X", "--retire-km", "-5"), "--retire-km"),
        (("gear", "add", "X", "--from", "2025-01-01"), "--from only applies with --default"),
        (("gear", "retire", "m-nothere"), "no gear 'm-nothere'"),
    ]:
        result = run(*args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert run("gear", "retire", shoe).exit_code == 0
    again = run("gear", "retire", shoe)
    assert again.exit_code == 1 and "already retired" in again.output
    assert run("gear", "add", "Shoe").exit_code == 0  # the name is free again once retired
    bad = run("gear", "add", "Y", "--default", "--from", "March")
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_gear_is_per_athlete_and_exported_and_erased_with_it(lake, tmp_path):
    from pipeline.steps.athlete_data import erase_athlete, export_athlete, export_file_name

    assert run("athlete", "add", "bo").exit_code == 0
    mine = _added("Mine")
    theirs = _added("Theirs", "--athlete", "bo")
    settings = Settings()
    bo = resolve_athlete(lake, settings, "bo").athlete_id
    upsert(lake, A.SPEC, activities_frame([activity("b1", dt.datetime(2025, 3, 2, 7), gear_id=theirs, athlete_id=bo)]))
    assert run("marts", "build", "--today", "2025-03-10").exit_code == 0
    assert theirs not in run("gear", "list").stdout and mine in run("gear", "list").stdout
    assert read(lake, GEAR_DISTANCE).filter(pl.col("gear_id") == theirs)["athlete_id"].to_list() == [bo]

    export_athlete(lake, settings, "bo", tmp_path / "bo.zip")
    with zipfile.ZipFile(tmp_path / "bo.zip") as zf:
        assert {export_file_name(gear_table.SPEC), export_file_name(GEAR_DISTANCE)} <= set(zf.namelist())
    erase_athlete(lake, settings, "bo")
    assert read(lake, gear_table.SPEC)["gear_id"].to_list() == [mine]
    assert bo not in read(lake, GEAR_DISTANCE)["athlete_id"].to_list()
    assert read(lake, GEAR_DISTANCE).height == 1
