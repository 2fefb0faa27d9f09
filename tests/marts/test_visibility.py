"""Privacy marks and RUNLAKE_PRIVATE_ACTIVITIES entries (marts.visibility), on hand-made rows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lake.privacy_marks import SPEC as MARKS
from marts.visibility import (
    ActivityRef,
    mark_decisions,
    marks_to_record,
    matched_activities,
    parse_activity_ref,
    parse_private_entries,
    unmatched_entries,
)

T1 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
T2 = dt.datetime(2025, 3, 2, tzinfo=dt.UTC)
NOW = dt.datetime(2025, 3, 9, tzinfo=dt.UTC)


def activities(*rows: dict) -> pl.LazyFrame:
    base = {"activity_id": None, "strava_id": None, "fit_sha256": None, "session_index": None, "is_private": False}
    return pl.LazyFrame(
        [{**base, **r} for r in rows],
        schema={"activity_id": pl.String, "strava_id": pl.Int64, "fit_sha256": pl.String, "session_index": pl.Int32, "is_private": pl.Boolean},
    )


def marks(*rows: dict) -> pl.LazyFrame:
    base = {"athlete_id": "me", "strava_id": None, "fit_sha256": None, "session_index": None, "reason": "strava_private"}
    return pl.DataFrame([{**base, **r} for r in rows], schema=MARKS.schema).lazy() if rows else MARKS.empty().lazy()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fit-ab12", ActivityRef("fit-ab12", activity_id="fit-ab12")),
        ("  FIT-AB12 ", ActivityRef("FIT-AB12", activity_id="fit-ab12")),
        ("strava-42", ActivityRef("strava-42", strava_id=42)),
        ("Strava-42", ActivityRef("Strava-42", strava_id=42)),
        ("42", ActivityRef("42", activity_id="42", strava_id=42)),
        ("https://www.strava.com/activities/1234567890", ActivityRef("https://www.strava.com/activities/1234567890", strava_id=1234567890)),
        ("https://www.strava.com/activities/1234567890/overview?utm=x", ActivityRef("https://www.strava.com/activities/1234567890/overview?utm=x", strava_id=1234567890)),
        ("HTTP://Strava.com/Activities/7#kudos", ActivityRef("HTTP://Strava.com/Activities/7#kudos", strava_id=7)),
        ("https://www.strava.com/athletes/7", ActivityRef("https://www.strava.com/athletes/7", activity_id="https://www.strava.com/athletes/7")),
    ],
)
def test_references_are_normalised(text, expected):
    assert parse_activity_ref(text) == expected


def test_blank_entries_are_dropped():
    assert [r.text for r in parse_private_entries(["a", " ", "", "strava-1"])] == ["a", "strava-1"]


def test_an_entry_matches_by_any_form_and_case():
    acts = activities({"activity_id": "fit-a", "strava_id": 42}, {"activity_id": "strava-7", "strava_id": 7})
    refs = parse_private_entries(["FIT-A", "strava.com/activities/7", "STRAVA-42", "fit-nope"])
    found = matched_activities(refs, acts, marks()).collect().sort("entry").rows()
    assert found == [("FIT-A", "fit-a"), ("STRAVA-42", "fit-a"), ("strava.com/activities/7", "strava-7")]
    assert unmatched_entries(refs, acts, marks()) == ["fit-nope"]


def test_an_entry_still_finds_its_run_through_a_mark_after_the_strava_id_is_gone():
    # fit-a was Strava 42; deleted on Strava, the row lost its Strava id; the mark remembers it.
    acts = activities({"activity_id": "fit-a"})
    refs = parse_private_entries(["strava-42"])
    assert unmatched_entries(refs, acts, marks()) == ["strava-42"]
    remembered = marks({"activity_id": "fit-a", "strava_id": 42, "is_private": True, "marked_at": T1})
    assert matched_activities(refs, acts, remembered).collect().rows() == [("strava-42", "fit-a")]


def test_the_latest_mark_decides_and_a_private_one_wins_a_tie():
    acts = activities({"activity_id": "fit-a", "strava_id": 42}, {"activity_id": "fit-b"})
    both = marks(
        {"activity_id": "strava-42", "strava_id": 42, "is_private": True, "marked_at": T1},
        {"activity_id": "fit-a", "is_private": False, "reason": "set_public", "marked_at": T2},
        {"activity_id": "fit-b", "is_private": False, "reason": "set_public", "marked_at": T1},
        {"activity_id": "x", "fit_sha256": "ff", "session_index": 0, "is_private": True, "marked_at": T1},
    )
    acts = pl.concat([acts, activities({"activity_id": "fit-c", "fit_sha256": "FF", "session_index": 0})])
    decided = {r[0]: r[1:3] for r in mark_decisions(acts, both).collect().rows()}
    # fit-a: published at T2 after the Strava mark at T1; fit-b: only its publication;
    # fit-c: its file and session were marked under another id (a rebuild changed the id).
    assert decided == {"fit-a": (False, "set_public"), "fit-b": (False, "set_public"), "fit-c": (True, "strava_private")}
    tie = marks(
        {"activity_id": "strava-42", "strava_id": 42, "is_private": True, "marked_at": T1},
        {"activity_id": "fit-a", "is_private": False, "reason": "set_public", "marked_at": T1},
    )
    assert mark_decisions(acts, tie).collect().filter(pl.col("activity_id") == "fit-a")["decided_private"].to_list() == [True]


def _recorded(acts, existing, entries=()) -> list[tuple]:
    frame = marks_to_record(acts, existing, parse_private_entries(entries), athlete_id="me", now=NOW).collect()
    return sorted(frame.select("activity_id", "strava_id", "reason", "marked_at").rows())


def test_signals_become_marks_once():
    acts = activities(
        {"activity_id": "fit-a", "strava_id": 42, "fit_sha256": "aa", "session_index": 0, "is_private": True},
        {"activity_id": "fit-b", "fit_sha256": "bb", "session_index": 0},
        {"activity_id": "fit-c", "fit_sha256": "cc", "session_index": 0},
    )
    first = _recorded(acts, marks(), ["fit-b"])
    assert first == [("fit-a", 42, "strava_private", NOW), ("fit-b", None, "private_list", NOW)]
    written = marks_to_record(acts, marks(), parse_private_entries(["fit-b"]), athlete_id="me", now=NOW).collect()
    assert _recorded(acts, written.lazy(), ["fit-b"]) == []  # twice changes nothing


def test_a_merged_run_inherits_the_mark_of_its_strava_copy_and_keeps_the_strava_id_after_deletion():
    strava_mark = marks({"activity_id": "strava-42", "strava_id": 42, "is_private": True, "marked_at": T1})
    merged = activities({"activity_id": "fit-a", "strava_id": 42, "fit_sha256": "aa", "session_index": 0, "is_private": True})
    # the decision is already private (T1): the FIT id gets its own mark with the decision's time
    assert _recorded(merged, strava_mark) == [("fit-a", 42, "strava_private", T1)]
    own = marks(
        {"activity_id": "strava-42", "strava_id": 42, "is_private": True, "marked_at": T1},
        {"activity_id": "fit-a", "strava_id": 42, "fit_sha256": "aa", "session_index": 0, "is_private": True, "marked_at": T1},
    )
    stripped = activities({"activity_id": "fit-a", "fit_sha256": "aa", "session_index": 0})
    assert _recorded(stripped, own) == []  # the own mark keeps Strava 42: nothing to add


def test_a_signal_after_a_publication_marks_the_run_again():
    published = marks({"activity_id": "fit-a", "is_private": False, "reason": "set_public", "marked_at": T2})
    plain = activities({"activity_id": "fit-a"})
    assert _recorded(plain, published) == []
    assert _recorded(activities({"activity_id": "fit-a", "is_private": True}), published) == [("fit-a", None, "strava_private", NOW)]
    assert _recorded(plain, published, ["fit-a"]) == [("fit-a", None, "private_list", NOW)]
