"""`runlake dashboard`: serve the public Streamlit dashboard (headless, loopback by default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from flows.commands.common import console, load_settings
from runlake.settings import Settings

APP = Path(__file__).resolve().parents[2] / "streamlit_app" / "app.py"


def streamlit_command(host: str, port: int, secrets_file: Path | None = None, max_upload_mb: int | None = None) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, no file watcher, and no
    error details for visitors (`none`: the legacy `false` still shows the traceback); uploads
    up to `max_upload_mb` (RUNLAKE_UPLOAD_MAX_MB, its default when None: Streamlit's own 200 MB is too small for a
    10-year archive); with `secrets_file`, Streamlit reads its sign-in settings (`[auth]`) from
    that file only."""
    if max_upload_mb is None:
        max_upload_mb = Settings.model_fields["upload_max_mb"].default
    extra = ["--secrets.files", str(secrets_file)] if secrets_file is not None else []
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--server.maxUploadSize", str(max_upload_mb),
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--client.showErrorDetails", "none",
        "--theme.primaryColor", "#fc4c02",
        "--theme.base", "light",
        *extra,
    ]


def dashboard(
    port: int = typer.Option(8501, "--port", "-p", min=1, max=65535, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 to share on your network)."),
) -> None:
    """Serve the dashboard: the public pages (they read only <lake>/public/*) and, with the
    RUNLAKE_OIDC_* settings, sign-in and each signed-in runner's private pages."""
    from runlake.web_auth import write_auth_secrets

    settings = load_settings()  # a bad setting fails here with one line, not in the browser
    secrets_file = write_auth_secrets(settings)
    mode = "sign-in on" if secrets_file else "public only"
    console.print(f"runlake dashboard: http://{host}:{port}  ({mode}; lake: {settings.lake}; Ctrl-C to stop)", highlight=False)
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    try:
        code = subprocess.call(streamlit_command(host, port, secrets_file, settings.upload_max_mb), env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
