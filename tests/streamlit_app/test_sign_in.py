"""Sign-in (st.login, OIDC) and the signed-in runner's pages, as AppTests: `AppTest.user` sets
the identity. Each private page reads the signed-in athlete's rows only, whatever the URL says."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from flows.cli import app as cli
from lake import athletes, identities
from lake.storage import Lake
from lake.table import read
from sources.fit.synthetic import write_run
from tests.streamlit_app.apptest_support import APP

ISSUER = "http://127.0.0.1:9/issuer"
SIGN_IN_ENV = {
    "RUNLAKE_OIDC_ISSUER": ISSUER,
    "RUNLAKE_OIDC_CLIENT_ID": "runlake-web",
    "RUNLAKE_OIDC_CLIENT_SECRET": "not-a-real-secret",
    "RUNLAKE_WEB_URL": "http://127.0.0.1:8501",
}
OSLO = ZoneInfo("Europe/Oslo")


def cli_ok(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def two_runners(tmp_path_factory) -> dict:
    """ann and bob, each linked to a sign-in identity, each with their own runs and marts;
    ann has 2 runs (one at 05:40 local), bob 1 run."""
    root = tmp_path_factory.mktemp("signin")
    env = {"RUNLAKE_HOME": str(root / "home"), "RUNLAKE_LAKE_URI": str(root / "lake"), "RUNLAKE_INBOX_URI": str(root / "inbox")}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    try:
        start = datetime(2025, 3, 10, 5, 40, tzinfo=OSLO)
        write_run(root / "ann" / "a1.fit", start, 4000)
        write_run(root / "ann" / "a2.fit", start + timedelta(days=1, hours=12), 3000, seed=2)
        write_run(root / "bob" / "b1.fit", start + timedelta(days=2, hours=3), 5000, seed=3)
        for name in ("ann", "bob"):
            cli_ok("athlete", "add", name, "--timezone", "Europe/Oslo")
            cli_ok("ingest", "fit", str(root / name), "--athlete", name)
            cli_ok("athlete", "link", name, "--issuer", ISSUER, "--subject", f"{name}-subject")
        cli_ok("marts", "build", "--today", "2025-03-20")
    finally:
        mp.undo()
    return env


def _app(env: dict, monkeypatch, *, user: dict | None, sign_in: bool = True, page: str | None = None, **query) -> AppTest:
    for k, v in (env | (SIGN_IN_ENV if sign_in else {})).items():
        monkeypatch.setenv(k, v)
    at = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        at.user = user
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def signed_in(subject: str) -> dict:
    return {"is_logged_in": True, "iss": ISSUER, "sub": subject, "email": f"{subject}@example.com"}


def test_without_sign_in_settings_the_app_is_the_public_dashboard(two_runners, monkeypatch):
    at = _app(two_runners, monkeypatch, user=None, sign_in=False)
    assert not list(at.sidebar.button)
    assert at.sidebar.get("button_group"), "the sidebar was not drawn"


def test_signed_out_visitors_see_sign_in_and_no_private_data(two_runners, monkeypatch):
    landing = _app(two_runners, monkeypatch, user={"is_logged_in": False})
    assert [b.label for b in landing.sidebar.button] == ["Sign in"]
    at = _app(two_runners, monkeypatch, user={"is_logged_in": False}, page="pages/me.py")
    assert any("Sign in to see this page" in i.value for i in at.info)
    assert not at.dataframe and not at.metric


def test_a_signed_in_runner_sees_their_own_training_with_time_of_day(two_runners, monkeypatch):
    landing = _app(two_runners, monkeypatch, user=signed_in("ann-subject"))
    assert [b.label for b in landing.sidebar.button] == ["Sign out"]
    at = _app(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py")
    assert any("Signed in as **ann**" in c.value for c in at.caption)
    table = at.dataframe[0].value
    assert table.shape[0] == 2
    assert "05:40" in str(table["local_start"].min())  # the time of day, which no public page shows


@pytest.mark.parametrize("tamper", [{"athlete": "bob"}, {"athlete_id": "bob"}, {"handle": "bob"}])
def test_query_parameters_never_show_another_runner(two_runners, monkeypatch, tamper):
    at = _app(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py", **tamper)
    assert at.dataframe[0].value.shape[0] == 2
    assert any("Signed in as **ann**" in c.value for c in at.caption)


def test_each_runner_sees_only_their_own_rows(two_runners, monkeypatch):
    ann = _app(two_runners, monkeypatch, user=signed_in("ann-subject"), page="pages/me.py").dataframe[0].value
    bob = _app(two_runners, monkeypatch, user=signed_in("bob-subject"), page="pages/me.py").dataframe[0].value
    assert bob.shape[0] == 1 and ann.shape[0] == 2
    assert set(map(str, bob["local_start"])).isdisjoint(map(str, ann["local_start"]))


def test_a_first_sign_in_onboards_a_private_athlete(two_runners, monkeypatch):
    newcomer = signed_in("cleo-subject")
    at = _app(two_runners, monkeypatch, user=newcomer, page="pages/me.py")
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
    again = _app(two_runners, monkeypatch, user=newcomer, page="pages/me.py")
    assert any("Signed in as **cleo**" in c.value for c in again.caption)
    assert any("No activities yet" in i.value for i in again.info)
