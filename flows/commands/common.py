"""What every CLI command shares: building settings at the edge and failing with one line."""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
from collections.abc import Iterator

import typer
from pydantic import ValidationError
from rich.console import Console

from runlake.errors import RunlakeError, SettingsError
from lake.storage import Lake, LakeConfigError
from runlake.settings import Settings, describe_settings_error

console = Console(stderr=True, soft_wrap=True)  # errors, progress
out = Console(soft_wrap=True)  # results
log = logging.getLogger("runlake")


def fail(message: str, code: int = 1) -> None:
    """Print one error line and exit."""
    console.print(f"[bold red]runlake:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):  # never its str(): that repeats every input value
        return describe_settings_error(exc)
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can fix into one line and exit code 1 (2 for bad settings); storage
    that stays unreachable after the clients' bounded retries is one of them."""
    try:
        yield
    except typer.Exit:
        raise
    except (ValidationError, SettingsError, LakeConfigError) as exc:
        fail(_one_line(exc), 2)
    except OSError as exc:
        if exc.errno == errno.EREMOTEIO:  # s3fs: S3 answered an error (after botocore's retries)
            fail(f"S3 request failed: {exc.strerror}", 1)
        fail(f"S3 request failed: {_one_line(exc)}" if _is_s3_client_error(exc) else _one_line(exc), 1)
    except RunlakeError as exc:
        fail(_one_line(exc), 1)
    except Exception as exc:
        if not _is_s3_client_error(exc):
            raise
        fail(f"S3 request failed: {_one_line(exc)}", 1)


def _is_s3_client_error(exc: Exception) -> bool:
    """botocore's own errors (s3fs: raw files, leases) after its bounded retries: a connection
    that keeps failing or timing out. (S3's error answers reach us from s3fs as OSError.)"""
    from botocore.exceptions import BotoCoreError  # botocore comes with s3fs; imported only here

    return isinstance(exc, BotoCoreError)


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with command-line overrides (None = not given)."""
    try:
        return Settings.with_overrides(**overrides)
    except SettingsError as exc:
        fail(_one_line(exc), 2)
        raise  # unreachable: fail() exits


def lake_from(settings: Settings, *, for_write: bool = True) -> Lake:
    """The lake, or one line and exit. `for_write`: refuse a lake that needs `runlake lake migrate`."""
    from pipeline.lake_access import open_lake

    with user_errors():
        return open_lake(settings, for_write=for_write)


ATHLETE_HELP = "The athlete's handle (default: the default athlete, `me`)."


def athlete_option(*, annotated: bool = False) -> typer.models.OptionInfo:
    """`--athlete HANDLE`, the same on every command (default: the default athlete); with
    `annotated=True` for `Annotated[str | None, …] = None` parameters."""
    if annotated:
        return typer.Option("--athlete", help=ATHLETE_HELP)
    return typer.Option(None, "--athlete", help=ATHLETE_HELP)


def athlete_context(handle: str | None, **overrides):
    """(lake, athlete) for a command: settings at the edge, the athlete resolved by handle, its
    effective settings in `athlete.settings` (pipeline.athletes)."""
    from pipeline.athletes import resolve_athlete

    settings = load_settings(**overrides)
    lake = lake_from(settings)
    with user_errors():
        return lake, resolve_athlete(lake, settings, handle)


@contextlib.contextmanager
def athlete_lease(lake: Lake, athlete_id: str, command: str, wait_s: float | None = None) -> Iterator[None]:
    """One writer per athlete (lake/lease.py): wait for another command on the same athlete,
    saying so, and give up with one line after `wait_s` (RUNLAKE_LEASE_WAIT_S)."""
    from lake.lease import LeaseBusyError, acquire

    def waiting(holder) -> None:
        console.print(f"waiting for {holder.describe()} to finish …", highlight=False)

    try:
        wait = load_settings().lease_wait_s if wait_s is None else wait_s
        held = acquire(lake, athlete_id, command, wait_s=wait, on_wait=waiting)
    except LeaseBusyError as exc:
        raise RunlakeError(str(exc)) from None
    with held:
        yield


def verbose_logging(verbose: bool) -> None:
    if verbose:
        logging.getLogger().setLevel(logging.INFO)


def is_tty() -> bool:
    return sys.stderr.isatty()
