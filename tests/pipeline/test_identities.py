"""Signed-in identities: onboarding, linking, and never moving an identity between athletes."""

from __future__ import annotations

import datetime as dt

import pytest

from lake.storage import Lake
from pipeline.athletes import HandleError, add_athlete, resolve_athlete
from pipeline.identities import IdentityError, athlete_for_identity, link_identity, onboard
from runlake.settings import Settings

ISS = "https://id.example.com"
NOW = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)


@pytest.fixture
def lake_settings(tmp_path):
    settings = Settings(home=tmp_path / "home", lake_uri=str(tmp_path / "lake"))
    return Lake.at(settings.lake), settings


def test_onboarding_creates_a_private_athlete_linked_to_the_identity(lake_settings):
    lake, settings = lake_settings
    assert athlete_for_identity(lake, settings, ISS, "sub-1") is None
    athlete = onboard(lake, settings, ISS, "sub-1", handle="Cleo", timezone="Europe/Oslo", now=NOW)
    assert athlete.handle == "cleo" and not athlete.public and athlete.timezone == "Europe/Oslo"
    assert athlete_for_identity(lake, settings, ISS, "sub-1").athlete_id == athlete.athlete_id
    assert athlete_for_identity(lake, settings, ISS + "/other", "sub-1") is None  # another issuer, another person
    with pytest.raises(IdentityError, match="already has an athlete"):
        onboard(lake, settings, ISS, "sub-1", handle="cleo2", timezone=None, now=NOW)


def test_a_bad_handle_writes_nothing(lake_settings):
    lake, settings = lake_settings
    for bad in ("me", "x", "no spaces", "a-0123456789abcdef0123"):
        with pytest.raises(HandleError):
            onboard(lake, settings, ISS, "sub-2", handle=bad, timezone=None, now=NOW)
    assert athlete_for_identity(lake, settings, ISS, "sub-2") is None


def test_an_identity_is_never_moved_to_another_athlete(lake_settings):
    lake, settings = lake_settings
    ann = add_athlete(lake, settings, "ann")
    bob = add_athlete(lake, settings, "bob")
    link_identity(lake, settings, ann, ISS, "ann-sub", now=NOW)
    link_identity(lake, settings, ann, ISS, "ann-sub", now=NOW)  # again: no change, no error
    with pytest.raises(IdentityError, match="already linked to another athlete"):
        link_identity(lake, settings, bob, ISS, "ann-sub", now=NOW)
    assert athlete_for_identity(lake, settings, ISS, "ann-sub").handle == "ann"


def test_the_default_athlete_can_be_linked(lake_settings):
    lake, settings = lake_settings
    me = resolve_athlete(lake, settings)
    link_identity(lake, settings, me, ISS, "runner", now=NOW)
    assert athlete_for_identity(lake, settings, ISS, "runner").is_default


@pytest.mark.parametrize("issuer,subject", [("not-a-url", "s"), (ISS, ""), (ISS, "x" * 300)])
def test_malformed_identities_are_refused(lake_settings, issuer, subject):
    lake, settings = lake_settings
    with pytest.raises(IdentityError):
        athlete_for_identity(lake, settings, issuer, subject)


def test_two_onboardings_racing_for_one_handle_give_one_athlete_and_one_clear_refusal(lake_settings, monkeypatch):
    """Both read the registry before either writes (forced): the handle is still unique, and
    each identity maps to its own athlete or to none."""
    import threading

    import pipeline.athletes as athletes_module

    lake, settings = lake_settings
    add_athlete(lake, settings, "seed")  # the registry exists
    both_read = threading.Barrier(2, timeout=30)
    real = athletes_module.read_versioned
    first_reads: set[int] = set()

    def read_then_wait(*args, **kwargs):
        snapshot = real(*args, **kwargs)
        me = threading.get_ident()
        if me not in first_reads:  # only each thread's first attempt waits for the other
            first_reads.add(me)
            both_read.wait()
        return snapshot

    monkeypatch.setattr(athletes_module, "read_versioned", read_then_wait)
    outcome: dict[str, object] = {}

    def go(subject: str) -> None:
        try:
            outcome[subject] = onboard(lake, settings, ISS, subject, handle="alice", timezone=None, now=NOW).athlete_id
        except HandleError as exc:
            outcome[subject] = exc

    threads = [threading.Thread(target=go, args=(s,)) for s in ("sub-x", "sub-y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [v for v in outcome.values() if isinstance(v, str)]
    lost = [v for v in outcome.values() if isinstance(v, HandleError)]
    assert len(won) == 1 and len(lost) == 1 and "taken" in str(lost[0])
    from pipeline.athletes import list_athletes

    assert [a.athlete_id for a in list_athletes(lake, settings) if a.handle == "alice"] == won
    found = {s: athlete_for_identity(lake, settings, ISS, s) for s in ("sub-x", "sub-y")}
    assert sorted(a.athlete_id for a in found.values() if a is not None) == won  # the loser has none
