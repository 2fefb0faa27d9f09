"""Shared helpers for the signed-in AppTests: two runners linked to sign-in identities, an app
run as a given identity (`AppTest.user`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from flows.cli import app as cli
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


def make_two_runners(root: Path) -> dict:
    """ann and bob, each linked to a sign-in identity, each with their own runs and marts;
    ann has 2 runs (one at 05:40 local) on her default shoe, bob 1 run and no gear. Returns the environment of that lake."""
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
        cli_ok("gear", "add", "ann shoe", "--default", "--athlete", "ann")  # worn on ann's two runs; bob has none
        cli_ok("marts", "build", "--today", "2025-03-20")
    finally:
        mp.undo()
    return env


def app_as(env: dict, monkeypatch, *, user: dict | None, sign_in: bool = True, page: str | None = None, **query) -> AppTest:
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




@pytest.fixture(scope="module")
def two_runners(tmp_path_factory) -> dict:
    return make_two_runners(tmp_path_factory.mktemp("signin"))
