"""`runlake dashboard`: the streamlit command line it runs (headless, loopback by default)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from flows.commands import dashboard


def _run(monkeypatch, *args: str) -> tuple[int, list[str], str]:
    calls = []
    monkeypatch.setattr(dashboard.subprocess, "call", lambda cmd, env: calls.append((cmd, env)) or 0)
    app = typer.Typer()
    dashboard.register(app)
    app.command("noop", hidden=True)(lambda: None)  # keep `dashboard` a named sub-command
    result = CliRunner().invoke(app, ["dashboard", *args])
    cmd, env = calls[0] if calls else ([], {})
    assert not calls or env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"
    return result.exit_code, cmd, result.output


def _flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_defaults_to_loopback_headless(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path))
    code, cmd, out = _run(monkeypatch)
    assert code == 0, out
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("streamlit_app/app.py")
    assert _flag(cmd, "--server.address") == "127.0.0.1"
    assert _flag(cmd, "--server.port") == "8501"
    assert _flag(cmd, "--server.headless") == "true"
    assert _flag(cmd, "--browser.gatherUsageStats") == "false"
    # Visitors see no exception text or traceback ("false" would still show the traceback).
    assert _flag(cmd, "--client.showErrorDetails") == "none"
    assert "http://127.0.0.1:8501" in out


def test_port_and_host(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path))
    code, cmd, _ = _run(monkeypatch, "--port", "9123", "--host", "0.0.0.0")
    assert code == 0
    assert _flag(cmd, "--server.port") == "9123" and _flag(cmd, "--server.address") == "0.0.0.0"


def test_bad_settings_fail_with_one_line_before_serving(monkeypatch):
    monkeypatch.setenv("RUNLAKE_HR_MAX_BPM", "400")
    code, cmd, out = _run(monkeypatch)
    assert code == 2 and cmd == []
    assert "RUNLAKE_HR_MAX_BPM" in out and "Traceback" not in out


def test_uploads_up_to_the_upload_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("RUNLAKE_LAKE_URI", str(tmp_path))
    code, cmd, out = _run(monkeypatch)
    assert code == 0, out
    assert _flag(cmd, "--server.maxUploadSize") == "1024"  # Streamlit's own 200 MB is too small for 10 years
    monkeypatch.setenv("RUNLAKE_UPLOAD_MAX_MB", "2048")
    code, cmd, out = _run(monkeypatch)
    assert code == 0, out
    assert _flag(cmd, "--server.maxUploadSize") == "2048"
