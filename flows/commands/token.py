"""`runlake token create|revoke|list`: an athlete's tokens for the data API (pipeline/tokens.py).

`create` prints the token once, alone on the last line of stdout (so `| tail -n 1` gets it);
nothing else ever prints a token, its hash or its salt. docs/tokens.md.
"""

from __future__ import annotations

import datetime as dt

import typer

from flows.commands.common import athlete_context, athlete_option, console, user_errors
from pipeline.tokens import READ_PRIVATE, READ_PUBLIC, SCOPES, TokenBook, TokenInfo, create_token, list_tokens, revoke_token

app = typer.Typer(no_args_is_help=True, help="API tokens of an athlete: create, revoke, list.")


def _scopes_text(info: TokenInfo) -> str:
    text = " ".join(sorted(info.scopes))
    return text + f" (implies {READ_PUBLIC})" if READ_PRIVATE in info.scopes and READ_PUBLIC not in info.scopes else text


def _when(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@app.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Your name for the token, unique among your live ones (e.g. coach)."),
    scopes: list[str] = typer.Option([READ_PUBLIC], "--scope", help=f"What it may read: {', '.join(SCOPES)} (repeat for several; read:private implies read:public)."),
    expires_in: int = typer.Option(365, "--expires-in", help="Days until it expires (1-3650)."),
    handle: str = athlete_option(),
) -> None:
    """Create a token; it is printed once, alone on the last line."""
    lake, athlete = athlete_context(handle)
    now = dt.datetime.now(dt.UTC)
    with user_errors():
        token = create_token(lake, athlete.athlete_id, name=name, scopes=scopes, expires_in_days=expires_in, now=now)
    info = TokenBook.load(lake).check(token, now=now)
    print(f"token {info.name} of {athlete.handle}: {_scopes_text(info)}, expires {_when(info.expires_at)}")
    print("it is shown this once and cannot be recovered: store it now (lost: revoke it and create another)")
    print(token)


@app.command("revoke")
def revoke(
    name: str = typer.Argument(..., help="The name of the live token to revoke."),
    handle: str = athlete_option(),
) -> None:
    """Revoke a live token: servers refuse it within seconds."""
    lake, athlete = athlete_context(handle)
    with user_errors():
        info = revoke_token(lake, athlete.athlete_id, name, now=dt.datetime.now(dt.UTC))
    print(f"token {info.name} of {athlete.handle} revoked (created {_when(info.created_at)})")


@app.command("list")
def list_command(handle: str = athlete_option()) -> None:
    """One line per token, newest first: name, scopes, created, expires, state."""
    lake, athlete = athlete_context(handle)
    now = dt.datetime.now(dt.UTC)
    with user_errors():
        tokens = list_tokens(lake, athlete.athlete_id)
    if not tokens:
        console.print(f"{athlete.handle} has no API tokens", highlight=False)
    for info in tokens:
        print(f"{info.name}  {' '.join(sorted(info.scopes))}  created {_when(info.created_at)}  "
              f"expires {_when(info.expires_at)}  {info.state(now)}")
