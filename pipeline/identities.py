"""Signed-in identities and their athletes: who an OIDC identity is, onboarding, linking.

An identity is (issuer, subject) from the provider's ID token (`st.user` in the web app). It maps
to one athlete through `private/identity_links` (lake/identities.py):

- `athlete_for_identity` — the athlete a signed-in identity is, or None (not onboarded yet);
- `onboard` — a first sign-in: a new *private* athlete with the chosen handle, linked to it;
- `link_identity` — `runlake athlete link`: an existing athlete (e.g. the default one, whose lake
  predates sign-in) takes an identity, so its runner signs in as himself.

An identity linked to one athlete is never silently moved to another: re-linking it needs the
link removed first (erasing the athlete removes it).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from lake import identities
from lake.storage import Lake
from lake.table import with_commit_retry
from lake.athletes import new_athlete_id
from pipeline.athletes import Athlete, add_athlete, check_handle, check_timezone, list_athletes
from runlake.errors import RunlakeError
from runlake.settings import Settings


class IdentityError(RunlakeError):
    """An identity that cannot be linked or onboarded as asked (one line for the user)."""


def _check(issuer: str, subject: str) -> tuple[str, str]:
    issuer, subject = (issuer or "").strip(), (subject or "").strip()
    if not issuer.startswith(("https://", "http://")) or len(issuer) > 512:
        raise IdentityError("the issuer must be the provider's issuer URL (https://…)")
    if not subject or len(subject) > 255:
        raise IdentityError("the subject must be the provider's id of the person (1-255 characters)")
    return issuer, subject


def athlete_for_identity(lake: Lake, settings: Settings, issuer: str, subject: str) -> Athlete | None:
    """The athlete the identity is linked to, or None (a first sign-in, or an erased athlete)."""
    athlete_id = identities.athlete_of(lake, *_check(issuer, subject))
    if athlete_id is None:
        return None
    for athlete in list_athletes(lake, settings):
        if athlete.athlete_id == athlete_id:
            return athlete
    return None


def link_identity(lake: Lake, settings: Settings, athlete: Athlete, issuer: str, subject: str, *, now: dt.datetime) -> None:
    """Link the identity to `athlete`; refused when it is already another (existing) athlete's."""
    _claim(lake, settings, *_check(issuer, subject), athlete.athlete_id, now=now)


def _claim(lake: Lake, settings: Settings, issuer: str, subject: str, athlete_id: str, *, now: dt.datetime) -> None:
    """Point the identity at `athlete_id`, unless it already points at another existing athlete
    (IdentityError). Decided and written on one snapshot of the links, retried from a fresh one
    when another writer commits in between: two claims of one identity cannot both win."""
    existing = {a.athlete_id for a in list_athletes(lake, settings)}

    def attempt() -> None:
        version, links = identities.read_snapshot(lake)
        mine = links.filter((pl.col("issuer") == issuer) & (pl.col("subject") == subject))
        current = mine["athlete_id"].item() if mine.height else None
        if current == athlete_id:
            return
        if current is not None and current in existing:
            raise IdentityError("this identity is already linked to another athlete")
        identities.save_link_at(lake, {"issuer": issuer, "subject": subject, "athlete_id": athlete_id, "linked_at": now},
                                version=version)

    with_commit_retry(attempt, what="link a sign-in identity")


def onboard(lake: Lake, settings: Settings, issuer: str, subject: str, *, handle: str, timezone: str | None,
            now: dt.datetime) -> Athlete:
    """A first sign-in: create a private athlete called `handle`, linked to the identity.

    The identity is claimed first, for a new athlete id, and the athlete registered under that
    id second: of two sign-ins of one identity onboarding at once (two tabs), one claim wins
    and the other is refused before it registers anyone. A claim whose registration then fails
    (a handle taken meanwhile) points at no athlete, which reads as "not onboarded" and is
    replaced by the next attempt. Bad input is refused before anything is written."""
    issuer, subject = _check(issuer, subject)
    check_handle(handle, set())
    if timezone:
        check_timezone(timezone)
    if athlete_for_identity(lake, settings, issuer, subject) is not None:
        raise IdentityError("this identity already has an athlete: sign in again")
    athlete_id = new_athlete_id()
    _claim(lake, settings, issuer, subject, athlete_id, now=now)
    return add_athlete(lake, settings, handle, timezone=timezone, public=False, athlete_id=athlete_id)
