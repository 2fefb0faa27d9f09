"""Adversarial review of `runlake activity merge|split` through the real CLI (fixtures of
test_activity_edits: four watch files ingested and built once)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from typer.testing import CliRunner

from flows.cli import app as cli
from lake import activities, activity_edits, records
from lake.table import in_predicate, read, replace_where, upsert
from tests.flows.commands import test_activity_edits as base
from tests.flows.commands.test_activity_edits import differing, ids, lake_of, ok, tables

built, home = base.built, base.home  # the module's fixtures


def test_an_incremental_build_follows_a_merged_recordings_new_samples(home):
    """A merged recording re-synced (new heart rate, its row's `updated_at` moved) changes the
    merged run: the next incremental build must equal a full one."""
    first, restarted, _, _ = ids(home)
    ok(["activity", "merge", first, restarted])
    ok(["marts", "build"])
    lake = lake_of(home)
    theirs = in_predicate("activity_id", [restarted])
    resynced = read(lake, records.SPEC).filter(pl.col("activity_id") == restarted).with_columns(hr_bpm=pl.col("hr_bpm") + 30)
    replace_where(lake, records.SPEC, resynced, theirs)
    row = read(lake, activities.SPEC).filter(pl.col("activity_id") == restarted)
    upsert(lake, activities.SPEC, row.with_columns(updated_at=pl.lit(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))))
    ok(["marts", "build"])
    incremental = tables(home)
    ok(["marts", "build", "--full"])
    assert differing(tables(home), incremental) == []


def test_a_split_part_can_be_made_private(home):
    """A part is an activity of its own (corrected under its own id); keeping only the race part
    of a run off the public layer is what `--private` is for."""
    _, _, long, _ = ids(home)
    ok(["activity", "split", long, "--at", "+16:00"])
    part = read(lake_of(home), activity_edits.SPEC)["edit_id"].item()
    result = CliRunner().invoke(cli, ["activity", "set", part, "--private"])
    assert result.exit_code == 0, result.output
    ok(["marts", "build"])
    published = published_ids(home)
    assert public_id_of(home, part) not in published and public_id_of(home, long) in published  # only the part is hidden
    ok(["lake", "check"])
    ok(["activity", "set", part, "--public"])  # its own later decision publishes it again
    ok(["marts", "build"])
    assert public_id_of(home, part) in published_ids(home)


def published_ids(home) -> set[str]:
    from lake import public as public_tables

    return set(read(lake_of(home), public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])


def public_id_of(home, activity_id: str) -> str:
    from marts.public import public_id
    from pipeline.steps.build_public import public_id_key
    from runlake.settings import Settings

    return public_id(public_id_key(lake_of(home), Settings()), activity_id)


def test_split_time_into_a_merged_run_counts_from_the_merged_runs_start(home):
    """The merged run starts with its earlier recording (docs: "+25:00" is the time into the
    activity), so `+30:00` into a run that starts 05:30 is 06:00."""
    first, restarted, _, _ = ids(home)  # 05:30 and 05:55 UTC
    ok(["activity", "merge", restarted, first])  # the later recording stays: the run starts at 05:30
    result = CliRunner().invoke(cli, ["activity", "split", restarted, "--at", "+30:00"])
    assert result.exit_code == 0, result.output
    assert "split at 2025-04-07T06:00:00Z" in result.output


def test_a_part_named_in_the_private_list_is_hidden_and_a_private_activity_keeps_its_parts_hidden(home, monkeypatch):
    _, _, long, _ = ids(home)
    ok(["activity", "split", long, "--at", "+16:00"])
    part = read(lake_of(home), activity_edits.SPEC)["edit_id"].item()
    monkeypatch.setenv("RUNLAKE_PRIVATE_ACTIVITIES", part.upper())  # any case, as for other ids
    ok(["marts", "build"])  # the entry names something: no "matches no activity"
    assert public_id_of(home, part) not in published_ids(home) and public_id_of(home, long) in published_ids(home)
    monkeypatch.delenv("RUNLAKE_PRIVATE_ACTIVITIES")
    ok(["activity", "set", long, "--private"])
    ok(["activity", "set", part, "--public"])  # later, but a part cannot publish more than its activity
    ok(["marts", "build"])
    assert not {public_id_of(home, part), public_id_of(home, long)} & published_ids(home)
    ok(["lake", "check"])
