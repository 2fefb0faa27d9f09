"""Strava OAuth owned by runlake: refresh, rotation persistence, first authorization.

Strava access tokens live six hours; a refresh answers a new access token and possibly a new
refresh token, after which the old refresh token no longer works. stravalib refreshes on its own
only when its own `STRAVA_CLIENT_ID`/`STRAVA_CLIENT_SECRET` variables are set and never persists
the rotated token, so runlake does it: every refresh token Strava hands out is saved at once,
before any other request, in the token store of record — the athlete's row of the lake table
`private/credentials`, encrypted (`LakeTokenStore`; the key: `runlake.secrets_box.secret_key`).
API/web replicas and Kubernetes pods share only the lake, so nothing else may hold the token.

The token file under `RUNLAKE_HOME/strava/` and the Prefect Secret block
`RUNLAKE_STRAVA_SECRET_BLOCK` that used to be the store are read once, as an import source: when
the lake holds no credentials for the default athlete but one of them does, they are imported
into the lake (encrypted) and the file is removed (`LegacyTokenFile`, `LegacySecretBlock`).

The saved token is preferred over `RUNLAKE_STRAVA_REFRESH_TOKEN` (the default athlete's only) on
later runs, unless the env value has changed since (a new authorization pasted into the
environment): the store keeps the SHA-256 of the env value current when it was written, never
the env value itself.

No message or log line here contains a token or the client secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from stravalib import exc

from lake import credentials
from sources.fit.identity import is_generated_athlete
from lake.storage import Lake
from runlake.secrets_box import decrypt, encrypt, key_id, secret_key
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
    """One athlete's Strava credentials: the plaintext that `LakeTokenStore` encrypts (as JSON)."""

    refresh_token: str = field(repr=False)
    env_sha256: str | None  # hash of RUNLAKE_STRAVA_REFRESH_TOKEN when this was saved
    saved_at: str = ""
    access_token: str | None = field(default=None, repr=False)  # the one handed out with refresh_token
    expires_at: int | None = None  # of access_token, seconds since the epoch
    scope: str | None = None  # the scope runlake asked for when this authorization was made
    strava_athlete_id: int | None = None  # Strava's id of the athlete, when Strava said it

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str, where: str) -> "StoredToken":
        try:
            data = json.loads(text)
            return cls(
                str(data["refresh_token"]),
                data.get("env_sha256"),
                data.get("saved_at", ""),
                data.get("access_token"),
                data.get("expires_at"),
                data.get("scope"),
                data.get("strava_athlete_id"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StravaAuthError(f"the saved Strava token in {where} is unreadable: run `runlake strava auth`") from None


class TokenStore(Protocol):
    athlete_id: str
    where: str

    def load(self) -> StoredToken | None: ...

    def save(self, token: StoredToken) -> None: ...


class LegacySource(Protocol):
    where: str

    def load(self) -> StoredToken | None: ...

    def retire(self) -> str: ...


class LegacyTokenFile:
    """The 0600 JSON file that held the default athlete's token before the lake did."""

    def __init__(self, path: Path):
        self.path = path
        self.where = str(path)

    def load(self) -> StoredToken | None:
        if not self.path.is_file():
            return None
        return StoredToken.from_json(self.path.read_text(), self.where)

    def retire(self) -> str:
        self.path.unlink(missing_ok=True)
        return "the file was removed"


class LegacySecretBlock:
    """The Prefect Secret block that held the token in deployments before the lake did."""

    def __init__(self, block_name: str):
        self.block_name = block_name
        self.where = f"Prefect Secret block {block_name!r}"

    def load(self) -> StoredToken | None:
        from prefect.blocks.system import Secret

        try:
            block = Secret.load(self.block_name)
        except ValueError:  # no such block: nothing to import
            return None
        value = block.get()
        return StoredToken.from_json(value if isinstance(value, str) else json.dumps(value), self.where)

    def retire(self) -> str:
        return f"the block is no longer read: delete it (`prefect block delete secret/{self.block_name}`)"


class LakeTokenStore:
    """The store of record: the athlete's `strava` row of `private/credentials`, encrypted.

    With a `legacy` source (the default athlete only), a lake without credentials for the athlete
    imports that source's token once, encrypted, and retires the source.
    """

    def __init__(self, lake: Lake, key: bytes, athlete_id: str, *, legacy: LegacySource | None = None):
        self.lake = lake
        self._key = key
        self.athlete_id = athlete_id
        self.legacy = legacy
        self.where = f"the lake (private/credentials of athlete {athlete_id!r}, encrypted)"

    def load(self) -> StoredToken | None:
        sealed = credentials.load_sealed(self.lake, self.athlete_id, credentials.STRAVA)
        if sealed is None:
            return self._import_legacy()
        what = f"the Strava credentials of athlete {self.athlete_id!r} in the lake"
        return StoredToken.from_json(decrypt(self._key, sealed.ciphertext, sealed.key_id, what=what), self.where)

    def save(self, token: StoredToken) -> None:
        sealed = credentials.Sealed(encrypt(self._key, token.to_json()), key_id(self._key))
        credentials.save_sealed(self.lake, self.athlete_id, credentials.STRAVA, sealed, now=datetime.now(UTC))

    def _import_legacy(self) -> StoredToken | None:
        token = self.legacy.load() if self.legacy is not None else None
        if token is None:
            return None
        self.save(token)
        retired = self.legacy.retire()
        log.warning(
            "imported the Strava token of athlete %r from %s into the lake (private/credentials, encrypted); %s",
            self.athlete_id, self.legacy.where, retired,
        )
        return token


def token_path(settings: Settings, athlete_id: str) -> Path:
    """Where the file token store kept an athlete's Strava token (under RUNLAKE_HOME), before the lake."""
    return settings.home / "strava" / f"{athlete_id}.token.json"


def legacy_source(settings: Settings) -> LegacySource:
    """Where the default athlete's token was kept before the lake: the Secret block or the file."""
    if settings.strava_secret_block:
        return LegacySecretBlock(settings.strava_secret_block)
    return LegacyTokenFile(token_path(settings, settings.athlete_id))


def token_store(settings: Settings, lake: Lake, athlete_id: str) -> LakeTokenStore:
    """The athlete's token store in `lake` (for the default athlete, importing a legacy token once)."""
    legacy = legacy_source(settings) if _is_default(settings, athlete_id) else None
    return LakeTokenStore(lake, secret_key(settings), athlete_id, legacy=legacy)


def _is_default(settings: Settings, athlete_id: str) -> bool:
    """Whether `athlete_id` is the deployment's default athlete. A registered athlete's effective
    settings carry its own (generated) id, so the id's form decides, not a comparison."""
    return athlete_id == settings.athlete_id and not is_generated_athlete(athlete_id)


def _env_token(settings: Settings, athlete_id: str) -> str | None:
    """RUNLAKE_STRAVA_REFRESH_TOKEN: the default athlete's, never another athlete's."""
    if not _is_default(settings, athlete_id):
        return None
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
    env = _env_token(settings, store.athlete_id)
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
            self.persist(info)
        self._refresh_token, self._origin = new_token, f"the saved token ({self.store.where})"
        self.expires_at = float(info["expires_at"])
        self.client.access_token = info["access_token"]

    def persist(self, info: dict, *, strava_athlete_id: int | None = None) -> None:
        """Save Strava's token answer (`access_token`, `refresh_token`, `expires_at`) as the athlete's
        credentials. A refresh answer does not name the athlete: Strava's athlete id already stored is
        kept (push events find their athlete by it, pipeline/strava_push_events.py)."""
        if strava_athlete_id is None:
            previous = self.store.load()
            strava_athlete_id = previous.strava_athlete_id if previous is not None else None
        token = StoredToken(
            refresh_token=info["refresh_token"],
            env_sha256=token_hash(_env_token(self.settings, self.store.athlete_id)),
            saved_at=datetime.now(UTC).isoformat(timespec="seconds"),
            access_token=info.get("access_token"),
            expires_at=int(info["expires_at"]) if info.get("expires_at") is not None else None,
            scope=SCOPE,
            strava_athlete_id=strava_athlete_id,
        )
        try:
            self.store.save(token)
        except Exception as error:  # the old token is already invalid: this must be loud
            raise StravaError(
                f"Strava rotated the refresh token but saving it to {self.store.where} failed ({type(error).__name__}): "
                "fix the store and run `runlake strava auth`"
            ) from None
        log.info("saved the rotated Strava refresh token to %s", self.store.where)

    def remember_strava_athlete(self, strava_athlete_id: int) -> None:
        """Store Strava's id of the athlete beside the current credentials (learned from `/athlete`
        when the authorization did not say it, e.g. a token from RUNLAKE_STRAVA_REFRESH_TOKEN)."""
        stored = self.store.load()
        if stored is not None and stored.strava_athlete_id != strava_athlete_id:
            self.store.save(replace(stored, strava_athlete_id=strava_athlete_id))

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
        info, athlete = client.protocol.exchange_code_for_token(client_id=client_id, client_secret=secret, code=code, return_athlete=True)
    except exc.Fault as fault:
        error = _refusal(fault, "the authorization")
        if "client credentials" in str(error):
            raise error from None
        raise StravaAuthError("Strava refused the authorization code (expired or already used): open the URL again") from None
    strava_athlete = athlete.get("id") if isinstance(athlete, dict) else getattr(athlete, "id", None)
    TokenManager(settings, store, client).persist(info, strava_athlete_id=int(strava_athlete) if strava_athlete is not None else None)
