"""Strava OAuth owned by runlake: refresh, rotation persistence, first authorization.

Strava access tokens live six hours; a refresh answers a new access token and possibly a new
refresh token, after which the old refresh token no longer works. stravalib refreshes on its own
only when its own `STRAVA_CLIENT_ID`/`STRAVA_CLIENT_SECRET` variables are set and never persists
the rotated token, so runlake does it: every refresh token Strava hands out is saved at once,
before any other request, in a token store —

* locally: a 0600 JSON file under `RUNLAKE_HOME/strava/` (folder 0700);
* in deployments: the Prefect Secret block named by `RUNLAKE_STRAVA_SECRET_BLOCK`.

The saved token is preferred over `RUNLAKE_STRAVA_REFRESH_TOKEN` on later runs, unless the env
value has changed since (a new authorization pasted into the environment): the store keeps the
SHA-256 of the env value current when it was written, never the env value itself.

No message or log line here contains a token or the client secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from stravalib import exc

from runlake.files import make_private_dir
from runlake.settings import Settings
from sources.strava.client import StravaClient
from sources.strava.errors import StravaAuthError, StravaError

log = logging.getLogger(__name__)

SCOPE = "activity:read_all"
#: Refresh this long before the access token expires.
EXPIRY_MARGIN_S = 300


def token_hash(token: str | None) -> str | None:
    return hashlib.sha256(token.encode()).hexdigest() if token else None


@dataclass(frozen=True)
class StoredToken:
    refresh_token: str = field(repr=False)
    env_sha256: str | None  # hash of RUNLAKE_STRAVA_REFRESH_TOKEN when this was saved
    saved_at: str = ""

    def to_json(self) -> str:
        return json.dumps({"refresh_token": self.refresh_token, "env_sha256": self.env_sha256, "saved_at": self.saved_at})

    @classmethod
    def from_json(cls, text: str, where: str) -> "StoredToken":
        try:
            data = json.loads(text)
            return cls(str(data["refresh_token"]), data.get("env_sha256"), data.get("saved_at", ""))
        except (ValueError, KeyError, TypeError):
            raise StravaAuthError(f"the saved Strava token in {where} is unreadable: delete it and run `runlake strava auth`") from None


class TokenStore(Protocol):
    where: str

    def load(self) -> StoredToken | None: ...

    def save(self, token: StoredToken) -> None: ...


class FileTokenStore:
    """A 0600 JSON file, written atomically (a crash never leaves half a token)."""

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)

    def load(self) -> StoredToken | None:
        if not self.path.is_file():
            return None
        if self.path.stat().st_mode & 0o077:
            log.warning("%s was readable by others: tightening it to 0600", self.path)
            self.path.chmod(0o600)
        return StoredToken.from_json(self.path.read_text(), self.where)

    def save(self, token: StoredToken) -> None:
        make_private_dir(self.path.parent)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(token.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class SecretBlockTokenStore:
    """A Prefect Secret block holding the same JSON (for deployments, where no disk persists)."""

    def __init__(self, block_name: str):
        self.block_name = block_name
        self.where = f"Prefect Secret block {block_name!r}"

    def load(self) -> StoredToken | None:
        from prefect.blocks.system import Secret

        try:
            block = Secret.load(self.block_name)
        except ValueError:  # no such block yet: the first run starts from the env token
            return None
        value = block.get()
        return StoredToken.from_json(value if isinstance(value, str) else json.dumps(value), self.where)

    def save(self, token: StoredToken) -> None:
        from prefect.blocks.system import Secret

        Secret(value=token.to_json()).save(self.block_name, overwrite=True)


def token_path(settings: Settings, athlete_id: str) -> Path:
    """Where the file token store keeps an athlete's Strava token (under RUNLAKE_HOME)."""
    return settings.home / "strava" / f"{athlete_id}.token.json"


def token_store(settings: Settings) -> TokenStore:
    if settings.strava_secret_block:
        return SecretBlockTokenStore(settings.strava_secret_block)
    return FileTokenStore(token_path(settings, settings.athlete_id))


def _env_token(settings: Settings) -> str | None:
    value = settings.strava_refresh_token.get_secret_value().strip() if settings.strava_refresh_token else ""
    return value or None


def client_credentials(settings: Settings) -> tuple[int, str]:
    secret = settings.strava_client_secret.get_secret_value().strip() if settings.strava_client_secret else ""
    if not settings.strava_client_id or not secret:
        raise StravaAuthError(
            "RUNLAKE_STRAVA_CLIENT_ID and RUNLAKE_STRAVA_CLIENT_SECRET must be set (your API application at "
            "https://www.strava.com/settings/api; see docs/strava.md)"
        )
    try:
        return int(settings.strava_client_id.strip()), secret
    except ValueError:
        raise StravaAuthError("RUNLAKE_STRAVA_CLIENT_ID must be the numeric client id of your Strava API application") from None


def choose_refresh_token(settings: Settings, store: TokenStore) -> tuple[str, str]:
    """The refresh token to use and where it came from (for messages)."""
    env = _env_token(settings)
    stored = store.load()
    if stored is not None and (env is None or token_hash(env) == stored.env_sha256):
        return stored.refresh_token, f"the saved token ({store.where})"
    if env is not None:
        return env, "RUNLAKE_STRAVA_REFRESH_TOKEN"
    raise StravaAuthError("no Strava refresh token: run `runlake strava auth` (or set RUNLAKE_STRAVA_REFRESH_TOKEN)")


def _refusal(fault: exc.Fault, token_origin: str) -> StravaAuthError:
    """One line naming what Strava refused, from its error fields (never their values)."""
    fields: set[str] = set()
    try:
        body = fault.response.json() if fault.response is not None else {}
        fields = {str(e.get("field", "")) for e in body.get("errors") or [] if isinstance(e, dict)}
    except ValueError:
        pass
    status = fault.response.status_code if fault.response is not None else "?"
    if fields & {"client_id", "client_secret"}:
        return StravaAuthError(
            f"Strava refused the client credentials ({status}): check RUNLAKE_STRAVA_CLIENT_ID and RUNLAKE_STRAVA_CLIENT_SECRET"
        )
    if fields & {"refresh_token", "code"} or status in (400, 401):
        return StravaAuthError(
            f"Strava refused the refresh token from {token_origin} ({status}: revoked, or already rotated): "
            "run `runlake strava auth` to authorize again"
        )
    return StravaAuthError(f"Strava's token endpoint failed ({status}): try again later")


class TokenManager:
    """Keeps the client's access token fresh and persists every rotated refresh token at once."""

    def __init__(self, settings: Settings, store: TokenStore, client: StravaClient, *, clock=time.time):
        self.settings = settings
        self.store = store
        self.client = client
        self.clock = clock
        self.expires_at = 0.0
        self.refreshes = 0
        self._refresh_token: str | None = None
        self._origin = ""

    def refresh(self) -> None:
        client_id, secret = client_credentials(self.settings)
        if self._refresh_token is None:
            self._refresh_token, self._origin = choose_refresh_token(self.settings, self.store)
        try:
            info = self.client.protocol.refresh_access_token(client_id=client_id, client_secret=secret, refresh_token=self._refresh_token)
        except exc.Fault as fault:
            raise _refusal(fault, self._origin) from None
        except (ValueError, KeyError):
            raise StravaAuthError("Strava's token endpoint answered something that is not a token response") from None
        self.refreshes += 1
        new_token = info["refresh_token"]
        if new_token != self._refresh_token or self._origin == "RUNLAKE_STRAVA_REFRESH_TOKEN":
            self.persist(new_token)
        self._refresh_token, self._origin = new_token, f"the saved token ({self.store.where})"
        self.expires_at = float(info["expires_at"])
        self.client.access_token = info["access_token"]

    def persist(self, refresh_token: str) -> None:
        token = StoredToken(refresh_token, token_hash(_env_token(self.settings)), datetime.now(UTC).isoformat(timespec="seconds"))
        try:
            self.store.save(token)
        except Exception as error:  # the old token is already invalid: this must be loud
            raise StravaError(
                f"Strava rotated the refresh token but saving it to {self.store.where} failed ({type(error).__name__}): "
                "fix the store and run `runlake strava auth`"
            ) from None
        log.info("saved the rotated Strava refresh token to %s", self.store.where)

    def ensure_fresh(self) -> None:
        if self.clock() > self.expires_at - EXPIRY_MARGIN_S:
            self.refresh()


def authorize_url(settings: Settings, *, state: str = "runlake") -> str:
    """Where the athlete approves read access to all their activities (private ones included)."""
    client_id, _ = client_credentials(settings)
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": settings.strava_redirect_uri,
            "response_type": "code",
            "approval_prompt": "force",
            "scope": SCOPE,
            "state": state,
        }
    )
    return f"{settings.strava_url.rstrip('/')}/oauth/authorize?{query}"


def code_from(pasted: str) -> str:
    """The authorization code from what the user pasted: the code itself or the redirect URL."""
    pasted = pasted.strip()
    if "code=" in pasted:
        query = urlsplit(pasted).query or pasted.split("?", 1)[-1]
        values = parse_qs(query).get("code")
        if values:
            return values[0]
        raise StravaAuthError("the pasted URL carries no code= parameter")
    if not pasted:
        raise StravaAuthError("no authorization code given")
    return pasted


def exchange_code(settings: Settings, store: TokenStore, client: StravaClient, code: str) -> None:
    """Trade the one-time code for tokens and save the refresh token (preferred from now on)."""
    client_id, secret = client_credentials(settings)
    try:
        info, _ = client.protocol.exchange_code_for_token(client_id=client_id, client_secret=secret, code=code)
    except exc.Fault as fault:
        error = _refusal(fault, "the authorization")
        if "client credentials" in str(error):
            raise error from None
        raise StravaAuthError("Strava refused the authorization code (expired or already used): open the URL again") from None
    manager = TokenManager(settings, store, client)
    manager.persist(info["refresh_token"])
