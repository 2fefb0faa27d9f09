"""The public endpoints: every one, their shapes and values, dates, pages, errors, CORS, limits."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lake import public as public_tables
from tests.api.conftest import make_client
from tests.api.support import TODAY, rows_of, wait_ready

PREFIXES = ("/v1", "/v1/athletes/me", "/v1/athletes/ann")


def _all(client, path: str, **params) -> list[dict]:
    """Every item of a list, following `next` links."""
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    items = body["items"]
    while body["next"] is not None:
        body = client.get(body["next"]).json()
        items += body["items"]
    return items


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_public_endpoint_answers_json_of_the_athlete(client, three, prefix):
    handle = "ann" if prefix.endswith("ann") else "me"
    window = {"from": "2025-03-01", "to": "2025-03-31"}
    days = _all(client, prefix + "/days", **window)
    expected = rows_of(three.lake, public_tables.DAILY_LOAD_PUBLIC, athlete=handle).sort("date")
    assert [d["date"] for d in days] == [str(d) for d in expected["date"]]
    assert [d["distance_m"] for d in days] == expected["distance_m"].to_list()
    assert [d["ctl"] for d in days] == expected["ctl"].to_list()
    assert {"distance_m", "duration_s", "runs", "trimp", "ctl", "atl", "tsb", "acwr", "week"} <= set(days[0])
    weekly = rows_of(three.lake, public_tables.WEEKLY_SUMMARY_PUBLIC, athlete=handle)
    first_week = weekly.filter(pl.col("week_start") == dt.date(2025, 3, 10)).row(0, named=True)
    assert days[0]["week"]["week_start"] == "2025-03-10" and days[0]["week"]["distance_m"] == first_week["distance_m"]
    assert client.get(f"{prefix}/days/{days[0]['date']}").json() == days[0]

    weeks = _all(client, prefix + "/weeks", **window)
    assert [w["week_start"] for w in weeks] == sorted(str(d) for d in weekly["week_start"])

    activities = _all(client, prefix + "/activities", **window)
    public_ids = rows_of(three.lake, public_tables.ACTIVITIES_PUBLIC, athlete=handle)["public_activity_id"]
    assert sorted(a["id"] for a in activities) == sorted(public_ids) and len(activities) == 3
    detail = client.get(f"{prefix}/activities/{activities[1]['id']}").json()
    assert {k: detail[k] for k in activities[1]} == activities[1] and detail["best_efforts"]

    bests = _all(client, prefix + "/best-efforts")
    assert len(bests) == rows_of(three.lake, public_tables.PERSONAL_BESTS_PUBLIC, athlete=handle).height > 0
    assert {b["activity"] for b in bests} <= set(public_ids)
    predictions = _all(client, prefix + "/predictions")
    assert len(predictions) == rows_of(three.lake, public_tables.RACE_PREDICTIONS_PUBLIC, athlete=handle).height > 0

    fitness = client.get(prefix + "/fitness/today").json()
    last = expected.row(-1, named=True)
    assert fitness == {"today": str(TODAY), "date": str(last["date"]), "ctl": last["ctl"], "atl": last["atl"],
                       "tsb": last["tsb"], "acwr": last["acwr"], "acwr_uncoupled": last["acwr_uncoupled"]}


def test_the_athletes_list_names_the_public_athletes_only(client):
    assert client.get("/v1/athletes").json() == {
        "items": [{"handle": "ann", "default": False}, {"handle": "me", "default": True}], "next": None}


def test_dates_are_inclusive_and_default_to_the_last_30_days(client):
    days = client.get("/v1/days", params={"from": "2025-03-12", "to": "2025-03-14"}).json()["items"]
    assert [d["date"] for d in days] == ["2025-03-12", "2025-03-13", "2025-03-14"]
    default = client.get("/v1/days", params={"limit": 1000}).json()["items"]
    assert default[0]["date"] == "2025-03-10" and default[-1]["date"] == str(TODAY)  # data begins on the 10th
    only_to = client.get("/v1/days", params={"to": "2025-03-11"}).json()["items"]
    assert [d["date"] for d in only_to] == ["2025-03-10", "2025-03-11"]
    activities = client.get("/v1/activities", params={"from": "2025-03-11", "to": "2025-03-11"}).json()["items"]
    assert [a["date"] for a in activities] == ["2025-03-11"]
    # A week is listed when it overlaps the dates.
    weeks = client.get("/v1/weeks", params={"from": "2025-03-16", "to": "2025-03-17"}).json()["items"]
    assert [w["week_start"] for w in weeks] == ["2025-03-10", "2025-03-17"]


@pytest.mark.parametrize("path", ["/v1/days", "/v1/weeks", "/v1/activities"])
def test_the_default_window_near_year_one_starts_at_year_one(client, path):
    answer = client.get(path, params={"to": "0001-01-05"})
    assert answer.status_code == 200 and answer.json() == {"items": [], "next": None}


def test_pages_follow_next_links_and_keep_the_query(client):
    full = client.get("/v1/days", params={"from": "2025-03-01", "to": "2025-03-31", "limit": 1000}).json()
    assert full["next"] is None and len(full["items"]) == 22
    first = client.get("/v1/days", params={"from": "2025-03-01", "to": "2025-03-31", "limit": 5}).json()
    assert len(first["items"]) == 5 and first["next"].startswith("/v1/days?from=2025-03-01&to=2025-03-31&limit=5&cursor=")
    assert _all(client, "/v1/days", **{"from": "2025-03-01", "to": "2025-03-31", "limit": 5}) == full["items"]
    assert _all(client, "/v1/activities", **{"from": "2025-03-01", "to": "2025-03-31", "limit": 1}) == \
        client.get("/v1/activities", params={"from": "2025-03-01", "to": "2025-03-31"}).json()["items"]
    last = client.get("/v1/days", params={"from": "2025-03-01", "to": "2025-03-31", "limit": 22}).json()
    assert last["next"] is None


@pytest.mark.parametrize("query", [
    {"from": "2025-02-30"}, {"to": "2025-13-01"}, {"from": "20250301"}, {"from": "yesterday"},
    {"from": "2025-03-20", "to": "2025-03-01"}, {"from": "2025-04-01"}, {"limit": 0}, {"limit": 1001},
    {"limit": "many"}, {"cursor": "not/base64"},
])
def test_invalid_queries_are_422_with_an_error_code(client, query):
    answer = client.get("/v1/days", params=query)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_request" and answer.json()["message"]


def test_unknown_private_and_missing_things_are_the_same_404(client):
    private, unknown = client.get("/v1/athletes/bob/days"), client.get("/v1/athletes/zed/days")
    assert private.status_code == unknown.status_code == 404 and private.json() == unknown.json()
    assert private.json() == {"error": "not_found", "message": "athlete not found"}
    for path in ("/v1/days/2024-01-01", "/v1/activities/no-such-id", "/v1/nowhere", "/v1/days/2025-02-30"):
        answer = client.get(path)
        assert answer.status_code in (404, 422) and set(answer.json()) == {"error", "message"}, path


def test_a_private_default_athlete_is_a_404_like_any_private_handle(three, tokens, monkeypatch):
    with make_client(three, monkeypatch, athlete_public=False) as private_default:
        wait_ready(private_default.get)
        assert private_default.get("/v1/days").status_code == 404
        assert private_default.get("/v1/athletes/me/days").status_code == 404
        assert private_default.get("/v1/athletes").json()["items"] == [{"handle": "ann", "default": False}]
        assert private_default.get("/v1/athletes/ann/days").status_code == 200


def test_cors_is_for_the_public_endpoints_only(three, tokens, monkeypatch):
    origin = {"Origin": "https://fans.example"}
    with make_client(three, monkeypatch, api_cors_origins="https://fans.example") as c:
        wait_ready(c.get)
        assert c.get("/v1/days", headers=origin).headers["access-control-allow-origin"] == "https://fans.example"
        preflight = c.options("/v1/days", headers=origin | {"Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 204 and "GET" in preflight.headers["access-control-allow-methods"]
        assert "access-control-allow-origin" not in c.get("/v1/days", headers={"Origin": "https://evil.example"}).headers
        assert "access-control-allow-origin" not in c.get("/v1/me/days", headers=origin).headers
    with make_client(three, monkeypatch) as c:  # not configured: no cross-origin access at all
        wait_ready(c.get)
        assert "access-control-allow-origin" not in c.get("/v1/days", headers=origin).headers


def test_anonymous_requests_are_limited_only_when_a_public_limit_is_set(three, tokens, monkeypatch):
    with make_client(three, monkeypatch) as unlimited:
        wait_ready(unlimited.get)
        assert all(unlimited.get("/v1/days").status_code == 200 for _ in range(30))
    with make_client(three, monkeypatch, api_public_rate_limit=3) as limited:
        wait_ready(limited.get)
        assert [limited.get("/v1/weeks").status_code for _ in range(4)] == [200, 200, 200, 429]
        answer = limited.get("/v1/days")
        assert answer.status_code == 429 and answer.json()["error"] == "rate_limited"
        assert int(answer.headers["retry-after"]) >= 1


def test_openapi_schema_is_published_with_examples(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/v1/days", "/v1/days/{day}", "/v1/weeks", "/v1/activities", "/v1/activities/{public_id}",
                 "/v1/best-efforts", "/v1/predictions", "/v1/fitness/today", "/v1/athletes",
                 "/v1/athletes/{handle}/days", "/v1/me/days", "/v1/me/activities/{activity_id}"):
        assert "get" in paths[path], path
    assert paths["/v1/me/days"]["get"]["security"] == [{"bearer": []}]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["components"]["schemas"]["Day"]["examples"]
    assert schema["components"]["schemas"]["Error"]["examples"]
