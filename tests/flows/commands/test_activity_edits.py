"""`runlake activity merge A B` and `runlake activity split ID --at TIME` through the real CLI:
applied by every marts build, an incremental build equal to a full one, surviving `lake rebuild`
and `marts build --full`, a private recording keeping a merged run off the public layer, a part
corrected on its own, undone by `--clear-corrections`, one-line errors."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app as cli
from lake import activities, activity_edits, records
from lake import marts as mart_tables
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read, upsert
from marts.public import public_id
from pipeline.checks.marts import marts_daily_sums
from pipeline.steps.build_public import public_id_key
from runlake.settings import Settings
from sources.fit.synthetic import write_run

T0 = dt.datetime(2025, 4, 7, 5, 30, tzinfo=dt.UTC)
MARTS = (mart_tables.ACTIVITY_SUMMARY, mart_tables.BEST_EFFORTS, mart_tables.DAILY_LOAD, mart_tables.WEEKLY_SUMMARY,
         mart_tables.PERSONAL_BESTS)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """Four watch files ingested and built once per module (each test works on a copy)."""
    root = tmp_path_factory.mktemp("built")
    watch = root / "watch"
    write_run(watch / "first.fit", T0, 5000, seed=1)
    write_run(watch / "restarted.fit", T0 + dt.timedelta(minutes=25), 3000, seed=2)  # the same run, watch restarted
    write_run(watch / "long.fit", T0 + dt.timedelta(days=2), 8000, seed=3)  # a warm-up and a race in one file
    write_run(watch / "other.fit", T0 + dt.timedelta(days=4), 4000, seed=4)
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith(("RUNLAKE_", "AWS_"))]:
            mp.delenv(name)
        configure(mp, root)
        ok(["ingest", "fit", str(watch)])
        ok(["marts", "build"])
    return root


def configure(mp: pytest.MonkeyPatch, root: Path) -> None:
    mp.setenv("RUNLAKE_HOME", str(root / "home"))
    mp.setenv("RUNLAKE_LAKE_URI", str(root / "lake"))
    mp.setenv("RUNLAKE_TIMEZONE", "UTC")


@pytest.fixture
def home(built: Path, tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(built / "lake", tmp_path / "lake")
    configure(monkeypatch, tmp_path)
    return tmp_path


def ok(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result.output


def lake_of(home: Path) -> Lake:
    return Lake.at(str(home / "lake"))


def ids(home: Path) -> list[str]:
    return read(lake_of(home), activities.SPEC).sort("start_time")["activity_id"].to_list()


def summaries(home: Path) -> dict[str, dict]:
    return {r["activity_id"]: r for r in read(lake_of(home), mart_tables.ACTIVITY_SUMMARY).to_dicts()}


def tables(home: Path) -> dict[str, pl.DataFrame]:
    lake = lake_of(home)
    out = {}
    for spec in (*MARTS, *public_tables.ALL):
        frame = read(lake, spec)
        out[spec.name] = frame.sort(frame.columns)
    return out


def differing(left: dict[str, pl.DataFrame], right: dict[str, pl.DataFrame]) -> list[str]:
    return [name for name in left if not left[name].equals(right[name])]


def test_merge_and_split_apply_everywhere_and_survive_rebuild_and_full_build(home):
    first, restarted, long, other = ids(home)
    before = summaries(home)
    ok(["activity", "merge", first, restarted])
    output = ok(["activity", "split", long, "--at", "05:46:00"])  # the activity's local time (UTC here)
    part = read(lake_of(home), activity_edits.SPEC).filter(pl.col("role") == "at")["edit_id"].item()
    assert part in output
    ok(["marts", "build"])

    now = summaries(home)
    assert set(now) == {first, long, part, other}  # the restarted recording is part of the first
    assert now[first]["distance_m"] == pytest.approx(before[first]["distance_m"] + before[restarted]["distance_m"])
    assert now[first]["elapsed_s"] == before[first]["elapsed_s"] + before[restarted]["elapsed_s"]
    assert now[first]["corrected_fields"] == "merged"
    assert now[part]["start_time"] == T0 + dt.timedelta(days=2, minutes=16)
    assert now[long]["elapsed_s"] + now[part]["elapsed_s"] == pytest.approx(before[long]["elapsed_s"] - 1.0)  # one sample step
    assert now[long]["distance_m"] + now[part]["distance_m"] == pytest.approx(before[long]["distance_m"], abs=10.0)
    assert now[long]["corrected_fields"] == now[part]["corrected_fields"] == "split"
    assert now[other] == before[other]  # untouched
    day = read(lake_of(home), mart_tables.DAILY_LOAD).filter(pl.col("date") == T0.date()).to_dicts()[0]
    assert day["activities"] == 1 and day["distance_m"] == pytest.approx(now[first]["distance_m"])
    assert marts_daily_sums(lake_of(home), {read(lake_of(home), activities.SPEC)["athlete_id"][0]}).ok
    ok(["lake", "check"])  # every check, the edits' table included

    # The public layer: the merged run once, the part as an activity of its own.
    key = public_id_key(lake_of(home), Settings())
    published = set(read(lake_of(home), public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])
    assert published == {public_id(key, a) for a in (first, long, part, other)}
    samples = read(lake_of(home), public_tables.SAMPLES_PUBLIC)
    assert samples.filter(pl.col("public_activity_id") == public_id(key, restarted)).is_empty()

    incremental = tables(home)
    ok(["marts", "build", "--full"])
    assert differing(tables(home), incremental) == []  # an incremental build equals a full one
    ok(["lake", "rebuild"])
    ok(["marts", "build", "--full"])
    assert differing(tables(home), incremental) == []  # the edits survive a rebuild from the raw files


def test_a_private_recording_keeps_the_merged_run_off_the_public_layer(home):
    first, restarted, _, _ = ids(home)
    ok(["activity", "set", restarted, "--private"])
    ok(["activity", "merge", first, restarted])
    ok(["marts", "build"])
    key = public_id_key(lake_of(home), Settings())
    published = set(read(lake_of(home), public_tables.ACTIVITIES_PUBLIC)["public_activity_id"])
    assert public_id(key, first) not in published and public_id(key, restarted) not in published
    assert first in summaries(home)  # still in the athlete's own marts


def test_a_part_is_corrected_on_its_own_and_clearing_undoes_the_split(home):
    _, _, long, _ = ids(home)
    ok(["activity", "split", long, "--at", "+16:00"])  # 16 minutes in: 05:46 UTC
    part = read(lake_of(home), activity_edits.SPEC)["edit_id"].item()
    ok(["activity", "set", part, "--race"])
    ok(["marts", "build"])
    now = summaries(home)
    assert now[part]["session_type"] == "race" and now[part]["corrected_fields"] == "race,split"
    assert now[long]["session_type"] != "race"
    ok(["activity", "set", long, "--clear-corrections"])
    assert read(lake_of(home), activity_edits.SPEC).is_empty()
    ok(["marts", "build"])
    assert part not in summaries(home) and summaries(home)[long]["corrected_fields"] is None


def test_edits_that_make_no_sense_fail_with_one_line_and_write_nothing(home):
    first, restarted, long, _ = ids(home)
    cases = [
        (["activity", "merge", first, first], "are the same activity"),
        (["activity", "merge", first, "strava-4242"], "no activity matches 'strava-4242'"),
        (["activity", "split", long, "--at", "04:00:00"], "is not inside activity"),
        (["activity", "split", long, "--at", "half past"], "--at 'half past'"),
        (["activity", "split", long, "--at", "+2:00:00"], "is not inside activity"),  # the run lasts 32 minutes
        (["activity", "split", long, "--at", "+ten"], "after '+' give the time into the activity"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert read(lake_of(home), activity_edits.SPEC).is_empty()
    ok(["activity", "merge", first, restarted])
    result = CliRunner().invoke(cli, ["activity", "merge", restarted, long])
    assert result.exit_code == 1 and f"{restarted} is already merged into {first}: merge with that one" in result.output
    result = CliRunner().invoke(cli, ["activity", "merge", long, first])
    assert result.exit_code == 1 and f"{first} has activities merged into it" in result.output
    assert read(lake_of(home), activity_edits.SPEC).height == 2  # the one merge
    _, _, _, other = ids(home)
    gone = read(lake_of(home), activities.SPEC).filter(pl.col("activity_id") == other).with_columns(is_deleted=pl.lit(True))
    upsert(lake_of(home), activities.SPEC, gone)  # deleted on Strava
    result = CliRunner().invoke(cli, ["activity", "split", other, "--at", "+5:00"])
    assert result.exit_code == 1 and f"activity {other} was deleted" in result.output


def test_the_api_detail_of_a_part_and_a_merged_run_shows_their_samples_as_edited(home):
    from api.streams import ActivityStreams

    first, restarted, long, _ = ids(home)
    ok(["activity", "merge", first, restarted])
    ok(["activity", "split", long, "--at", "2025-04-09T07:46:00+02:00"])  # 05:46 UTC
    part = read(lake_of(home), activity_edits.SPEC).filter(pl.col("role") == "at")["edit_id"].item()
    lake = lake_of(home)
    athlete_id = read(lake, activities.SPEC)["athlete_id"][0]
    streams = ActivityStreams(lake)

    def detail(activity_id: str) -> dict:
        return json.loads(b"{" + streams.laps_and_samples(athlete_id, activity_id, 2025, (1,)) + b"}")

    raw = {a: read(lake, records.SPEC).filter(pl.col("activity_id") == a).height for a in (first, restarted, long)}
    merged, second, rest = detail(first), detail(part), detail(long)
    assert len(merged["samples"]) == raw[first] + raw[restarted]
    assert [s["seq"] for s in merged["samples"]] == list(range(len(merged["samples"])))
    assert len(second["samples"]) + len(rest["samples"]) == raw[long]
    assert second["samples"][0]["timestamp"].startswith("2025-04-09T05:46:00") and second["samples"][0]["distance_m"] == 0.0
    assert second["samples"][0]["elapsed_s"] == 0.0
