"""Streamlit's `[auth]` secrets for web sign-in, written from runlake's settings.

Streamlit reads its OpenID Connect settings (`st.login`) only from secrets files, so
`runlake dashboard` writes one, 0600, under `<home>/web/` and passes it with
`--secrets.files`. In Kubernetes the same TOML can come from a mounted Secret instead
(docs/operations.md). The cookie secret is `RUNLAKE_COOKIE_SECRET`, or one generated once and
kept in `<home>/web/cookie-secret` (0600) so sessions survive a restart.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from runlake.files import create_private_once, make_private_dir
from runlake.settings import Settings

#: Where the provider sends the browser back after sign-in (Streamlit's fixed callback path).
CALLBACK_PATH = "/oauth2callback"


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, created 0600 (replaced atomically: no half-written secret)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def cookie_secret(settings: Settings) -> str:
    """RUNLAKE_COOKIE_SECRET, else the one kept under `<home>/web/`, created on first use."""
    if settings.cookie_secret is not None and settings.cookie_secret.get_secret_value():
        return settings.cookie_secret.get_secret_value()
    path = settings.home / "web" / "cookie-secret"
    create_private_once(path, lambda: secrets.token_urlsafe(32).encode())  # racing servers agree on the first
    return path.read_text(encoding="utf-8").strip()


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def auth_secrets_toml(settings: Settings) -> str:
    """The `[auth]` section Streamlit's st.login reads (one unnamed provider)."""
    issuer = settings.oidc_issuer.rstrip("/")
    values = {
        "redirect_uri": settings.web_url.rstrip("/") + CALLBACK_PATH,
        "cookie_secret": cookie_secret(settings),
        "client_id": settings.oidc_client_id,
        "client_secret": settings.oidc_client_secret.get_secret_value(),
        "server_metadata_url": issuer + "/.well-known/openid-configuration",
    }
    return "[auth]\n" + "".join(f"{key} = {_toml_string(value)}\n" for key, value in values.items())


def write_auth_secrets(settings: Settings) -> Path | None:
    """Write `<home>/web/auth-secrets.toml` (0600) when sign-in is configured; its path, else None."""
    if not settings.sign_in:
        return None
    folder = settings.home / "web"
    make_private_dir(folder)
    path = folder / "auth-secrets.toml"
    _write_private(path, auth_secrets_toml(settings))
    return path
