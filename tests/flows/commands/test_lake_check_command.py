"""`runlake lake check`: a clean lake of three athletes passes; each invariant broken on purpose fails it.

The lake is built once with the CLI (like tests/flows/test_many_athletes.py: `me` and `ann`
public, `bob` private, a file given by two athletes, marts and public layer built) and copied for
each test, which breaks one thing with the lake's own writers or plain `write_deltalake`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from deltalake import write_deltalake
from typer.testing import CliRunner

from flows.cli import app
from lake import activities, athletes, laps, meta, records, registry
from lake import public as public_tables
from lake.marts import DAILY_LOAD, WEEKLY_SUMMARY
from lake.storage import Lake
from lake.table import delete_rows, overwrite, read
from pipeline.lake_check import check_lake
from runlake.settings import Settings
from tests.file_texts import holds

TODAY = "2025-03-31"


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory, fit_folder) -> Path:
    """A clean lake of three athletes (built once per module)."""
    root = tmp_path_factory.mktemp("built")
    files = sorted(fit_folder.rglob("*.[fF][iI][tT]"))
    given = {"me": [*files[:3], files[3]], "ann": [files[3], *files[4:]], "bob": files[4:]}
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith(("RUNLAKE_", "AWS_"))]:
            mp.delenv(name)
        mp.setenv("RUNLAKE_HOME", str(root / "home"))
        mp.setenv("RUNLAKE_LAKE_URI", str(root / "lake"))
        mp.setenv("RUNLAKE_INBOX_URI", str(root / "inbox"))
        for name, chosen in given.items():
            (root / "given" / name).mkdir(parents=True)
            for f in chosen:
                shutil.copy(f, root / "given" / name / f.name)
        cli("athlete", "add", "ann", "--public")
        cli("athlete", "add", "bob")
        cli("ingest", "fit", str(root / "given" / "me"))
        cli("ingest", "fit", str(root / "given" / "ann"), "--athlete", "ann")
        cli("ingest", "fit", str(root / "given" / "bob"), "--athlete", "bob")
        cli("marts", "build", "--today", TODAY)
    return root / "lake"


@pytest.fixture
def lake(built, tmp_path, monkeypatch) -> Lake:
    """A copy of the clean lake, configured as RUNLAKE_LAKE_URI."""
    shutil.copytree(built, tmp_path / "lake")
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path / "lake"))
    return Lake.at(str(tmp_path / "lake"))


def ids(lake: Lake) -> dict[str, str]:
    return dict(read(lake, athletes.SPEC).select("handle", "athlete_id").iter_rows()) | {"me": "me"}


def an_activity(lake: Lake, athlete_id: str = "me") -> dict:
    """The athlete's first running activity that has both records and laps."""
    with_laps = set(read(lake, laps.SPEC)["activity_id"])
    acts = read(lake, activities.SPEC).filter((pl.col("athlete_id") == athlete_id) & pl.col("activity_id").is_in(sorted(with_laps)))
    return acts.sort("activity_id").to_dicts()[0]


def test_a_clean_lake_of_three_athletes_passes(lake):
    output = cli("lake", "check")
    assert output.strip().splitlines()[-1].startswith("lake check: OK (")
    report = check_lake(lake, Settings())
    assert report.ok and not report.warnings
    assert {f.table for f in report.findings if f.invariant == "keys_unique"} == {s.name for s in registry.ALL}
    assert all(f.count == 0 for f in report.findings)
    rows = [line.split() for line in output.splitlines()[1:-1]]
    assert len(rows) == len(report.findings) and all(r[2] == "ok" for r in rows)


# --- one broken invariant per case ---------------------------------------------------------------------


def duplicate_activity(lake: Lake) -> None:
    row = read(lake, activities.SPEC).head(1)
    write_deltalake(activities.SPEC.uri(lake), row.to_arrow(), mode="append")


def drop_records(lake: Lake) -> None:
    delete_rows(lake, records.SPEC, f"activity_id = '{an_activity(lake)['activity_id']}'")


def drop_laps(lake: Lake) -> None:
    delete_rows(lake, laps.SPEC, f"activity_id = '{an_activity(lake, ids(lake)['ann'])['activity_id']}'")


def orphan_laps(lake: Lake) -> None:
    """Laps whose athlete_id is not their activity's owner."""
    row = read(lake, laps.SPEC).filter(pl.col("athlete_id") == "me").head(1).with_columns(athlete_id=pl.lit(ids(lake)["bob"]), lap_index=pl.lit(99, pl.Int32))
    write_deltalake(laps.SPEC.uri(lake), row.to_arrow(), mode="append")


def delete_raw_file(lake: Lake) -> None:
    raw_uri = read(lake, registry.by_name("fit_files")).filter(pl.col("athlete_id") == ids(lake)["bob"])["raw_uri"][0]
    Path(lake.uri(raw_uri)).unlink()


def corrupt_daily(lake: Lake) -> None:
    daily = read(lake, DAILY_LOAD)
    day = daily.filter((pl.col("athlete_id") == "me") & (pl.col("runs") > 0))["date"][0]
    changed = pl.when((pl.col("athlete_id") == "me") & (pl.col("date") == day))
    overwrite(lake, DAILY_LOAD, daily.with_columns(distance_m=changed.then(pl.col("distance_m") + 500.0).otherwise(pl.col("distance_m"))))


def corrupt_weekly(lake: Lake) -> None:
    weekly = read(lake, WEEKLY_SUMMARY)
    overwrite(lake, WEEKLY_SUMMARY, weekly.with_columns(runs=pl.when(pl.col("athlete_id") == ids(lake)["ann"])
                                                        .then(pl.col("runs") + 1).otherwise(pl.col("runs"))))


def private_athlete_in_public(lake: Lake) -> None:
    spec = public_tables.DAILY_LOAD_PUBLIC
    row = read(lake, spec).filter(pl.col("athlete") == "me").head(1).with_columns(athlete=pl.lit("bob"))
    write_deltalake(spec.uri(lake), row.to_arrow(), mode="append")


def athlete_id_column_in_public(lake: Lake) -> None:
    spec = public_tables.WEEKLY_SUMMARY_PUBLIC
    frame = read(lake, spec).with_columns(athlete_id=pl.lit("me"))
    write_deltalake(spec.uri(lake), frame.to_arrow(), mode="overwrite", schema_mode="overwrite")


def private_run_still_public(lake: Lake) -> None:
    cli("activity", "set", an_activity(lake)["activity_id"], "--private")  # no marts build after it


def older_schema_version(lake: Lake) -> None:
    shutil.rmtree(lake.uri(meta.MIGRATIONS.name))  # tables without a version: a lake of version 1


BREAKS: list[tuple[Callable[[Lake], None], str, str]] = [
    (duplicate_activity, "keys_unique", "activities"),
    (drop_records, "records_laps_present", "records"),
    (drop_laps, "records_laps_present", "laps"),
    (orphan_laps, "no_orphans", "laps"),
    (delete_raw_file, "raw_files_present", "fit_files"),
    (corrupt_daily, "marts_daily_sums", "marts/daily_load"),
    (corrupt_weekly, "marts_weekly_sums", "marts/weekly_summary"),
    (private_athlete_in_public, "public_athletes", "public/daily_load"),
    (athlete_id_column_in_public, "public_columns", "public/weekly_summary"),
    (private_run_still_public, "public_activities", "public/activities"),
    (older_schema_version, "schema_version", "_meta/migrations"),
]


@pytest.mark.parametrize(("breaks", "invariant", "table"), BREAKS, ids=[b[0].__name__ for b in BREAKS])
def test_each_broken_invariant_fails_the_check_by_name(lake, breaks, invariant, table):
    breaks(lake)
    output = cli("lake", "check", code=1)
    failing = {tuple(line.split()[:2]) for line in output.splitlines() if " VIOLATION " in line}
    assert (invariant, table) in failing, output
    assert output.strip().splitlines()[-1].startswith("lake check: ") and f"{invariant} {table}" in output.splitlines()[-1]


def test_findings_name_keys_not_private_values(lake):
    private_athlete_in_public(lake)
    drop_records(lake)
    output = cli("lake", "check", code=1)
    assert f"rows of private athlete_id={ids(lake)['bob']}" in output and "bob" not in output.replace(ids(lake)["bob"], "")
    assert f"activity_id={an_activity(lake)['activity_id']}" in output


def test_a_stray_raw_file_is_a_warning_only(lake):
    stray = Path(lake.uri("raw/fit/ab/" + "ab" * 32 + ".fit"))
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"not referenced")
    output = cli("lake", "check")
    assert "raw_files_referenced  raw/fit" in output and " warning " in output
    assert "lake check: OK (" in output and "1 warning(s)" in output


def test_a_run_made_private_passes_again_once_the_public_layer_is_rebuilt(lake):
    private_run_still_public(lake)
    cli("lake", "check", code=1)
    cli("marts", "build", "--today", TODAY)
    cli("lake", "check")


def test_athlete_limits_the_per_athlete_checks(lake):
    drop_records(lake)  # me's
    assert not check_lake(lake, Settings(), athlete=None).ok
    report = check_lake(lake, Settings(), athlete="ann")
    assert report.ok and "raw_files_referenced" not in {f.invariant for f in report.findings}
    cli("lake", "check", "--athlete", "me", code=1)


# --- the daily flow runs the check ----------------------------------------------------------------------


def run_daily_parent(monkeypatch, lake: Lake, failing: str | None = None) -> dict:
    """`daily` with every athlete's run (but `failing`'s) completed, scripted, and no maintenance; the
    `lake-check` step runs its real flow function, its exception becoming the step's Failed state
    as `flows.daily_steps.run_step` makes it."""
    from prefect.logging import disable_run_logger
    from prefect.states import Completed, Failed

    import flows.daily as daily_mod
    from flows.daily_fanout import ChildResult
    from flows.daily_steps import load_step_flow, step_parameters

    def children(athletes, overrides):
        return [ChildResult(a.handle, a.athlete_id, f"daily-athlete-{a.athlete_id}", a.handle != failing,
                            "build-marts (boom)" if a.handle == failing else "") for a in athletes]

    def run_step(step, overrides):
        flow = load_step_flow(step)
        try:
            flow.fn(**step_parameters(step, flow, overrides))
        except Exception as exc:  # noqa: BLE001 - what Prefect records as the task's Failed state
            return Failed(message=f"{type(exc).__name__}: {exc}")
        return Completed()

    monkeypatch.setattr(daily_mod, "run_children", children)
    monkeypatch.setattr(daily_mod, "run_step", run_step)
    with disable_run_logger():
        return daily_mod.daily.fn(lake_uri=lake.root, maintain=False)


def test_daily_fails_visibly_when_the_check_fails_and_keeps_the_athletes_results(lake, monkeypatch):
    from flows.daily import AthletesFailed, DailyFailed

    assert run_daily_parent(monkeypatch, lake)["lake-check"] == "completed"
    duplicate_activity(lake)
    with pytest.raises(DailyFailed, match=r"^lake-check failed: LakeCheckFailed: lake check: 2 violations \(keys_unique activities, "):
        run_daily_parent(monkeypatch, lake)
    with pytest.raises(AthletesFailed) as failed:  # an athlete's failure is not hidden by the check's
        run_daily_parent(monkeypatch, lake, failing="ann")
    assert str(failed.value).startswith("1 of 3 athletes failed: ") and "; lake-check failed: LakeCheckFailed: lake check: 2 violations" in str(failed.value)


# --- what leaves the public layer leaves its history too ----------------------------------------------


def test_a_run_made_private_is_in_no_file_of_the_public_layer_after_the_build(lake):
    from lake.public_id_key import read_public_id_key
    from marts.public import public_id

    activity_id = an_activity(lake)["activity_id"]
    hidden = public_id(read_public_id_key(lake), activity_id)
    public_files = [p for p in Path(lake.uri("public")).rglob("*") if p.is_file()]
    assert any(holds(p, hidden) for p in public_files)  # published (data and log) before
    cli("activity", "set", activity_id, "--private")
    cli("marts", "build", "--today", TODAY)
    public_files = [p for p in Path(lake.uri("public")).rglob("*") if p.is_file()]
    assert public_files and not [str(p) for p in public_files if holds(p, hidden)]
    assert not [p for p in public_files if holds(p, activity_id)]
    cli("lake", "check")
