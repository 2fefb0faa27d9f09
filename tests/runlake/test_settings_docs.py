"""Every setting is documented, and the settings behave as docs/settings.md says."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from runlake.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name):
    assert f"`RUNLAKE_{name.upper()}`" in DOCS.read_text()


def test_defaults_need_no_configuration(monkeypatch, tmp_path):
    monkeypatch.delenv("RUNLAKE_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = Settings()
    assert settings.home == tmp_path / "xdg" / "runlake"
    assert settings.lake == str(tmp_path / "xdg" / "runlake" / "lake")
    assert settings.inbox == str(tmp_path / "xdg" / "runlake" / "inbox")
    assert settings.athlete_id == "me" and settings.timezone == "UTC"


def test_environment_is_read_when_built_not_at_import(monkeypatch):
    monkeypatch.setenv("RUNLAKE_LAKE_URI", "s3://bucket/lake")
    assert Settings().lake == "s3://bucket/lake"


@pytest.mark.parametrize("env", [{"RUNLAKE_HR_REST_BPM": "60", "RUNLAKE_HR_MAX_BPM": "55"}, {"RUNLAKE_HR_MAX_BPM": "400"}])
def test_physiology_that_makes_no_sense_is_refused(monkeypatch, env):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValidationError):
        Settings()


def test_secrets_do_not_show_in_reprs(monkeypatch):
    monkeypatch.setenv("RUNLAKE_STRAVA_CLIENT_SECRET", "sup3r-secret-value")
    assert "sup3r-secret-value" not in repr(Settings())


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RUNLAKE_TIMEZONE", "Europe/Amsterdm", "not an IANA time zone"),
        ("RUNLAKE_PRIVACY_ZONES", "52.37,4.89", "lat,lon,radius_m"),
        ("RUNLAKE_PRIVACY_ZONES", "52.37,4.89,-5", "positive radius"),
    ],
)
def test_settings_a_run_cannot_use_are_refused_at_the_edge(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_local_today_is_the_athlete_s_date(monkeypatch):
    monkeypatch.setenv("RUNLAKE_TIMEZONE", "Pacific/Kiritimati")  # UTC+14: usually a day ahead
    import datetime as dt

    assert Settings().local_today() == dt.datetime.now(dt.timezone(dt.timedelta(hours=14))).date()
