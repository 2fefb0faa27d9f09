"""`runlake sync strava`, `runlake strava auth`, `runlake strava subscribe` and `runlake strava events`."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.commands.common import athlete_context, athlete_lease, athlete_option, console, lake_from, load_settings, out, user_errors, verbose_logging
from flows.commands.ingest import progress_bar

sync_app = typer.Typer(no_args_is_help=True)
strava_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(sync_app, name="sync", help="Bring data from connected services into the lake.")
    app.add_typer(strava_app, name="strava", help="Connect runlake to Strava.")


@sync_app.command("strava")
def sync_strava_command(
    lake_uri: Annotated[str | None, typer.Option("--lake", help="Lake root (default: RUNLAKE_LAKE_URI).")] = None,
    full: Annotated[bool, typer.Option("--full", help="List every summary this run (deletions are noticed).")] = False,
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Sync an athlete's Strava activities. Exit 0 also when a rate limit stopped the run cleanly."""
    from pipeline.strava_sync import sync_strava

    verbose_logging(verbose)
    lake, athlete = athlete_context(handle, lake_uri=lake_uri, strava_full_listing_every=1 if full else None)
    settings = athlete.settings
    # a StravaError is one line and exit 1
    with user_errors(), athlete_lease(lake, settings.athlete_id, "sync strava"), progress_bar() as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            label = "listing Strava activities" if phase == "listing" else "fetching new and changed"
            if phase not in tasks:
                tasks[phase] = bar.add_task(label, total=None if phase == "listing" else total)
            bar.update(tasks[phase], completed=done, total=None if phase == "listing" else total)

        report = sync_strava(lake, settings, progress=progress)
    out.print(report.summary(), highlight=False)
    for strava_id, reason in report.skipped:
        out.print(f"  [yellow]skipped[/] Strava activity {strava_id}: {reason}", highlight=False)
    for strava_id, reason in report.without_streams:
        out.print(f"  [dim]summary only[/] Strava activity {strava_id}: {reason}", highlight=False)


@strava_app.command("auth")
def auth_command(
    code: Annotated[str | None, typer.Option("--code", help="The code (or the whole redirect URL); asked for when absent.")] = None,
    handle: Annotated[str | None, athlete_option(annotated=True)] = None,
) -> None:
    """Authorize runlake to read an athlete's Strava activities (scope activity:read_all)."""
    from sources.strava.auth import authorize_url, code_from, exchange_code, token_store
    from sources.strava.client import make_client
    from sources.strava.ratelimit import RateLimiter

    lake, athlete = athlete_context(handle)
    settings = athlete.settings
    with user_errors():
        url = authorize_url(settings)
        if code is None:
            console.print("1. Open this URL in a browser signed in to Strava and approve access:", highlight=False)
            out.print(url, highlight=False, overflow="ignore", crop=False)
            console.print("2. Strava redirects to a page that may not load; copy its address (it holds code=…).", highlight=False)
            code = typer.prompt("Paste the redirect URL or the code", err=True)
        store = token_store(settings, lake, settings.athlete_id)
        client, _ = make_client(settings.strava_url, RateLimiter(), max_retries=settings.strava_max_retries, timeout_s=settings.strava_timeout_s)
        exchange_code(settings, store, client, code_from(code))
    out.print(f"Saved the Strava refresh token to {store.where}. Next: runlake sync strava", highlight=False)


@strava_app.command("subscribe")
def subscribe_command(
    callback: Annotated[str, typer.Option("--callback", help="Public URL of the API's webhook, e.g. https://api.example.org/v1/webhooks/strava.")],
    replace: Annotated[bool, typer.Option("--replace", help="Delete the application's subscription to another callback first.")] = False,
) -> None:
    """Subscribe the Strava API application to push events (new, changed and deleted activities).

    Strava validates the callback before answering: the API must already be serving it with the
    same RUNLAKE_STRAVA_VERIFY_TOKEN. One subscription per application."""
    from sources.strava.auth import client_credentials
    from sources.strava.errors import StravaError
    from sources.strava.push import create_subscription, delete_subscription, list_subscriptions

    settings = load_settings()
    with user_errors():
        if not callback.startswith(("https://", "http://")):
            raise StravaError("--callback must be an http(s) URL (Strava calls it from the internet: https in production)")
        verify = settings.strava_verify_token.get_secret_value().strip() if settings.strava_verify_token else ""
        if not verify:
            raise StravaError("RUNLAKE_STRAVA_VERIFY_TOKEN must be set (the same value the API serves; see docs/strava.md \"Push\")")
        client_id, secret = client_credentials(settings)
        for existing in list_subscriptions(settings.strava_url, client_id, secret):
            if existing.get("callback_url") == callback:
                out.print(f"Already subscribed: push subscription {existing['id']} → {callback}", highlight=False)
                return
            if not replace:
                raise StravaError(f"the application already has push subscription {existing['id']} to {existing.get('callback_url')}: "
                                  "pass --replace to move it")
            delete_subscription(settings.strava_url, client_id, secret, existing["id"])
            console.print(f"deleted push subscription {existing['id']} → {existing.get('callback_url')}", highlight=False)
        subscription = create_subscription(settings.strava_url, client_id, secret, callback_url=callback, verify_token=verify)
    out.print(f"Subscribed: push subscription {subscription} → {callback}", highlight=False)


@strava_app.command("events")
def events_command() -> None:
    """Work the queue of Strava push events now (the API does it by itself; for a server without one)."""
    from pipeline.strava_push import process_queue

    settings = load_settings()
    with user_errors():
        report = process_queue(lake_from(settings), settings)
    counts = ", ".join(f"{n} {status}" for status in ("done", "ignored", "failed") if (n := report.count(status)))
    out.print(f"Strava push events: {len(report.processed)} processed" + (f" ({counts})" if counts else ""), highlight=False)
    for row in report.processed:
        out.print(f"  {row['status']}: {row['object_type']} {row['aspect_type']} {row['object_id']}: {row['outcome']}", highlight=False)
