"""Privacy is sticky: a run private on Strava, or hidden by RUNLAKE_PRIVATE_ACTIVITIES, stays out
of every public table after it is merged with its watch file, deleted on Strava and the lake
rebuilt — until the athlete publishes it (`pipeline.steps.visibility.set_visibility`).

Real watch files (synthetic FIT generator) through the real ingest, Strava through the real sync
against the fake server, the real marts build (which ends with the public layer).
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.steps.build_marts import build_marts
from pipeline.steps.build_public import public_id_key
from pipeline.steps.ingest_fit import ingest_fit_files, resolve_inputs
from pipeline.steps.rebuild import rebuild_from_raw
from pipeline.steps.visibility import set_visibility
from lake import activities, privacy_marks
from lake import public as public_tables
from lake.storage import Lake
from lake.table import read, table_exists
from marts.public import public_id
from runlake.errors import RunlakeError
from sources.fit.synthetic import write_run
from pipeline.strava_sync import sync_strava
from tests.sources.strava.conftest import no_sleep
from tests.sources.strava.fake_data import make_run

T0 = datetime(2025, 4, 7, 5, 30, tzinfo=UTC)
TODAY = dt.date(2025, 4, 20)


@pytest.fixture(scope="module")
def watch_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("watch")
    write_run(root / "secret.fit", T0, 5000, seed=1)  # private on Strava (601)
    write_run(root / "listed.fit", T0 + timedelta(days=1), 4000, seed=2)  # hidden by strava-602
    write_run(root / "plain.fit", T0 + timedelta(days=2), 3000, seed=3)  # never on Strava: public
    return root


def ingest(lake: Lake, settings, folder: Path) -> None:
    items, options = resolve_inputs(settings, [str(folder)])
    ingest_fit_files(lake, settings, items, read_options=options, workers=1)


def published_ids(lake: Lake, settings) -> dict[str, set[str]]:
    """Private activity ids behind every public table's ids (the key maps them back)."""
    key = public_id_key(lake, settings)
    back = {public_id(key, a): a for a in read(lake, activities.SPEC)["activity_id"]}
    out = {}
    for spec in public_tables.ALL:
        frame = read(lake, spec)
        column = "public_activity_id" if "public_activity_id" in frame.columns else "basis_public_activity_id"
        if column in frame.columns:
            out[spec.name] = {back[p] for p in frame[column].drop_nulls()}
    return out


def public_runs(lake: Lake, settings) -> set[str]:
    seen = published_ids(lake, settings)
    assert seen[public_tables.ACTIVITIES_PUBLIC.name], "the public build published nothing at all"
    return set().union(*seen.values())


def test_private_and_listed_runs_stay_hidden_after_merge_deletion_and_rebuild(make_fake, settings_for, watch_files):
    fake = make_fake(0)
    secret = make_run(601, T0 + timedelta(seconds=20), external_id="secret.fit", duration_s=300)
    secret.private = True
    fake.add(secret)
    fake.add(make_run(602, T0 + timedelta(days=1, seconds=20), external_id="listed.fit", duration_s=300))
    settings = settings_for(fake, fake.issue_refresh_token(), private_activities=" Strava-602 ")
    lake = Lake.at(settings.lake)

    sync_strava(lake, settings, sleep=no_sleep)  # Strava first…
    ingest(lake, settings, watch_files)  # …then the watch files: two merged runs
    rows = read(lake, activities.SPEC)
    by_strava = {r["strava_id"]: r["activity_id"] for r in rows.filter(pl.col("strava_id").is_not_null()).to_dicts()}
    secret_id, listed_id = by_strava[601], by_strava[602]
    plain_id = rows.filter(pl.col("strava_id").is_null())["activity_id"].item()
    assert secret_id.startswith("fit-") and listed_id.startswith("fit-")

    fake.delete(601)  # deleted on Strava before any public build saw the merged rows
    fake.delete(602)
    assert sync_strava(lake, settings, sleep=no_sleep).deleted == 2
    stripped = read(lake, activities.SPEC).filter(pl.col("activity_id").is_in([secret_id, listed_id]))
    assert stripped["strava_id"].null_count() == 2 and not stripped["is_private"].any()  # the row forgot…

    build_marts(lake, settings, today=TODAY)
    assert public_runs(lake, settings) == {plain_id}  # …the marks did not
    marks = read(lake, privacy_marks.SPEC).filter(pl.col("activity_id").is_in([secret_id, listed_id]))
    assert dict(zip(marks["activity_id"], marks["strava_id"])) == {secret_id: 601, listed_id: 602}
    assert set(marks["athlete_id"]) == {settings.athlete_id} and marks["is_private"].all()

    rebuild_from_raw(lake, settings, workers=1)
    build_marts(lake, settings, full=True, today=TODAY)
    assert public_runs(lake, settings) == {plain_id}

    # Publishing: refused while the list still names it, then the athlete's decision wins.
    with pytest.raises(RunlakeError, match="listed in RUNLAKE_PRIVATE_ACTIVITIES as 'Strava-602'"):
        set_visibility(lake, settings, "https://www.strava.com/activities/602", private=False)
    unlisted = settings.model_copy(update={"private_activities": ""})
    assert set_visibility(lake, unlisted, "https://www.strava.com/activities/602/", private=False).activity_id == listed_id
    assert set_visibility(lake, unlisted, "601", private=False).activity_id == secret_id  # found through its mark
    build_marts(lake, unlisted, today=TODAY)
    assert public_runs(lake, unlisted) == {plain_id, secret_id, listed_id}

    # …and can be taken back: private again, for good.
    set_visibility(lake, unlisted, secret_id.upper(), private=True)
    build_marts(lake, unlisted, today=TODAY)
    assert public_runs(lake, unlisted) == {plain_id, listed_id}


def test_unmatched_entry_fails_the_public_build_naming_it_and_writes_nothing(make_fake, settings_for, watch_files):
    fake = make_fake(0)
    settings = settings_for(fake, fake.issue_refresh_token(), private_activities="strava-999, https://www.strava.com/activities/12")
    lake = Lake.at(settings.lake)
    ingest(lake, settings, watch_files)
    with pytest.raises(RunlakeError, match=r"^RUNLAKE_PRIVATE_ACTIVITIES: 'https://www.strava.com/activities/12', 'strava-999' match no activity"):
        build_marts(lake, settings, today=TODAY)
    assert not any(table_exists(lake, spec) for spec in public_tables.ALL)
    assert not table_exists(lake, privacy_marks.SPEC)
