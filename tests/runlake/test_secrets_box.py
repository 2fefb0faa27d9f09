"""The key that encrypts credentials in the lake, and the encryption around it."""

from __future__ import annotations

import stat

import pytest
from cryptography.fernet import Fernet

from runlake.errors import SettingsError
from runlake.secrets_box import SecretKeyError, decrypt, encrypt, key_id, secret_key
from runlake.settings import Settings

PLAINTEXT = '{"refresh_token": "rt_0123456789abcdef", "access_token": "at_fedcba9876543210"}'


def test_round_trip_and_the_ciphertext_holds_no_plaintext():
    key = Fernet.generate_key()
    sealed = encrypt(key, PLAINTEXT)
    assert "rt_0123456789abcdef" not in sealed and "at_fedcba9876543210" not in sealed
    assert decrypt(key, sealed, key_id(key), what="the test credentials") == PLAINTEXT
    assert encrypt(key, PLAINTEXT) != sealed  # a fresh IV each time


def test_a_wrong_key_is_one_clear_line_without_secrets():
    key, other = Fernet.generate_key(), Fernet.generate_key()
    sealed = encrypt(key, PLAINTEXT)
    with pytest.raises(SecretKeyError) as error:
        decrypt(other, sealed, key_id(key), what="the test credentials")
    message = str(error.value)
    assert "\n" not in message and f"encrypted with key {key_id(key)}" in message and key_id(other) in message
    assert "RUNLAKE_SECRET_KEY" in message
    assert not any(s in message for s in (key.decode(), other.decode(), sealed, "rt_0123456789abcdef"))


def test_damaged_ciphertext_is_one_clear_line():
    key = Fernet.generate_key()
    with pytest.raises(SecretKeyError, match="is damaged"):
        decrypt(key, encrypt(key, PLAINTEXT)[:-4] + "AAAA", key_id(key), what="the test credentials")


def test_the_setting_wins_over_the_key_file(tmp_path):
    key = Fernet.generate_key().decode()
    assert secret_key(Settings(home=tmp_path, secret_key=key)) == key.encode()
    assert not (tmp_path / "secret.key").exists()


def test_the_local_key_file_is_made_once_0600(tmp_path):
    settings = Settings(home=tmp_path / "home")
    first = secret_key(settings)
    path = tmp_path / "home" / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert secret_key(settings) == first and Fernet(first)  # a valid Fernet key, kept


def test_an_s3_lake_needs_the_setting(tmp_path):
    with pytest.raises(SettingsError, match="RUNLAKE_SECRET_KEY must be set when the lake is on S3"):
        secret_key(Settings(home=tmp_path, lake_uri="s3://bucket/lake"))
    assert not (tmp_path / "secret.key").exists()


def test_a_damaged_key_file_is_one_clear_line(tmp_path):
    (tmp_path / "secret.key").write_text("short")
    with pytest.raises(SecretKeyError, match="is damaged"):
        secret_key(Settings(home=tmp_path))


@pytest.mark.parametrize("value", ["not-a-key", "A" * 43 + "$", "I_vQdLJwZz6N5kW3UAryU8W8ispcjiA_APnee6i7Dr", "QUFB" * 11])
def test_a_malformed_key_is_refused_in_one_line_without_echoing_it(value):
    with pytest.raises(SettingsError) as error:
        Settings.with_overrides(secret_key=value)
    message = str(error.value)
    assert "RUNLAKE_SECRET_KEY must be a Fernet key" in message and "\n" not in message and value not in message
