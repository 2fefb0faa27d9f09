"""Fixtures of the API tests: the three-athlete lake, its tokens, and TestClients over it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from lake.storage import Lake
from pipeline.tokens import create_token
from runlake.settings import Settings
from tests.api.support import HANDLES, NOW, ThreeAthletes, build_three_athletes, wait_ready


@pytest.fixture(scope="session")
def three(tmp_path_factory) -> ThreeAthletes:
    return build_three_athletes(tmp_path_factory.mktemp("three-athletes"))


@pytest.fixture(scope="session")
def tokens(three) -> dict[str, str]:
    """A read:private token per athlete (`me`, `ann`, `bob`) and a read:public one of `me`'s."""
    made = {h: create_token(three.lake, three.ids[h], name=f"{h}-private", scopes=("read:private",), now=NOW)
            for h in HANDLES}
    made["me:public"] = create_token(three.lake, three.ids["me"], name="me-public", scopes=("read:public",), now=NOW)
    return made


def make_client(three: ThreeAthletes, monkeypatch, **settings) -> TestClient:
    for name, value in three.env.items():
        monkeypatch.setenv(name, value)
    config = Settings.with_overrides(**settings)
    return TestClient(create_app(config, Lake.at(config.lake), clock=lambda: NOW, refresh_s=0.2))


@pytest.fixture
def client(three, tokens, monkeypatch):
    with make_client(three, monkeypatch) as c:
        wait_ready(c.get)
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
