"""Refused settings name the setting and the rule, never the value: privacy zones are the
athlete's private places, the salt is a secret, and errors end up in terminals, logs and flow states."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from marts.privacy import parse_privacy_zones
from runlake.errors import SettingsError
from runlake.settings import Settings, salt_is_strong

REPO = Path(__file__).resolve().parents[2]
# Distinctive digits that cannot appear in an error message by chance.
HOME_LAT, HOME_LON, WORK_LAT = "52.371947", "4.897613", "52.088311"
ZONES = f"{HOME_LAT},{HOME_LON},400;{WORK_LAT},5.1x7,250"  # the second entry is malformed
WEAK_SALT = "pepper-hunter2-7731"
STRONG_HEX = "0123456789abcdef" * 4  # 64 hex digits
STRONG_B64URL = "q3Y_vN-8kZbT0wPLx2mRr5sJd9eHcGf4aUi7oK1yXtE"  # 43 characters, secrets.token_urlsafe(32)


def test_zone_errors_name_the_entry_by_position_not_its_text():
    with pytest.raises(ValueError, match="^entry 2 of RUNLAKE_PRIVACY_ZONES is not 'lat,lon,radius_m'") as info:
        parse_privacy_zones(ZONES)
    assert WORK_LAT not in str(info.value) and HOME_LAT not in str(info.value)
    with pytest.raises(ValueError, match="^entry 1 of RUNLAKE_PRIVACY_ZONES has a latitude/longitude out of range$"):
        parse_privacy_zones(f"95.123456,{HOME_LON},300")
    with pytest.raises(ValueError, match="^entry 3 of RUNLAKE_PRIVACY_ZONES needs a positive radius in metres$"):
        parse_privacy_zones(f"{HOME_LAT},{HOME_LON},400;;{WORK_LAT},5.1,0")


@pytest.mark.parametrize(
    ("salt", "strong"),
    [
        (STRONG_HEX, True),
        (STRONG_HEX.upper(), True),
        (STRONG_HEX[:-1], False),  # 63 hex digits
        ("deadbeef" * 7, False),  # 56 hex digits: hex is judged by the hex rule, not as base64url
        (STRONG_B64URL, True),
        (STRONG_B64URL + "=", True),  # padding allowed
        (STRONG_B64URL[:-1], False),  # 42 characters
        (STRONG_B64URL[:-1] + "=", False),  # padding does not count
        (STRONG_B64URL[:-1] + "+", False),  # '+' is base64, not base64url
        (STRONG_B64URL.replace("_", " "), False),
        (WEAK_SALT, False),
    ],
)
def test_salt_strength_rule(salt, strong):
    assert salt_is_strong(salt) is strong


def test_a_weak_salt_is_refused_without_echoing_it(monkeypatch):
    monkeypatch.setenv("RUNLAKE_PUBLIC_ID_SALT", WEAK_SALT)
    with pytest.raises(SettingsError, match="RUNLAKE_PUBLIC_ID_SALT must be at least 64 hex digits or 43 base64url") as info:
        Settings.with_overrides()
    assert WEAK_SALT not in str(info.value)
    assert str(info.value).count("\n") == 0


def test_strong_or_unset_salts_are_accepted(monkeypatch):
    monkeypatch.setenv("RUNLAKE_PUBLIC_ID_SALT", STRONG_B64URL)
    assert Settings().public_id_salt.get_secret_value() == STRONG_B64URL
    monkeypatch.setenv("RUNLAKE_PUBLIC_ID_SALT", "")
    assert Settings().public_id_salt is None  # blank = unset: the lake's own key


def test_settings_errors_carry_no_input_values_even_in_a_logged_traceback(monkeypatch, caplog):
    """What a flow run's failure message and a server log would show."""
    monkeypatch.setenv("RUNLAKE_PRIVACY_ZONES", ZONES)
    monkeypatch.setenv("RUNLAKE_PUBLIC_ID_SALT", WEAK_SALT)
    with pytest.raises(ValidationError) as raw:
        Settings()
    assert WEAK_SALT in str(raw.value) or HOME_LAT in str(raw.value), "pydantic's own text does echo inputs"
    with pytest.raises(SettingsError) as info:
        Settings.with_overrides()
    logger = logging.getLogger("runlake.test")
    with caplog.at_level(logging.ERROR):
        logger.error("flow failed", exc_info=info.value)
    shown = str(info.value) + caplog.text
    assert "RUNLAKE_PRIVACY_ZONES" in shown and "RUNLAKE_PUBLIC_ID_SALT" in shown
    for value in (HOME_LAT, HOME_LON, WORK_LAT, WEAK_SALT, "input_value="):
        assert value not in shown, value


def test_cli_refuses_a_bad_zone_and_a_weak_salt_without_echoing_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLAKE_", "AWS_"))}
    env.update({
        "RUNLAKE_HOME": str(tmp_path / "home"), "COLUMNS": "300",
        "RUNLAKE_PRIVACY_ZONES": ZONES, "RUNLAKE_PUBLIC_ID_SALT": WEAK_SALT,
    })
    done = subprocess.run([sys.executable, "-m", "flows.cli", "marts", "build"], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "RUNLAKE_PRIVACY_ZONES" in output and "entry 2" in output and "RUNLAKE_PUBLIC_ID_SALT" in output
    for value in (HOME_LAT, HOME_LON, WORK_LAT, "5.1x7", WEAK_SALT, "input_value=", "Traceback"):
        assert value not in output, value
    assert not (tmp_path / "home").exists()  # refused before anything was created
