"""`runlake api`: serve the data API (docs/api.md) with uvicorn, on loopback by default.

The server process builds its settings itself (`api.server:app_from_environment`, imported by
uvicorn by name); here they are only checked first, so a bad setting or an S3 lake without
credentials is one line and exit 2 instead of a server that never becomes ready.
"""

from __future__ import annotations

import typer

from flows.commands.common import console, load_settings, user_errors

#: The application factory uvicorn imports (the API package sits beside the CLI, not under it).
APP_FACTORY = "api.server:app_from_environment"


def uvicorn_options(host: str, port: int) -> dict:
    """How the API is served (the benchmark serves its reference app the same way): one process,
    no access log (a line per request costs more than the answer), no server header."""
    return {"host": host, "port": port, "log_level": "warning", "access_log": False, "server_header": False}


def api(
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 in a container)."),
) -> None:
    """Serve the data API over RUNLAKE_LAKE_URI (public endpoints, and /v1/me with a token)."""
    import uvicorn

    from pipeline.lake_access import lake_at

    settings = load_settings()
    with user_errors():
        lake_at(settings.lake, settings)
    console.print(f"runlake api: http://{host}:{port}/v1  (docs at /docs; lake: {settings.lake}; Ctrl-C to stop)",
                  highlight=False)
    uvicorn.run(APP_FACTORY, factory=True, **uvicorn_options(host, port))


def register(app: typer.Typer) -> None:
    app.command("api")(api)
