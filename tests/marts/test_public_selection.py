"""Which activities may be published (marts.public.public_activity_ids), by hand-made rows."""

from __future__ import annotations

import polars as pl

from marts.public import public_activity_ids

ROWS = pl.LazyFrame(
    {
        "activity_id": ["fit-a", "fit-b", "strava-7", "fit-c", "fit-d", "fit-e"],
        "strava_id": [None, 42, 7, 55, None, None],
        "source": ["fit", "fit+strava", "strava", "fit+strava", "fit", "fit"],
        "is_private": [False, False, False, True, False, False],
        "is_deleted": [False, False, False, False, True, None],
    },
    schema_overrides={"strava_id": pl.Int64},
)


def ids(private=frozenset(), sources=frozenset({"fit"})) -> set[str]:
    return set(public_activity_ids(ROWS, private_ids=frozenset(private), public_sources=sources).collect()["activity_id"])


def test_default_publishes_fit_and_merged_runs_only():
    # strava-only (Strava terms), Strava-private and deleted rows are hidden; a null flag is not.
    assert ids() == {"fit-a", "fit-b", "fit-e"}


def test_strava_only_rows_need_strava_in_public_sources():
    assert "strava-7" in ids(sources=frozenset({"fit", "strava"}))


def test_a_private_listing_by_the_old_strava_id_still_hides_the_merged_run():
    # fit-b was Strava activity 42 (`strava-42`) before its watch file arrived.
    assert "fit-b" not in ids(private={"strava-42"})
    assert "fit-b" not in ids(private={"42"})
    assert "fit-a" not in ids(private={"fit-a"})
