"""Strava's push subscription API: the one subscription an API application may have.

`POST <RUNLAKE_STRAVA_URL>/api/v3/push_subscriptions` with the application's client id and
secret, the callback URL and a verify token (form-encoded, as Strava requires). Before answering,
Strava GETs the callback with `hub.mode=subscribe`, `hub.challenge` and `hub.verify_token`, and
creates the subscription only when the callback echoes the challenge within two seconds
(runlake's `/v1/webhooks/strava` does, api/webhooks.py). `GET` lists the subscription, `DELETE
…/{id}` removes it. These calls use the application's credentials, not an athlete's token.
Messages never contain the client secret or the verify token.
"""

from __future__ import annotations

import requests

from sources.strava.errors import StravaAuthError, StravaError, StravaUnavailable

TIMEOUT_S = 30.0


def _url(base_url: str, suffix: str = "") -> str:
    return base_url.rstrip("/") + "/api/v3/push_subscriptions" + suffix


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    errors = body.get("errors") if isinstance(body, dict) else None
    parts = [f"{e.get('field', '')} {e.get('code', '')}".strip() for e in errors or [] if isinstance(e, dict)]
    message = body.get("message", "") if isinstance(body, dict) else ""
    return f"HTTP {response.status_code} {message}".strip() + (f" ({'; '.join(parts)})" if parts else "")


def _call(method: str, url: str, **kwargs) -> requests.Response:
    try:
        response = requests.request(method, url, timeout=TIMEOUT_S, **kwargs)
    except (requests.ConnectionError, requests.Timeout):
        raise StravaUnavailable(f"cannot reach Strava at {url.split('/api/')[0]}: check the network or RUNLAKE_STRAVA_URL") from None
    if response.status_code == 401:
        raise StravaAuthError("Strava refused the application's credentials: check RUNLAKE_STRAVA_CLIENT_ID and RUNLAKE_STRAVA_CLIENT_SECRET")
    return response


def list_subscriptions(base_url: str, client_id: int, client_secret: str) -> list[dict]:
    """The application's push subscriptions (at most one): `id`, `callback_url`, …"""
    response = _call("GET", _url(base_url), params={"client_id": client_id, "client_secret": client_secret})
    if response.status_code != 200:
        raise StravaError(f"Strava refused to list the push subscriptions: {_reason(response)}")
    body = response.json()
    if not isinstance(body, list) or not all(isinstance(s, dict) and isinstance(s.get("id"), int) for s in body):
        raise StravaError("Strava answered the push subscription listing with something other than a list of subscriptions")
    return body


def create_subscription(base_url: str, client_id: int, client_secret: str, *, callback_url: str, verify_token: str) -> int:
    """Create the push subscription; Strava validates `callback_url` first. Returns its id."""
    form = {"client_id": client_id, "client_secret": client_secret, "callback_url": callback_url, "verify_token": verify_token}
    response = _call("POST", _url(base_url), data=form)
    if response.status_code not in (200, 201):
        raise StravaError(f"Strava did not create the push subscription for {callback_url}: {_reason(response)}")
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("id"), int):
        raise StravaError("Strava answered the subscription request without a subscription id")
    return body["id"]


def delete_subscription(base_url: str, client_id: int, client_secret: str, subscription_id: int) -> None:
    response = _call("DELETE", _url(base_url, f"/{subscription_id}"), params={"client_id": client_id, "client_secret": client_secret})
    if response.status_code not in (200, 204):
        raise StravaError(f"Strava did not delete push subscription {subscription_id}: {_reason(response)}")
