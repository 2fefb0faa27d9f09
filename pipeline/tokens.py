"""API tokens: making, revoking, listing and checking the athletes' tokens for the data API.

A token is `rlk_<token_id>_<secret>`: `token_id` is 16 random hex digits that find its row in
`private/api_tokens` (lake/tokens.py), `secret` is `secrets.token_urlsafe(32)` (43 characters).
The lake keeps `HMAC-SHA256(key=salt, msg=secret)` with a random 16-byte salt per token, never the
secret: the token string exists in clear only in `create_token`'s return value.

Servers (API replicas, the web app) check tokens against a `TokenBook`, an in-memory snapshot of
the table, and reload it when `tokens_version` changes. docs/tokens.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from lake import tokens as tokens_table
from lake.storage import Lake
from lake.table import with_commit_retry
from runlake.errors import RunlakeError

READ_PUBLIC = "read:public"
READ_PRIVATE = "read:private"
#: Every scope a token may carry; read:private implies read:public.
SCOPES = (READ_PUBLIC, READ_PRIVATE)
TOKEN_PREFIX = "rlk_"

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MIN_DAYS, MAX_DAYS = 1, 3650
_SECRET_BYTES = 32  # secrets.token_urlsafe(32): 43 characters of [A-Za-z0-9_-]
_TOKEN_RE = re.compile(TOKEN_PREFIX + r"([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 16 + 1 + 43

INVALID, EXPIRED, REVOKED = "invalid_token", "expired_token", "revoked_token"
LIVE_STATE, EXPIRED_STATE, REVOKED_STATE = "live", "expired", "revoked"


@dataclass(frozen=True)
class TokenInfo:
    """What is known about a token besides its secret (never the secret, salt or hash)."""

    athlete_id: str
    token_id: str
    name: str
    scopes: frozenset[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def allows(self, scope: str) -> bool:
        """Whether the token grants `scope` (read:private implies read:public)."""
        return scope in self.scopes or (scope == READ_PUBLIC and READ_PRIVATE in self.scopes)

    def state(self, now: dt.datetime) -> str:
        """`revoked`, `expired` (from `expires_at` on) or `live` at `now`."""
        if self.revoked_at is not None:
            return REVOKED_STATE
        return EXPIRED_STATE if _utc(now) >= self.expires_at else LIVE_STATE


class TokenRejected(Exception):
    """A presented token that grants nothing. `code` is `invalid_token` (malformed, unknown or a
    wrong secret), `revoked_token` or `expired_token`; `message` is one sentence without the token."""

    CODES = frozenset({INVALID, EXPIRED, REVOKED})

    def __init__(self, code: str, message: str):
        if code not in self.CODES:
            raise ValueError(f"unknown token rejection code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message


# --- writing and listing ---------------------------------------------------------------------------


def create_token(lake: Lake, athlete_id: str, *, name: str, scopes: Sequence[str], expires_in_days: int = 365,
                 now: dt.datetime) -> str:
    """Make a token for `athlete_id` and return it: the only time it exists in clear.

    Refused (RunlakeError) for an unknown scope, a malformed name, a lifetime outside 1..3650 days,
    or a name one of the athlete's live tokens already has. One commit; the check and the write
    are repeated from a fresh read when another writer commits in between.
    """
    now = _utc(now)
    wanted = _checked_scopes(scopes)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise RunlakeError(f"token name {name!r} is not 1-64 of A-Z a-z 0-9 _ . - starting with a letter or digit")
    if isinstance(expires_in_days, bool) or not isinstance(expires_in_days, int) or not MIN_DAYS <= expires_in_days <= MAX_DAYS:
        raise RunlakeError(f"a token lives {MIN_DAYS} to {MAX_DAYS} days, not {expires_in_days!r}")
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    salt = secrets.token_bytes(16)

    def attempt() -> str:
        version, rows = tokens_table.read_snapshot(lake)
        mine = [_info(r) for r in rows.filter(pl.col("athlete_id") == athlete_id).iter_rows(named=True)]
        if any(t.name == name and t.state(now) == LIVE_STATE for t in mine):
            raise RunlakeError(f"a live token is already named {name!r}: revoke it first or choose another name")
        taken = set(rows["token_id"])
        token_id = secrets.token_hex(8)
        while token_id in taken:  # 64 random bits: never in practice, but a token_id must find one row
            token_id = secrets.token_hex(8)
        row = {
            "athlete_id": athlete_id, "token_id": token_id, "name": name, "scopes": " ".join(sorted(wanted)),
            "salt": salt.hex(), "token_hash": _digest(salt, secret).hex(),
            "created_at": now, "expires_at": now + dt.timedelta(days=expires_in_days), "revoked_at": None,
        }
        tokens_table.save_at_version(lake, pl.DataFrame([row], schema=tokens_table.SPEC.schema), version=version)
        return f"{TOKEN_PREFIX}{token_id}_{secret}"

    return with_commit_retry(attempt, what="create an API token")


def revoke_token(lake: Lake, athlete_id: str, name: str, *, now: dt.datetime) -> TokenInfo:
    """Revoke the athlete's live token named `name` (RunlakeError when it has none) and return it
    as revoked. One commit, repeated from a fresh read when another writer commits in between."""
    now = _utc(now)

    def attempt() -> TokenInfo:
        version, rows = tokens_table.read_snapshot(lake)
        live = [
            r for r in rows.filter((pl.col("athlete_id") == athlete_id) & (pl.col("name") == name)).iter_rows(named=True)
            if _info(r).state(now) == LIVE_STATE
        ]
        if not live:
            raise RunlakeError(f"no live token is named {name!r}")
        revoked = [r | {"revoked_at": now} for r in live]
        tokens_table.save_at_version(lake, pl.DataFrame(revoked, schema=tokens_table.SPEC.schema), version=version)
        return max((_info(r) for r in revoked), key=lambda t: t.created_at)

    return with_commit_retry(attempt, what="revoke an API token")


def list_tokens(lake: Lake, athlete_id: str) -> list[TokenInfo]:
    """Every token of the athlete, revoked and expired ones included, newest first."""
    _, rows = tokens_table.read_snapshot(lake)
    mine = rows.filter(pl.col("athlete_id") == athlete_id).sort(["created_at", "token_id"], descending=True)
    return [_info(r) for r in mine.iter_rows(named=True)]


# --- checking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    info: TokenInfo
    salt: bytes = field(repr=False)
    token_hash: bytes = field(repr=False)


class TokenBook:
    """An in-memory snapshot of private/api_tokens, for servers (API replicas, web app).

    `version` is the Delta table version it was read at (None: no table yet). A server reloads
    the book when `tokens_version(lake)` differs from it.
    """

    def __init__(self, version: int | None, entries: Mapping[str, _Entry]):
        self.version = version
        self._entries = dict(entries)

    @classmethod
    def load(cls, lake: Lake) -> TokenBook:
        """Every token row of the lake, at one table version."""
        version, rows = tokens_table.read_snapshot(lake)
        entries = {
            r["token_id"]: _Entry(_info(r), bytes.fromhex(r["salt"]), bytes.fromhex(r["token_hash"]))
            for r in rows.iter_rows(named=True)
        }
        return cls(version, entries)

    def check(self, presented: str, *, now: dt.datetime) -> TokenInfo:
        """The token's info when `presented` is a live token; else `TokenRejected`.

        A malformed string, an unknown token_id or a wrong secret are all `invalid_token` (the
        hash is compared in constant time); only a token whose secret is right is told apart as
        `revoked_token` or `expired_token`.
        """
        match = _TOKEN_RE.fullmatch(presented) if isinstance(presented, str) and len(presented) == _TOKEN_LENGTH else None
        entry = self._entries.get(match.group(1)) if match else None
        if entry is None or not hmac.compare_digest(_digest(entry.salt, match.group(2)), entry.token_hash):
            raise TokenRejected(INVALID, "The API token is not valid.")
        info = entry.info
        state = info.state(now)
        if state == REVOKED_STATE:
            raise TokenRejected(REVOKED, f"The API token was revoked on {info.revoked_at:%Y-%m-%d %H:%M} UTC.")
        if state == EXPIRED_STATE:
            raise TokenRejected(EXPIRED, f"The API token expired on {info.expires_at:%Y-%m-%d %H:%M} UTC.")
        return info


def tokens_version(lake: Lake) -> int | None:
    """The token table's current Delta version (None: no table yet): what a server compares with
    its book's `version` to know whether to reload (it reads the table's log, not its rows: the table is
    small and rarely written, so this stays cheap enough to poll every second)."""
    return tokens_table.version(lake)


# --- helpers ---------------------------------------------------------------------------------------


def _checked_scopes(scopes: Sequence[str]) -> frozenset[str]:
    if isinstance(scopes, str):  # a lone "read:public" would otherwise be taken letter by letter
        scopes = [scopes]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise RunlakeError(f"unknown token scope {unknown[0]!r}: the scopes are {', '.join(SCOPES)}")
    if not scopes:
        raise RunlakeError(f"give a token at least one scope ({', '.join(SCOPES)})")
    return frozenset(scopes)


def _digest(salt: bytes, secret: str) -> bytes:
    return hmac.new(salt, secret.encode(), hashlib.sha256).digest()


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("a token time must be timezone-aware (UTC)")
    return moment.astimezone(dt.UTC)


def _info(row: Mapping) -> TokenInfo:
    return TokenInfo(
        athlete_id=row["athlete_id"], token_id=row["token_id"], name=row["name"], scopes=frozenset(row["scopes"].split()),
        created_at=row["created_at"], expires_at=row["expires_at"], revoked_at=row["revoked_at"],
    )
