"""The signed-in runner's pages /tokens, /settings and /my-data as AppTests: signed out, signed
in, and another athlete — each page acts on the session's own athlete only."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lake import athletes, identities
from lake.storage import Lake
from lake.table import read
from pipeline.tokens import TokenBook, list_tokens
from tests.streamlit_app.signin_support import ISSUER, app_as, make_two_runners, signed_in

PRIVATE = ["pages/me.py", "pages/upload.py", "pages/strava.py", "pages/tokens.py", "pages/settings.py", "pages/my_data.py"]


def _ids(env: dict) -> dict[str, str]:
    lake = Lake.at(env["RUNLAKE_LAKE_URI"])
    return dict(read(lake, athletes.SPEC).select("handle", "athlete_id").iter_rows())


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


@pytest.mark.parametrize("page", PRIVATE)
def test_signed_out_each_private_page_asks_to_sign_in_and_shows_nothing(two_runners, monkeypatch, page):
    at = app_as(two_runners, monkeypatch, user={"is_logged_in": False}, page=page)
    assert any("Sign in to see this page" in i.value for i in at.info)
    assert not at.dataframe and not at.text_input and not at.get("download_button")


def test_tokens_created_on_the_page_work_are_shown_once_and_belong_to_the_signed_in_athlete(two_runners, monkeypatch):
    at = app_as(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/tokens.py")
    next(t for t in at.text_input if t.label == "Name").input("coach")
    next(c for c in at.checkbox if c.label.startswith("Include private data")).check()
    _button(at, "Create").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    token = at.code[0].value
    lake = Lake.at(two_runners["RUNLAKE_LAKE_URI"])
    info = TokenBook.load(lake).check(token, now=dt.datetime.now(dt.UTC))
    assert info.athlete_id == _ids(two_runners)["ann"] and info.allows("read:private")
    at.run()  # the next run of the page: the token is gone from it
    assert not at.code and token not in str(at.dataframe[0].value)
    # bob sees none of ann's tokens
    bob = app_as(two_runners, monkeypatch, user=signed_in("bob-subject"), page="pages/tokens.py")
    assert not bob.dataframe and any("No tokens yet" in i.value for i in bob.info)
    # ann revokes it
    at.selectbox[0].select("coach")
    _button(at, "Revoke").click()
    at.run()
    assert [t.state(dt.datetime.now(dt.UTC)) for t in list_tokens(lake, info.athlete_id)] == ["revoked"]


def test_settings_are_saved_for_the_signed_in_athlete_and_bad_values_are_refused(two_runners, monkeypatch):
    at = app_as(two_runners, monkeypatch, user=signed_in("bob-subject"), page="pages/settings.py")
    assert not at.exception, [e.value for e in at.exception]
    zone = next(t for t in at.text_input if t.label == "Time zone")
    zone.input("Mars/Olympus_Mons")
    _button(at, "Save").click()
    at.run()
    assert any("not an IANA time zone" in e.value for e in at.error)
    next(t for t in at.text_area if t.label == "Privacy zones").input("my house,near the park")
    _button(at, "Save").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("zone" in e.value and "my house" not in e.value for e in at.error), "a malformed zone: one plain line"
    zone = next(t for t in at.text_input if t.label == "Time zone")
    zone.input("America/Denver")
    next(t for t in at.text_area if t.label == "Privacy zones").input("59.91,10.75,600")
    _button(at, "Save").click()
    at.run()
    assert any(s.value == "Saved." for s in at.success)
    rows = read(Lake.at(two_runners["RUNLAKE_LAKE_URI"]), athletes.SPEC)
    bob = rows.filter(pl.col("handle") == "bob").row(0, named=True)
    ann = rows.filter(pl.col("handle") == "ann").row(0, named=True)
    assert bob["timezone"] == "America/Denver" and bob["privacy_zones"] == "59.91,10.75,600"
    assert ann["timezone"] == "Europe/Oslo" and not ann["privacy_zones"]


def test_erasure_needs_the_handle_typed_then_removes_the_athlete_and_signs_out(tmp_path, monkeypatch):
    env = make_two_runners(tmp_path)
    ids = _ids(env)
    at = app_as(env, monkeypatch, user=signed_in("ann-subject"), page="pages/my_data.py")
    next(t for t in at.text_input if t.label == "Type your handle to confirm").input("bob")
    _button(at, "Erase my account").click()
    at.run()
    assert any("nothing was erased" in e.value for e in at.error)
    assert ids["ann"] in _ids(env).values()
    next(t for t in at.text_input if t.label == "Type your handle to confirm").input("ann")
    _button(at, "Erase my account").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "ann" not in _ids(env) and "bob" in _ids(env)
    lake = Lake.at(env["RUNLAKE_LAKE_URI"])
    assert identities.athlete_of(lake, ISSUER, "ann-subject") is None
    assert identities.athlete_of(lake, ISSUER, "bob-subject") == ids["bob"]


def test_the_export_is_offered_as_a_download_of_the_athletes_own_rows(two_runners, monkeypatch):
    at = app_as(two_runners, monkeypatch, user=signed_in("bob-subject"), page="pages/my_data.py")
    _button(at, "Prepare download").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.get("download_button"), "no download offered"
