"""/strava as AppTests against our fake Strava server: connect (the approval comes back to the
page), the backfill runs off the page and lands in the signed-in athlete's rows only; a stale,
forged or another athlete's approval is refused with one line."""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest

from lake import activities, athletes
from lake.storage import Lake
from lake.table import read
from pipeline.strava_connect import make_state
from runlake.settings import Settings
from runlake.web_auth import cookie_secret
from tests.sources.strava.fake_data import make_history
from tests.sources.strava.fake_server import FakeStrava
from tests.streamlit_app.signin_support import app_as, make_two_runners, signed_in

PAGE = "pages/strava.py"


@pytest.fixture
def strava_env(tmp_path):
    with FakeStrava(make_history(4, duration_s=240)) as fake:
        env = make_two_runners(tmp_path) | {
            "RUNLAKE_STRAVA_URL": fake.url, "RUNLAKE_STRAVA_CLIENT_ID": fake.client_id,
            "RUNLAKE_STRAVA_CLIENT_SECRET": fake.client_secret,
        }
        yield env, fake


def _athlete_id(env: dict, handle: str) -> str:
    rows = read(Lake.at(env["RUNLAKE_LAKE_URI"]), athletes.SPEC)
    return rows.filter(pl.col("handle") == handle)["athlete_id"].item()


def _approved_code(fake: FakeStrava) -> str:
    """What Strava's approval gives the browser: a one-time code (the fake approves at once)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as redirect:
        urllib.request.build_opener(NoRedirect).open(f"{fake.url}/oauth/authorize?redirect_uri=http://x/strava&state=s")
    return parse_qs(urlsplit(redirect.value.headers["Location"]).query)["code"][0]


def _key(env: dict) -> str:
    return cookie_secret(Settings(home=env["RUNLAKE_HOME"]))


def _wait_for_job(at, timeout_s: float = 120) -> None:
    job = at.session_state["strava_job"]
    deadline = time.monotonic() + timeout_s
    while not job.state().finished:
        assert time.monotonic() < deadline, "the Strava job did not finish"
        time.sleep(0.2)
    at.run()


def test_a_runner_connects_strava_and_the_backfill_lands_in_their_rows_only(strava_env, monkeypatch):
    env, fake = strava_env
    at = app_as(env, monkeypatch, user=signed_in("ann-subject"), page=PAGE)
    link = next(b for b in at.get("link_button") if b.proto.label == "Connect Strava")
    assert link.proto.url.startswith(f"{fake.url}/oauth/authorize?") and "%2Fstrava" in link.proto.url
    ann = _athlete_id(env, "ann")
    state = make_state(_key(env), ann, now=dt.datetime.now(dt.UTC))
    back = app_as(env, monkeypatch, user=signed_in("ann-subject"), page=PAGE, code=_approved_code(fake), state=state)
    assert any("Strava is connected" in s.value for s in back.success), [e.value for e in back.error]
    _wait_for_job(back)
    assert any("Done in" in s.value for s in back.success), [e.value for e in back.error]
    acts = read(Lake.at(env["RUNLAKE_LAKE_URI"]), activities.SPEC).filter(pl.col("source") == "strava")
    assert acts.height == 4 and (acts["athlete_id"] == ann).all()
    again = app_as(env, monkeypatch, user=signed_in("ann-subject"), page=PAGE)
    assert any("Sync now" == b.label for b in again.button)
    texts = [m.value for m in again.markdown]
    assert any("4 activities from Strava" in t for t in texts), texts
    bob = app_as(env, monkeypatch, user=signed_in("bob-subject"), page=PAGE)
    assert any(b.proto.label == "Connect Strava" for b in bob.get("link_button")), "bob is not connected"


@pytest.mark.parametrize("whose", ["bob", "forged", "stale"])
def test_an_approval_that_is_not_this_runners_is_refused(strava_env, monkeypatch, whose):
    env, fake = strava_env
    now = dt.datetime.now(dt.UTC)
    state = {
        "bob": make_state(_key(env), _athlete_id(env, "bob"), now=now),
        "forged": make_state("not-the-servers-key", _athlete_id(env, "ann"), now=now),
        "stale": make_state(_key(env), _athlete_id(env, "ann"), now=now - dt.timedelta(hours=1)),
    }[whose]
    at = app_as(env, monkeypatch, user=signed_in("ann-subject"), page=PAGE, code=_approved_code(fake), state=state)
    assert any("not valid for you" in e.value for e in at.error)
    assert "strava_job" not in at.session_state
    assert read(Lake.at(env["RUNLAKE_LAKE_URI"]), activities.SPEC).filter(pl.col("source") == "strava").is_empty()
