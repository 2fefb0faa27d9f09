"""Connecting an athlete's own Strava account from the web app (OAuth authorization-code flow).

1. `connect_url` — where the signed-in athlete approves read access; Strava sends the browser
   back to `<RUNLAKE_WEB_URL>/strava?code=…&state=…`.
2. `complete_connection` — checks `state`, trades the one-time code for tokens and stores them
   encrypted for that athlete (`private/credentials`, sources/strava/auth.py), exactly as
   `runlake strava auth --athlete HANDLE` does.

`state` protects the redirect (OAuth's CSRF defence) without server-side session storage — the
browser comes back in a new Streamlit session, possibly on another replica: it is
`<issued at>.<nonce>.<HMAC>` where the HMAC, keyed by the web app's cookie secret, covers the
athlete id, the time and the nonce. It is accepted for `STATE_MAX_AGE_S` and only for the
athlete signed in when it comes back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import polars as pl

from lake import credentials, strava_state
from lake.storage import Lake
from lake.table import scan
from runlake.errors import RunlakeError
from runlake.settings import Settings
from sources.strava.auth import authorize_url, exchange_code, token_store
from sources.strava.client import make_client
from sources.strava.ratelimit import RateLimiter

#: How long an approval link stays valid, seconds.
STATE_MAX_AGE_S = 900
#: Where Strava sends the browser back, under RUNLAKE_WEB_URL.
CALLBACK_PATH = "/strava"


class ConnectError(RunlakeError):
    """A Strava connection that cannot be completed (one line for the user)."""


def strava_configured(settings: Settings) -> bool:
    """Whether this server has a Strava API application (RUNLAKE_STRAVA_CLIENT_ID/SECRET)."""
    return bool(settings.strava_client_id and settings.strava_client_secret and settings.web_url)


def _mac(key: str, athlete_id: str, issued: int, nonce: str) -> str:
    message = f"strava-connect|{athlete_id}|{issued}|{nonce}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:32]


def make_state(key: str, athlete_id: str, *, now: dt.datetime) -> str:
    issued = int(now.timestamp())
    nonce = secrets.token_urlsafe(12)
    return f"{issued}.{nonce}.{_mac(key, athlete_id, issued, nonce)}"


def state_is_valid(key: str, athlete_id: str, state: str, *, now: dt.datetime) -> bool:
    """Whether `state` was made by this server for `athlete_id` less than STATE_MAX_AGE_S ago."""
    parts = (state or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(state) > 200:
        return False
    issued, nonce, mac = int(parts[0]), parts[1], parts[2]
    age = now.timestamp() - issued
    if not 0 <= age <= STATE_MAX_AGE_S:
        return False
    return hmac.compare_digest(mac, _mac(key, athlete_id, issued, nonce))


def _with_callback(settings: Settings) -> Settings:
    return settings.model_copy(update={"strava_redirect_uri": settings.web_url.rstrip("/") + CALLBACK_PATH})


def connect_url(settings: Settings, *, key: str, now: dt.datetime) -> str:
    """The Strava approval URL for the athlete of `settings` (its effective settings)."""
    if not strava_configured(settings):
        raise ConnectError("Strava is not set up on this server (RUNLAKE_STRAVA_CLIENT_ID/SECRET)")
    return authorize_url(_with_callback(settings), state=make_state(key, settings.athlete_id, now=now))


def complete_connection(lake: Lake, settings: Settings, *, code: str, state: str, key: str, now: dt.datetime) -> None:
    """Check `state`, exchange `code` and store the athlete's Strava tokens, encrypted."""
    if not state_is_valid(key, settings.athlete_id, state, now=now):
        raise ConnectError("this Strava approval link is not valid for you any more: connect again")
    if not code or len(code) > 512:
        raise ConnectError("Strava sent no authorization code: connect again")
    settings = _with_callback(settings)
    client, _ = make_client(settings.strava_url, RateLimiter(), max_retries=settings.strava_max_retries,
                            timeout_s=settings.strava_timeout_s)
    exchange_code(settings, token_store(settings, lake, settings.athlete_id), client, code)


def is_connected(lake: Lake, athlete_id: str) -> bool:
    """Whether the athlete has stored Strava credentials."""
    return credentials.load_sealed(lake, athlete_id, credentials.STRAVA) is not None


def sync_status(lake: Lake, athlete_id: str) -> dict | None:
    """The athlete's last Strava sync: `last_run_at`, `last_outcome`, and `activities` stored."""
    state = strava_state.checkpoint(lake, athlete_id)
    if state is None:
        return None
    stored = (
        scan(lake, strava_state.ACTIVITIES)
        .filter((pl.col("athlete_id") == athlete_id) & (pl.col("status") == strava_state.STORED))
        .select(pl.len()).collect().item()
    )
    return {"last_run_at": state.get("last_run_at"), "last_outcome": state.get("last_outcome"), "activities": stored}
