"""Three athletes, one private: no request — another's token, a guessed id, a private handle, a
query parameter naming someone — brings back anything of another athlete."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lake import marts, public as public_tables
from lake.public import FORBIDDEN_COLUMNS
from tests.api.conftest import bearer
from tests.api.support import HANDLES, rows_of, walk

VIEWS = ("/days", "/days/2025-03-11", "/weeks", "/activities", "/best-efforts", "/predictions", "/fitness/today")
PRIVATE_ONLY = ("/gear",)
WINDOW = {"from": "2025-03-01", "to": "2025-03-31", "limit": 1000}
NAMING_OTHERS = {"athlete": "bob", "athlete_id": "me", "handle": "bob"}


def _private_values(three, handle: str) -> set[str]:
    """Strings that identify `handle`'s private data: its id, activity ids, start times."""
    summary = rows_of(three.lake, marts.ACTIVITY_SUMMARY, athlete_id=three.ids[handle])
    values = {three.ids[handle], *summary["activity_id"].to_list()}
    values |= set(rows_of(three.lake, marts.GEAR_DISTANCE, athlete_id=three.ids[handle])["gear_id"])
    values |= {t.isoformat() for t in summary["start_time"].to_list()}
    return values - {"me"}  # `me` is also the default athlete's public handle


def _public_ids(three, handle: str) -> set[str]:
    return set(rows_of(three.lake, public_tables.ACTIVITIES_PUBLIC, athlete=handle)["public_activity_id"])


def test_no_private_field_or_value_in_any_public_response(client, three):
    secrets = set().union(*(_private_values(three, h) for h in HANDLES))
    paths = ["/v1/athletes"] + [p + v for p in ("/v1", "/v1/athletes/me", "/v1/athletes/ann") for v in VIEWS]
    paths += [f"/v1/activities/{i}" for i in _public_ids(three, "me")]
    paths += [f"/v1/athletes/ann/activities/{i}" for i in _public_ids(three, "ann")]
    forbidden_keys = FORBIDDEN_COLUMNS | {"lat_deg", "lon_deg", "laps", "samples", "start_time", "athlete_id"}
    for path in paths:
        answer = client.get(path, params=WINDOW)  # endpoints without dates ignore them
        assert answer.status_code == 200, path
        found = set(walk(answer.json()))
        assert not found & forbidden_keys, (path, found & forbidden_keys)
        assert not found & secrets, (path, found & secrets)
        assert not any(isinstance(v, str) and "T" in v and v[:4].isdigit() for v in found), path  # no time of day


@pytest.mark.parametrize("who", HANDLES)
def test_every_private_endpoint_serves_only_the_token_s_athlete(client, three, tokens, who):
    others = set().union(*(_private_values(three, h) for h in HANDLES if h != who))
    others |= set().union(*(_public_ids(three, h) for h in ("me", "ann")))
    mine = rows_of(three.lake, marts.ACTIVITY_SUMMARY, athlete_id=three.ids[who])
    auth = bearer(tokens[who])
    for view in VIEWS + PRIVATE_ONLY:
        answer = client.get("/v1/me" + view, params={**WINDOW, **NAMING_OTHERS}, headers=auth)
        assert answer.status_code == 200, view
        assert not set(walk(answer.json())) & others, (who, view)
    items = client.get("/v1/me/activities", params=WINDOW, headers=auth).json()["items"]
    assert sorted(a["id"] for a in items) == sorted(mine["activity_id"])
    expected = rows_of(three.lake, marts.DAILY_LOAD, athlete_id=three.ids[who]).sort("date")
    days = client.get("/v1/me/days", params=WINDOW, headers=auth).json()["items"]
    assert [d["trimp"] for d in days] == expected["trimp"].to_list()


@pytest.mark.parametrize("who", HANDLES)
def test_another_athlete_s_activity_id_is_a_404_like_a_guessed_one(client, three, tokens, who):
    auth = bearer(tokens[who])
    guessed = client.get("/v1/me/activities/fit-0000000000000000", headers=auth)
    assert guessed.status_code == 404
    for other in HANDLES:
        if other == who:
            continue
        for activity_id in rows_of(three.lake, marts.ACTIVITY_SUMMARY, athlete_id=three.ids[other])["activity_id"]:
            answer = client.get(f"/v1/me/activities/{activity_id}", headers=auth)
            assert answer.status_code == 404 and answer.json() == guessed.json()
        for public_id in _public_ids(three, other) if other != "bob" else ():
            assert client.get(f"/v1/me/activities/{public_id}", headers=auth).status_code == 404


def test_the_private_athlete_is_unreachable_through_every_public_path(client, three, tokens):
    bob_ids = rows_of(three.lake, marts.ACTIVITY_SUMMARY, athlete_id=three.ids["bob"])["activity_id"].to_list()
    for headers in ({}, bearer(tokens["bob"])):  # not even with bob's own token
        for view in (*VIEWS, *(f"/activities/{i}" for i in bob_ids)):
            for handle in ("bob", three.ids["bob"], "BOB"):
                answer = client.get(f"/v1/athletes/{handle}{view}", headers=headers)
                assert answer.status_code == 404 and answer.json()["error"] == "not_found"
        for activity_id in bob_ids:
            assert client.get(f"/v1/activities/{activity_id}", headers=headers).status_code == 404
    listed = json.dumps(client.get("/v1/athletes").json())
    assert "bob" not in listed and three.ids["bob"] not in listed
    public_rows = pl.concat([rows_of(three.lake, spec).select("athlete") for spec in public_tables.ALL[:6]])
    assert "bob" not in public_rows["athlete"].to_list()  # the public layer itself holds none of his rows


@pytest.mark.parametrize("who", HANDLES)
def test_me_gear_is_the_token_s_athlete_s_gear_with_the_sum_of_its_runs(client, three, tokens, who):
    athlete_id = three.ids[who]
    answer = client.get("/v1/me/gear", headers=bearer(tokens[who]))
    assert answer.status_code == 200
    items = {g["id"]: g for g in answer.json()["items"]}
    assert {g["name"] for g in items.values()} == {f"{who} daily", f"{who} spare"}
    runs = rows_of(three.lake, marts.ACTIVITY_SUMMARY, athlete_id=athlete_id).filter(pl.col("sport") == "running")
    daily = next(g for g in items.values() if g["name"] == f"{who} daily")
    assert daily["distance_m"] == pytest.approx(runs["distance_m"].sum()) and daily["runs"] == runs.height == 3
    assert daily["retire_km"] == 800.0 and daily["is_default"] and not daily["over_threshold"]
    spare = next(g for g in items.values() if g["name"] == f"{who} spare")
    assert (spare["distance_m"], spare["retire_km"], spare["remaining_km"]) == (0.0, 500.0, 500.0)


def test_gear_needs_a_private_token_and_is_never_public(client, three, tokens):
    assert client.get("/v1/me/gear").status_code == 401
    assert client.get("/v1/me/gear", headers=bearer(tokens["me:public"])).status_code == 403
    for path in ("/v1/gear", "/v1/athletes/me/gear", "/v1/athletes/ann/gear"):
        assert client.get(path, headers=bearer(tokens["me"])).status_code == 404, path
    shoes = {g for h in HANDLES for g in rows_of(three.lake, marts.GEAR_DISTANCE, athlete_id=three.ids[h])["name"]}
    for path in ["/v1/athletes"] + [p + v for p in ("/v1", "/v1/athletes/me", "/v1/athletes/ann") for v in VIEWS]:
        assert not set(walk(client.get(path, params=WINDOW).json())) & shoes, path
