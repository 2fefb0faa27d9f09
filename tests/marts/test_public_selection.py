"""Which activities may be published (marts.public.public_activity_ids), by hand-made rows."""

from __future__ import annotations

import datetime as dt

import polars as pl

from lake.privacy_marks import SPEC as PRIVACY_MARKS
from marts.public import public_activity_ids

ROWS = pl.LazyFrame(
    {
        "activity_id": ["fit-a", "fit-b", "strava-7", "fit-c", "fit-d", "fit-e"],
        "strava_id": [None, 42, 7, 55, None, None],
        "fit_sha256": ["aa", "bb", None, "cc", "dd", "ee"],
        "session_index": [0, 0, None, 0, 0, 0],
        "source": ["fit", "fit+strava", "strava", "fit+strava", "fit", "fit"],
        "is_private": [False, False, False, True, False, False],
        "is_deleted": [False, False, False, False, True, None],
    },
    schema_overrides={"strava_id": pl.Int64, "session_index": pl.Int32},
)


NO_MARKS = PRIVACY_MARKS.empty().lazy()


def ids(private=frozenset(), sources=frozenset({"fit"}), marks=NO_MARKS) -> set[str]:
    return set(public_activity_ids(ROWS, private_ids=frozenset(private), public_sources=sources, marks=marks).collect()["activity_id"])


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


def _mark(activity_id: str, is_private: bool, day: int, **identity) -> dict:
    return {"athlete_id": "me", "activity_id": activity_id, "is_private": is_private, "reason": "r",
            "marked_at": dt.datetime(2025, 1, day, tzinfo=dt.UTC), **identity}


def test_a_private_mark_hides_a_run_until_a_later_publication():
    # fit-a's mark hides it; fit-b's mark was made when it was Strava 42 (another id, same run);
    # fit-e's file was marked under an older id, then published (a later decision).
    marks = pl.DataFrame(
        [
            _mark("fit-a", True, 1),
            _mark("strava-42", True, 1, strava_id=42),
            _mark("fit-old", True, 1, fit_sha256="ee", session_index=0),
            _mark("fit-e", False, 2),
        ],
        schema=PRIVACY_MARKS.schema,
    ).lazy()
    assert ids(marks=marks) == {"fit-e"}


def test_listed_in_any_case_or_as_a_strava_url():
    assert ids(private={"FIT-A", "https://www.strava.com/activities/42?share=1"}) == {"fit-e"}
