"""The one place where runlake reads its configuration.

`Settings()` is built at the edge (the CLI, a flow's entry, the dashboard) and passed down; no
module reads the environment at import time. Every field maps to a `RUNLAKE_<NAME>` environment
variable (case-insensitive). S3 endpoint and credentials use the standard AWS variables
(`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
`AWS_REGION`), read only by `lake.storage`. docs/settings.md documents each setting.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runlake.errors import SettingsError

#: Sources whose activities may appear in the public layer by default: the athlete's own files
#: (watch FIT files, and the FIT, GPX and TCX files of an export archive, docs/import.md). Strava's
#: API terms allow showing a user's Strava data only to that user.
DEFAULT_PUBLIC_SOURCES = ("fit", "gpx", "tcx")


#: RUNLAKE_PUBLIC_ID_SALT: 256 bits at least, written as hex or as base64url.
_HEX = re.compile(r"[0-9A-Fa-f]+")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
SALT_RULE = (
    "RUNLAKE_PUBLIC_ID_SALT must be at least 64 hex digits or 43 base64url characters (A-Z a-z 0-9 _ -), "
    "e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
)


#: RUNLAKE_SECRET_KEY: a Fernet key, 32 bytes in url-safe base64 (44 characters with the `=`).
SECRET_KEY_RULE = (
    "RUNLAKE_SECRET_KEY must be a Fernet key (32 bytes in url-safe base64, 44 characters), e.g. the output of "
    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
)


def is_fernet_key(key: str) -> bool:
    """32 bytes written in url-safe base64 with its padding (what `Fernet.generate_key()` prints)."""
    import base64
    import binascii

    if not _BASE64URL.fullmatch(key) or len(key) != 44:
        return False
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except (binascii.Error, ValueError):
        return False


def salt_is_strong(salt: str) -> bool:
    """Hex digits only: ≥ 64 of them; otherwise base64url (optional `=` padding), ≥ 43 characters."""
    if _HEX.fullmatch(salt):
        return len(salt) >= 64
    return bool(_BASE64URL.fullmatch(salt)) and len(salt.rstrip("=")) >= 43


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming each refused setting and its rule, without pydantic's `input_value=…`."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        name = f"RUNLAKE_{loc.upper()}" if loc else ""
        parts.append(message if not name or name in message else f"{name}: {message}")
    return "invalid settings: " + "; ".join(parts)


def default_home() -> Path:
    """The per-user data folder (follows XDG_DATA_HOME on Linux)."""
    return Path(platformdirs.user_data_dir("runlake", appauthor=False))


class Settings(BaseSettings):
    """All runlake settings. See docs/settings.md."""

    model_config = SettingsConfigDict(env_prefix="RUNLAKE_", extra="ignore", case_sensitive=False)

    # --- where things live -------------------------------------------------------------------
    home: Path = Field(default_factory=default_home, description="Local state folder.")
    lake_uri: str | None = Field(None, description="Lake root: a folder or s3://bucket/prefix.")
    inbox_uri: str | None = Field(None, description="Where new FIT files arrive: folder or S3 prefix.")
    athlete_id: str = Field("me", min_length=1, description="The default athlete's id (owner of its private rows).")
    athlete_handle: str = Field("me", pattern=r"^[a-z0-9][a-z0-9_-]{1,31}$", description="The default athlete's handle.")
    athlete_public: bool = Field(True, description="Whether the default athlete has a public layer.")
    timezone: str = Field("UTC", description="Athlete's home IANA zone, used where a file has no local time.")

    # --- lake maintenance -----------------------------------------------------------------------
    vacuum_retention_hours: int = Field(168, ge=1, description="Vacuum keeps files newer than this.")
    ingest_batch_files: int = Field(500, ge=1, description="Files decoded per Delta commit.")
    workers: int | None = Field(
        None, ge=1, description="Processes for decoding (ingest, rebuild) and for a big marts build; default: one per core."
    )
    lease_wait_s: float = Field(600.0, ge=0, description="How long a command waits for another writer of the same athlete.")
    s3_timeout_s: float = Field(120.0, gt=0, description="S3 request timeout (object_store and botocore), s.")
    s3_max_retries: int = Field(10, ge=0, description="Retries of one failed S3 request (5xx, timeout, dropped connection).")
    s3_retry_timeout_s: float = Field(180.0, gt=0, description="Longest time one S3 request is retried, s.")

    # --- athlete physiology (defaults for the athlete_profile table) ------------------------------
    hr_rest_bpm: int = Field(45, description="Resting heart rate.")
    hr_max_bpm: int = Field(190, description="Maximum heart rate.")
    athlete_sex: str = Field("m", pattern="^[mfMF]$", description="m or f (Banister TRIMP k).")
    threshold_hr_bpm: int | None = Field(None, description="Lactate-threshold HR; default from max.")
    threshold_pace_s_per_km: float = Field(210.0, gt=0, description="Threshold pace, s per km.")

    # --- public layer -------------------------------------------------------------------------------
    privacy_zones: str = Field("", description="'lat,lon,radius_m;...' zones hidden from routes.")
    privacy_trim_m: float = Field(200.0, ge=0, description="Smallest straight-line trim at start and end (m).")
    privacy_radius_m: float = Field(500.0, ge=100, description="Smallest radius R of a protected place or zone (m).")
    privacy_place_min_routes: int = Field(2, ge=2, description="Routes starting/ending together that make a place.")
    privacy_place_routes: str = Field(
        "none", pattern="^(none|shape)$", description="Routes from a protected place: none, or shape (no position)."
    )
    public_id_salt: SecretStr | None = Field(None, description="HMAC key for public ids.")
    private_activities: str = Field("", description="Comma-separated activity ids never published.")
    public_sources: str = Field(",".join(DEFAULT_PUBLIC_SOURCES), description="Sources published.")

    # --- secrets at rest -----------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        None, description="Fernet key encrypting credentials in the lake; default: <home>/secret.key (local lakes only)."
    )

    # --- Strava -----------------------------------------------------------------------------------------
    strava_url: str = Field("https://www.strava.com", description="Strava base URL.")
    strava_client_id: str | None = None
    strava_client_secret: SecretStr | None = None
    strava_refresh_token: SecretStr | None = None
    strava_secret_block: str | None = Field(None, description="Prefect Secret block with tokens.")
    aws_credentials_block: str | None = Field(None, description="prefect-aws AwsCredentials block.")
    strava_redirect_uri: str = Field("http://localhost/exchange_token", description="OAuth redirect for `runlake strava auth`.")
    strava_rate_share: float = Field(0.9, gt=0, le=1, description="Share of Strava's 15-min and daily budgets a sync may use.")
    strava_max_wait_s: float = Field(900.0, ge=0, description="Longest pause for the 15-minute window before stopping.")
    strava_full_listing_every: int = Field(1, ge=1, description="List all summaries every Nth sync (else from the checkpoint).")
    strava_overlap_days: float = Field(14.0, ge=0, description="Incremental listing starts this long before the checkpoint.")
    strava_commit_every: int = Field(50, ge=1, description="Activities fetched per Delta commit during a sync.")
    strava_max_retries: int = Field(4, ge=0, description="Retries of one Strava request after a 5xx, timeout or lost connection.")
    strava_timeout_s: float = Field(30.0, gt=0, description="Strava request timeout.")
    strava_verify_token: SecretStr | None = Field(
        None, description="Verify token of the Strava push subscription (webhook); never logged.")
    strava_push_deployment: str | None = Field(
        None, pattern="^(local|k8s)$",
        description="With a Prefect API: Strava push events run as strava-events/<this> deployment runs; unset: in the API process.")
    strava_push_max_attempts: int = Field(3, ge=1, le=20, description="Processing attempts of one Strava push event before it stays failed.")
    strava_push_rate_limit: int = Field(
        120, ge=1, le=6000,
        description="Strava push events one API replica queues per minute (a token bucket, bursts up to a minute's worth); more are answered 429 with Retry-After.")
    strava_push_max_bytes: int = Field(
        4096, ge=512, le=65536, description="Largest POST body (bytes) the Strava webhook reads; larger ones are answered 413.")
    strava_push_subscription_id: int | None = Field(
        None, ge=1, description="The push subscription's id (`runlake strava subscribe` prints it): events of any other are refused (403); unset: any.")

    # --- web sign-in (OpenID Connect through Streamlit's st.login) ----------------------------------
    oidc_issuer: str | None = Field(None, description="The OIDC provider's issuer URL (sign-in is off without it).")
    oidc_client_id: str | None = Field(None, description="The web app's client id at the provider.")
    oidc_client_secret: SecretStr | None = Field(None, description="The web app's client secret at the provider.")
    web_url: str | None = Field(None, description="Base URL the browser uses for the web app, e.g. https://run.example.com.")
    cookie_secret: SecretStr | None = Field(
        None, description="Signs the sign-in cookie; default: one generated and kept in <home>/web/cookie-secret."
    )

    # --- data API (`runlake api`, docs/api.md) ---------------------------------------------------------
    api_public_rate_limit: int | None = Field(
        None, ge=1, description="Requests per minute per client address for anonymous requests; unset: unlimited."
    )
    api_token_rate_limit: int = Field(600, ge=1, description="Requests per minute per API token.")
    api_cors_origins: str = Field("", description="Comma-separated origins allowed to call the public endpoints ('*': any).")
    # --- web uploads (/upload, docs/product.md): sized for a 10-year watch archive -------------------
    upload_max_mb: int = Field(1024, ge=1, le=16384, description="Most MB one upload may send (all files together).")
    upload_max_files: int = Field(
        20000, ge=1, description="Most activity files (FIT, GPX, TCX) one upload may hold, after unpacking."
    )
    upload_max_uncompressed_mb: int = Field(
        3072, ge=1, description="Most MB of activity files one upload may unpack to (zip and gzip bombs)."
    )
    upload_max_ratio: float = Field(
        100.0, ge=2, description="Most an archive entry or .gz stream may expand over its compressed size (bombs)."
    )
    web_deployment: str = Field(
        "local", pattern="^(local|k8s)$",
        description="With a Prefect API: the web app runs heavy work on ingest-upload/<this> (local or k8s).",
    )

    # --- operations (Prefect deployments, automations) ----------------------------------------------
    notify_block: str | None = Field(
        None, description="Prefect notification block '<block-type-slug>/<name>' the automations send to."
    )
    no_activity_alert_days: int = Field(
        3, ge=1, le=365, description="Alert when no new activity has landed for this many days."
    )

    @field_validator("lake_uri", "inbox_uri")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("api_public_rate_limit", mode="before")
    @classmethod
    def _blank_limit_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("athlete_id")
    @classmethod
    def _not_generated_form(cls, value: str) -> str:
        if value.startswith("a-"):
            raise ValueError("must not start with 'a-' (the form of ids runlake generates for registered athletes)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from None
        return value

    @field_validator("privacy_zones")
    @classmethod
    def _parseable_zones(cls, value: str) -> str:
        from runlake.privacy_zones import parse_privacy_zones  # the one parser; raises a clear ValueError

        parse_privacy_zones(value)
        return value

    @field_validator("public_id_salt")
    @classmethod
    def _strong_salt(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # unset: the lake's own random key is used
        if not salt_is_strong(value.get_secret_value()):
            raise ValueError(SALT_RULE)
        return value

    @field_validator("secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None  # unset: runlake.secrets_box.secret_key uses <home>/secret.key
        if not is_fernet_key(value.get_secret_value().strip()):
            raise ValueError(SECRET_KEY_RULE)
        return SecretStr(value.get_secret_value().strip())

    @model_validator(mode="after")
    def _check_physiology(self) -> "Settings":
        if not 20 <= self.hr_rest_bpm <= 120:
            raise ValueError(f"RUNLAKE_HR_REST_BPM={self.hr_rest_bpm} is not a plausible resting HR (20-120)")
        if not 100 <= self.hr_max_bpm <= 250:
            raise ValueError(f"RUNLAKE_HR_MAX_BPM={self.hr_max_bpm} is not a plausible maximum HR (100-250)")
        if self.hr_rest_bpm >= self.hr_max_bpm:
            raise ValueError("RUNLAKE_HR_REST_BPM must be below RUNLAKE_HR_MAX_BPM")
        return self

    @model_validator(mode="after")
    def _check_sign_in(self) -> "Settings":
        given = {"RUNLAKE_OIDC_ISSUER": self.oidc_issuer, "RUNLAKE_OIDC_CLIENT_ID": self.oidc_client_id,
                 "RUNLAKE_OIDC_CLIENT_SECRET": self.oidc_client_secret, "RUNLAKE_WEB_URL": self.web_url}
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError("web sign-in needs all of " + ", ".join(given) + "; missing: " + ", ".join(missing))
        for name in ("RUNLAKE_OIDC_ISSUER", "RUNLAKE_WEB_URL"):
            value = given[name]
            if value and not str(value).startswith(("https://", "http://")):
                raise ValueError(f"{name} must be an http(s) URL")
        return self

    @classmethod
    def with_overrides(cls, **overrides) -> "Settings":
        """Settings from the environment with the given values on top (None or "" = not given):
        how flow parameters, CLI options and the dashboard build them.

        Refused settings raise `SettingsError` with `describe_settings_error`'s line, never
        pydantic's ValidationError: its text repeats every input value (privacy zones, secrets).
        """
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None and v != ""})
        except ValidationError as exc:
            raise SettingsError(describe_settings_error(exc)) from None

    # --- derived ------------------------------------------------------------------------------------
    @property
    def lake(self) -> str:
        """The lake root URI (a local absolute path or an s3:// URI)."""
        return self.lake_uri or str(self.home / "lake")

    @property
    def zone(self) -> ZoneInfo:
        """The athlete's home time zone."""
        return ZoneInfo(self.timezone)

    def worker_count(self) -> int:
        """`RUNLAKE_WORKERS`, or the cores this process may run on (a cpuset), or 1."""
        if self.workers is not None:
            return self.workers
        try:
            return len(os.sched_getaffinity(0)) or 1
        except AttributeError:  # not on Linux
            return os.cpu_count() or 1

    def local_today(self) -> date:
        """Today's date in the athlete's zone (never the machine's)."""
        return datetime.now(self.zone).date()

    @property
    def inbox(self) -> str:
        return self.inbox_uri or str(self.home / "inbox")

    @property
    def sign_in(self) -> bool:
        """Whether the web app offers sign-in (all of the RUNLAKE_OIDC_* settings and RUNLAKE_WEB_URL given)."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret and self.web_url)

    @property
    def public_source_set(self) -> frozenset[str]:
        return frozenset(s.strip().lower() for s in self.public_sources.split(",") if s.strip())

    @property
    def api_cors_origin_set(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.api_cors_origins.split(",") if s.strip())

    @property
    def private_activity_ids(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.private_activities.replace(";", ",").split(",") if s.strip())
