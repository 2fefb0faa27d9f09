"""`runlake dashboard`'s sign-in secrets: written 0600 from the settings, only when configured."""

from __future__ import annotations

import stat
import tomllib

import pytest

from flows.commands.dashboard import streamlit_command
from runlake.web_auth import write_auth_secrets
from runlake.errors import SettingsError
from runlake.settings import Settings

SIGN_IN = dict(oidc_issuer="https://id.example.com/realm/", oidc_client_id="web", oidc_client_secret="s3cr3t-value",
               web_url="https://run.example.com/")


def test_no_secrets_file_without_sign_in_settings(tmp_path):
    assert write_auth_secrets(Settings(home=tmp_path)) is None
    assert not (tmp_path / "web").exists()
    assert "--secrets.files" not in streamlit_command("127.0.0.1", 8501)


def test_the_auth_section_is_written_0600_with_a_kept_cookie_secret(tmp_path):
    path = write_auth_secrets(Settings(home=tmp_path, **SIGN_IN))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth["redirect_uri"] == "https://run.example.com/oauth2callback"
    assert auth["server_metadata_url"] == "https://id.example.com/realm/.well-known/openid-configuration"
    assert auth["client_id"] == "web" and auth["client_secret"] == "s3cr3t-value"
    assert len(auth["cookie_secret"]) >= 32
    again = tomllib.loads(write_auth_secrets(Settings(home=tmp_path, **SIGN_IN)).read_text())["auth"]
    assert again["cookie_secret"] == auth["cookie_secret"], "sessions must survive a restart"
    assert stat.S_IMODE((tmp_path / "web" / "cookie-secret").stat().st_mode) == 0o600
    command = streamlit_command("127.0.0.1", 8501, path)
    assert command[command.index("--secrets.files") + 1] == str(path)


def test_a_given_cookie_secret_is_used(tmp_path):
    path = write_auth_secrets(Settings(home=tmp_path, cookie_secret="x" * 40, **SIGN_IN))
    assert tomllib.loads(path.read_text())["auth"]["cookie_secret"] == "x" * 40


def test_half_a_sign_in_configuration_is_one_clear_line_without_the_secret():
    with pytest.raises(SettingsError) as err:
        Settings.with_overrides(oidc_issuer="https://id.example.com", oidc_client_secret="s3cr3t-value")
    message = str(err.value)
    assert "RUNLAKE_OIDC_CLIENT_ID" in message and "RUNLAKE_WEB_URL" in message
    assert "s3cr3t-value" not in message and "\n" not in message
