"""`/v1/me/…`: the token's athlete's private marts, behind `Authorization: Bearer`."""

from __future__ import annotations

import datetime as dt

import pytest

from lake import laps, marts, records
from pipeline.tokens import create_token, revoke_token
from tests.api.conftest import bearer, make_client
from tests.api.support import NOW, rows_of, wait_ready

PRIVATE_PATHS = ("/v1/me/days", "/v1/me/days/2025-03-10", "/v1/me/weeks", "/v1/me/activities",
                 "/v1/me/best-efforts", "/v1/me/predictions", "/v1/me/fitness/today")


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_no_token_is_401_and_a_public_token_is_403(client, tokens, path):
    missing = client.get(path)
    assert missing.status_code == 401 and missing.json()["error"] == "missing_token"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    for bad in ("nonsense", "rlk_x_y", tokens["me"] + "x"):
        invalid = client.get(path, headers=bearer(bad))
        assert invalid.status_code == 401 and invalid.json()["error"] == "invalid_token"
    assert client.get(path, headers={"Authorization": "Basic abc"}).json()["error"] == "invalid_token"
    weak = client.get(path, headers=bearer(tokens["me:public"]))
    assert weak.status_code == 403 and weak.json() == {
        "error": "insufficient_scope", "message": "this endpoint needs a token with the scope read:private"}
    assert client.get(path, headers=bearer(tokens["me"])).status_code == 200


def test_read_private_implies_read_public_and_a_bad_token_on_a_public_path_is_refused(client, tokens):
    assert client.get("/v1/days", headers=bearer(tokens["me"])).status_code == 200
    assert client.get("/v1/days", headers=bearer(tokens["me:public"])).status_code == 200
    assert client.get("/v1/days", headers=bearer("rlk_forged_token")).status_code == 401


def test_private_endpoints_have_the_public_shapes_over_the_private_marts(client, three, tokens):
    me = bearer(tokens["me"])
    window = {"from": "2025-03-01", "to": "2025-03-31", "limit": 1000}
    days = client.get("/v1/me/days", params=window, headers=me).json()["items"]
    public_days = client.get("/v1/days", params=window).json()["items"]
    assert set(days[0]) == set(public_days[0]) and set(days[0]["week"]) == set(public_days[0]["week"])
    expected = rows_of(three.lake, marts.DAILY_LOAD, athlete_id=three.ids["me"]).sort("date")
    assert [d["trimp"] for d in days] == expected["trimp"].to_list()
    activities = client.get("/v1/me/activities", params=window, headers=me).json()["items"]
    summary = rows_of(three.lake, marts.ACTIVITY_SUMMARY, athlete_id=three.ids["me"])
    assert sorted(a["id"] for a in activities) == sorted(summary["activity_id"])
    public_item = client.get("/v1/activities", params=window).json()["items"][0]
    assert set(public_item) - {"has_route", "has_route_shape"} <= set(activities[0])
    assert activities[0]["start_time"].endswith("+00:00")  # the athlete's own: the time of day too
    corrected = [(a["distance_m"], a["session_type"], a["corrected_fields"]) for a in activities if a["corrected_fields"]]
    assert corrected == [(9500.0, "race", "distance,race")]  # `runlake activity set` in the fixture
    for path in ("/v1/me/best-efforts", "/v1/me/predictions"):
        assert client.get(path, headers=me).json()["items"]
    assert client.get("/v1/me/fitness/today", headers=me).json()["today"] == "2025-03-31"


def test_my_activity_has_its_laps_and_samples(client, three, tokens):
    me = bearer(tokens["me"])
    activity_id = client.get("/v1/me/activities", params={"from": "2025-03-11", "to": "2025-03-11"},
                             headers=me).json()["items"][0]["id"]
    detail = client.get(f"/v1/me/activities/{activity_id}", headers=me).json()
    samples = rows_of(three.lake, records.SPEC, activity_id=activity_id)
    assert len(detail["samples"]) == samples.height > 100
    assert [s["seq"] for s in detail["samples"]] == sorted(samples["seq"])
    assert detail["samples"][0]["elapsed_s"] == 0.0
    assert len(detail["laps"]) == rows_of(three.lake, laps.SPEC, activity_id=activity_id).height > 0
    assert detail["best_efforts"] and detail["id"] == activity_id
    assert client.get(f"/v1/me/activities/{activity_id}", headers=me).json() == detail  # cached: the same


def test_revoked_and_expired_tokens_are_refused_with_their_reason(three, tokens, monkeypatch):
    lake, me = three.lake, three.ids["me"]
    old = create_token(lake, me, name="old", scopes=("read:private",), expires_in_days=30, now=NOW - dt.timedelta(days=60))
    soon_revoked = create_token(lake, me, name="soon-revoked", scopes=("read:private",), now=NOW)
    with make_client(three, monkeypatch) as c:
        wait_ready(c.get)
        expired = c.get("/v1/me/days", headers=bearer(old))
        assert expired.status_code == 401 and expired.json()["error"] == "expired_token"
        assert c.get("/v1/me/days", headers=bearer(soon_revoked)).status_code == 200
        revoke_token(lake, me, "soon-revoked", now=NOW)
        _until(lambda: c.get("/v1/me/days", headers=bearer(soon_revoked)).status_code == 401)
        revoked = c.get("/v1/me/days", headers=bearer(soon_revoked))
        assert revoked.json()["error"] == "revoked_token" and "www-authenticate" in revoked.headers
        fresh = create_token(lake, me, name="fresh", scopes=("read:private",), now=NOW)
        _until(lambda: c.get("/v1/me/days", headers=bearer(fresh)).status_code == 200)


def test_each_token_has_its_own_budget(three, tokens, monkeypatch):
    with make_client(three, monkeypatch, api_token_rate_limit=3) as c:
        wait_ready(c.get)
        assert [c.get("/v1/me/weeks", headers=bearer(tokens["ann"])).status_code for _ in range(4)] == [200] * 3 + [429]
        assert c.get("/v1/days", headers=bearer(tokens["ann"])).status_code == 429  # public requests count too
        assert c.get("/v1/me/weeks", headers=bearer(tokens["bob"])).status_code == 200
        assert c.get("/v1/days").status_code == 200  # anonymous: unlimited unless a public limit is set


def _until(condition, timeout_s: float = 5.0) -> None:
    """New and revoked tokens take effect within 5 s."""
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the token change did not take effect within 5 s"
        time.sleep(0.1)
