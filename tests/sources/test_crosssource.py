"""The cross-source identity rule, on hand-made rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sources.crosssource import file_key, match_activities, merge_rows, plan_merges, strip_strava

T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


def fit(activity_id: str, start: datetime, distance: float, *, file_name: str = "x.fit", sha: str = "a" * 64, strava_id=None) -> dict:
    return {
        "activity_id": activity_id,
        "start_time": start,
        "distance_m": distance,
        "fit_sha256": sha,
        "fit_file_name": file_name,
        "strava_id": strava_id,
        "source": "fit" if strava_id is None else "fit+strava",
        "name": None,
        "description": None,
        "gear_id": None,
        "is_private": False,
        "hr_bpm": 150,
    }


def strava(strava_id: int, start: datetime, distance: float, *, external_id: str | None = None) -> dict:
    return {
        "activity_id": f"strava-{strava_id}",
        "strava_id": strava_id,
        "start_time": start,
        "distance_m": distance,
        "strava_external_id": external_id,
        "source": "strava",
        "name": "Tempo",
        "description": "felt good",
        "gear_id": "g9",
        "is_private": True,
        "hr_bpm": 999,
    }


def test_file_key_normalises_names():
    assert file_key("Uploads/2024-05-01-06-00-00.FIT") == "2024-05-01-06-00-00"
    assert file_key("C:\\watch\\ABC.fit.gz") == "abc"
    assert file_key(None) is None and file_key("") is None


def test_external_id_naming_the_file_matches_whatever_the_distance():
    f = fit("fit-1", T0, 10000.0, file_name="12345678.fit")
    s = strava(9, T0 + timedelta(minutes=30), 12500.0, external_id="12345678.FIT")  # far start, corrected distance
    assert [(m.fit_activity_id, m.strava_id, m.rule) for m in match_activities([f], [s])] == [("fit-1", 9, "external_id")]


def test_external_id_may_be_the_sha256():
    f = fit("fit-1", T0, 10000.0, sha="ab" * 32)
    assert match_activities([f], [strava(9, T0 + timedelta(hours=2), 1.0, external_id="ab" * 32)])[0].rule == "external_id"


def test_start_within_a_minute_and_distance_within_three_percent():
    f = fit("fit-1", T0, 10000.0)
    assert match_activities([f], [strava(1, T0 + timedelta(seconds=59), 10290.0, external_id="phone-xyz")])[0].rule == "start+distance"
    assert match_activities([f], [strava(2, T0 + timedelta(seconds=61), 10000.0)]) == []
    assert match_activities([f], [strava(3, T0, 10400.0)]) == []  # 3.8 % off


def test_pairs_are_one_to_one_and_closest_start_wins():
    a, b = fit("fit-a", T0, 5000.0), fit("fit-b", T0 + timedelta(seconds=40), 5000.0)
    s1, s2 = strava(1, T0 + timedelta(seconds=35), 5000.0), strava(2, T0 + timedelta(seconds=5), 5000.0)
    pairs = {(m.fit_activity_id, m.strava_id) for m in match_activities([a, b], [s1, s2])}
    assert pairs == {("fit-a", 2), ("fit-b", 1)}


def test_multi_session_file_pairs_the_closest_session():
    run = fit("fit-run", T0, 10000.0, file_name="tri.fit")
    bike = fit("fit-bike", T0 + timedelta(hours=1), 40000.0, file_name="tri.fit")
    matches = match_activities([run, bike], [strava(5, T0 + timedelta(hours=1, seconds=3), 39000.0, external_id="tri.fit")])
    assert [(m.fit_activity_id, m.rule) for m in matches] == [("fit-bike", "external_id")]


def test_merged_row_keeps_fit_data_and_takes_strava_fields():
    merged = merge_rows(fit("fit-1", T0, 10000.0), strava(9, T0, 10100.0, external_id="x.fit"))
    assert merged["activity_id"] == "fit-1" and merged["distance_m"] == 10000.0 and merged["hr_bpm"] == 150
    assert (merged["strava_id"], merged["name"], merged["description"], merged["gear_id"], merged["is_private"]) == (9, "Tempo", "felt good", "g9", True)
    assert merged["source"] == "fit+strava" and "fit_file_name" not in merged
    stripped = strip_strava(merged)
    assert stripped["strava_id"] is None and stripped["name"] is None and stripped["source"] == "fit" and stripped["activity_id"] == "fit-1"


def test_plan_is_the_same_whichever_row_came_first():
    f, s = fit("fit-1", T0, 10000.0), strava(9, T0 + timedelta(seconds=2), 10050.0)
    plan = plan_merges([f], [s])
    assert plan.retired_ids == ["strava-9"] and [r["activity_id"] for r in plan.merged] == ["fit-1"]
    assert plan_merges([f], [s]).merged == plan_merges([dict(f)], [dict(s)]).merged


def test_leftover_strava_row_of_an_already_merged_run_is_retired():
    merged = fit("fit-1", T0, 10000.0, strava_id=9)
    plan = plan_merges([merged], [strava(9, T0, 10000.0)])
    assert plan.retired_ids == ["strava-9"] and plan.matches[0].rule == "already paired"
    assert plan.merged[0]["name"] == "Tempo"


def test_nothing_to_merge():
    plan = plan_merges([fit("fit-1", T0, 10000.0)], [strava(9, T0 + timedelta(days=1), 10000.0)])
    assert plan.merged == [] and plan.retired_ids == []
