"""Sign-in (st.login, OIDC) and the signed-in runner's pages, as AppTests: `AppTest.user` sets
the identity. Each private page reads the signed-in athlete's rows only, whatever the URL says."""

from __future__ import annotations

import polars as pl
import pytest

from lake import athletes, identities
from lake.storage import Lake
from lake.table import read
from tests.streamlit_app.signin_support import ISSUER, app_as, signed_in


def test_without_sign_in_settings_the_app_is_the_public_dashboard(two_runners, monkeypatch):
    at = app_as(two_runners, monkeypatch, user=None, sign_in=False)
    assert not list(at.sidebar.button)
    assert at.sidebar.get("button_group"), "the sidebar was not drawn"


def test_signed_out_visitors_see_sign_in_and_no_private_data(two_runners, monkeypatch):
    landing = app_as(two_runners, monkeypatch, user={"is_logged_in": False})
    assert [b.label for b in landing.sidebar.button] == ["Sign in"]
    at = app_as(two_runners, monkeypatch, user={"is_logged_in": False}, page="pages/me.py")
    assert any("Sign in to see this page" in i.value for i in at.info)
    assert not at.dataframe and not at.metric


def test_a_signed_in_runner_sees_their_own_training_with_time_of_day(two_runners, monkeypatch):
    landing = app_as(two_runners, monkeypatch, user=signed_in("ann-subject"))
    assert [b.label for b in landing.sidebar.button] == ["Sign out"]
    at = app_as(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py")
    assert any("Signed in as **ann**" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert table.shape[0] == 2
    assert "05:40" in str(table["local_start"].min())  # the time of day, which no public page shows


@pytest.mark.parametrize("tamper", [{"athlete": "bob"}, {"athlete_id": "bob"}, {"handle": "bob"}])
def test_query_parameters_never_show_another_runner(two_runners, monkeypatch, tamper):
    at = app_as(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py", **tamper)
    assert at.dataframe[0].value.shape[0] == 2
    assert any("Signed in as **ann**" in c.value for c in at.caption)


def test_each_runner_sees_only_their_own_rows(two_runners, monkeypatch):
    ann = app_as(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py").dataframe[0].value
    bob = app_as(two_runners, monkeypatch, user=signed_in("bob-subject"), page="pages/me.py").dataframe[0].value
    assert bob.shape[0] == 1 and ann.shape[0] == 2
    assert set(map(str, bob["local_start"])).isdisjoint(map(str, ann["local_start"]))


def test_the_me_page_shows_the_runner_s_own_shoes_with_their_distance(two_runners, monkeypatch):
    ann = app_as(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py")
    assert [s.value for s in ann.subheader][-1] == "Shoes"
    runs, shoes = ann.dataframe[0].value, ann.dataframe[1].value
    assert list(shoes["name"]) == ["ann shoe"] and list(shoes["runs"]) == [2]
    assert shoes["distance"][0] == pytest.approx(runs["distance_m"].sum())  # both in km
    bob = app_as(two_runners, monkeypatch, user=signed_in("bob-subject"), page="pages/me.py")
    assert len(bob.dataframe) == 1 and "Shoes" not in [s.value for s in bob.subheader]


def test_a_first_sign_in_onboards_a_private_athlete(two_runners, monkeypatch):
    newcomer = signed_in("cleo-subject")
    at = app_as(two_runners, monkeypatch, user=newcomer, page="pages/me.py")
    assert any("Choose a handle first" in i.value for i in at.info) and not at.dataframe
    at.switch_page("pages/welcome.py")
    at.run()
    handle = next(t for t in at.text_input if t.label == "Handle")
    handle.input("bob")  # taken
    next(b for b in at.button if b.label == "Create").click()
    at.run()
    assert any("taken" in e.value for e in at.error)
    handle = next(t for t in at.text_input if t.label == "Handle")
    handle.input("cleo")
    next(b for b in at.button if b.label == "Create").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    lake = Lake.at(two_runners["RUNLAKE_LAKE_URI"])
    row = read(lake, athletes.SPEC).filter(pl.col("handle") == "cleo").to_dicts()
    assert len(row) == 1 and row[0]["public"] is False
    assert identities.athlete_of(lake, ISSUER, "cleo-subject") == row[0]["athlete_id"]
    again = app_as(two_runners, monkeypatch, user=newcomer, page="pages/me.py")
    assert any("Signed in as **cleo**" in c.value for c in again.caption)
    assert any("No activities yet" in i.value for i in again.info)
