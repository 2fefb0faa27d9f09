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

from lake import identities
from lake.storage import Lake
from pipeline.athletes import Athlete, add_athlete, list_athletes, resolve_athlete
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
    """Link the identity to `athlete`; refused when it is already another athlete's."""
    issuer, subject = _check(issuer, subject)
    current = identities.athlete_of(lake, issuer, subject)
    if current == athlete.athlete_id:
        return
    if current is not None and any(a.athlete_id == current for a in list_athletes(lake, settings)):
        raise IdentityError("this identity is already linked to another athlete")
    identities.save_link(lake, {"issuer": issuer, "subject": subject, "athlete_id": athlete.athlete_id, "linked_at": now})


def onboard(lake: Lake, settings: Settings, issuer: str, subject: str, *, handle: str, timezone: str | None,
            now: dt.datetime) -> Athlete:
    """A first sign-in: create a private athlete called `handle` and link the identity to it.
    Refused (IdentityError) when the identity already has an athlete; a bad or taken handle or
    time zone is refused by `add_athlete` before anything is written."""
    issuer, subject = _check(issuer, subject)
    if athlete_for_identity(lake, settings, issuer, subject) is not None:
        raise IdentityError("this identity already has an athlete: sign in again")
    athlete = add_athlete(lake, settings, handle, timezone=timezone, public=False)
    link_identity(lake, settings, athlete, issuer, subject, now=now)
    return resolve_athlete(lake, settings, athlete.athlete_id)
