"""`runlake athlete add|list|set|show|link`: the registry (`athletes`) and each athlete's settings and
dated physiology (`athlete_profile`). Export and erasure: `flows/commands/athlete_data.py`."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import polars as pl
import typer

from flows.commands.common import athlete_context, athlete_option, fail, lake_from, load_settings, user_errors
from pipeline import athletes as athlete_steps
from flows.steps.build_marts import athlete_today
from lake import athlete_profile
from lake.table import read, upsert
from marts.profile import Physiology, ProfileError, check_resolved, resolve

@contextlib.contextmanager
def profile_errors() -> Iterator[None]:
    """Physiology values that make no sense: one line, exit code 2 (like bad settings)."""
    try:
        yield
    except ProfileError as exc:
        fail(str(exc), 2)


app = typer.Typer(no_args_is_help=True, help="The lake's athletes: registry, settings, physiology over time.")


@app.command("add")
def add(
    handle: str = typer.Argument(..., help="Unique, URL-safe name (2-32 of a-z 0-9 - _)."),
    timezone: str = typer.Option(None, "--timezone", help="IANA home zone (default: RUNLAKE_TIMEZONE)."),
    display_name: str = typer.Option(None, "--display-name", help="Name shown to the athlete."),
    public: bool = typer.Option(False, "--public/--private", help="Publish a public layer (default: private)."),
) -> None:
    """Register a new athlete (private unless --public)."""
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors():
        athlete = athlete_steps.add_athlete(lake, settings, handle, timezone=timezone,
                                            display_name=display_name, public=public)
    print(f"athlete {athlete.handle} added ({'public' if athlete.public else 'private'}, "
          f"{athlete.timezone}); inbox: {athlete.settings.inbox}")


@app.command("list")
def list_command() -> None:
    """One line per athlete, the handle first."""
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors():
        athletes = athlete_steps.list_athletes(lake, settings)
    for a in athletes:
        flags = ["public" if a.public else "private"] + (["default"] if a.is_default else [])
        name = f" ({a.display_name})" if a.display_name else ""
        print(f"{a.handle}{name}  {', '.join(flags)}  {a.timezone}  id {a.athlete_id}")


def parse_pace(text: str) -> float:
    """'3:30' (min:s per km) or '210' (s per km) -> seconds per km."""
    try:
        if ":" in text:
            minutes, seconds = text.split(":")
            return int(minutes) * 60 + float(seconds)
        return float(text)
    except ValueError:
        raise ProfileError(f"threshold pace {text!r} is not m:ss per km or seconds per km") from None


@app.command("set")
def set_values(
    hr_max: int = typer.Option(None, "--hr-max", help="Maximum HR, bpm."),
    hr_rest: int = typer.Option(None, "--hr-rest", help="Resting HR, bpm."),
    threshold_hr: int = typer.Option(None, "--threshold-hr", help="Lactate-threshold HR, bpm."),
    threshold_pace: str = typer.Option(None, "--threshold-pace", help="Threshold pace per km, m:ss or seconds."),
    sex: str = typer.Option(None, "--sex", help="m or f (Banister TRIMP weighting)."),
    valid_from: str = typer.Option(None, "--from", help="First local date these values hold (default: today in the athlete's zone)."),
    handle: str = athlete_option(),
    new_handle: str = typer.Option(None, "--handle", help="Change the athlete's handle."),
    display_name: str = typer.Option(None, "--display-name", help="Name shown to the athlete."),
    timezone: str = typer.Option(None, "--timezone", help="IANA home zone."),
    public: bool = typer.Option(None, "--public/--private", help="Publish a public layer or not."),
    privacy_zones: str = typer.Option(None, "--privacy-zones", help="'lat,lon,radius_m;…' discs to hide."),
    trim_m: float = typer.Option(None, "--trim-m", min=0, help="Smallest straight-line trim of route ends, m."),
    radius_m: float = typer.Option(None, "--radius-m", min=100, help="Smallest radius of a protected place, m."),
    place_routes: str = typer.Option(None, "--place-routes", help="Routes at a protected place: none or shape."),
    private_activities: str = typer.Option(None, "--private-activities", help="Runs never published (ids, Strava ids or URLs, comma-separated)."),
    public_sources: str = typer.Option(None, "--public-sources", help="Sources that may be published (fit, strava, …)."),
) -> None:
    """Change an athlete's settings, and record physiology that holds from a date on; values not
    given stay as they were."""
    lake, athlete = athlete_context(handle)
    settings = athlete.settings
    registry_changes = {
        "handle": new_handle, "display_name": display_name, "timezone": timezone, "public": public,
        "privacy_zones": privacy_zones, "privacy_trim_m": trim_m, "privacy_radius_m": radius_m,
        "privacy_place_routes": place_routes, "private_activities": private_activities, "public_sources": public_sources,
    }
    physiology = (hr_max, hr_rest, threshold_hr, threshold_pace, sex)
    with user_errors(), profile_errors():
        if all(v is None for v in (*physiology, *registry_changes.values())):
            raise ProfileError("give at least one of the settings to change (see `runlake athlete set --help`)")
        if any(v is not None for v in registry_changes.values()):
            athlete = athlete_steps.update_athlete(lake, settings, athlete, **registry_changes)
            print(f"athlete {athlete.handle}: " + ", ".join(f"{k}={v}" for k, v in registry_changes.items() if v is not None))
        if all(v is None for v in physiology):
            return
        try:
            day = dt.date.fromisoformat(valid_from) if valid_from else athlete_today(settings)
        except ValueError:
            raise ProfileError(f"--from {valid_from!r} is not a date (YYYY-MM-DD)") from None
        existing = read(lake, athlete_profile.SPEC).filter(pl.col("athlete_id") == settings.athlete_id)
        same_day = existing.filter(pl.col("valid_from") == day)
        old = same_day.row(0, named=True) if same_day.height else {}
        given = {
            "hr_max_bpm": hr_max, "hr_rest_bpm": hr_rest, "threshold_hr_bpm": threshold_hr,
            "threshold_pace_s_per_km": parse_pace(threshold_pace) if threshold_pace is not None else None,
            "sex": sex.lower() if sex is not None else None,
        }
        row = {k: (v if v is not None else old.get(k)) for k, v in given.items()}
        row |= {"athlete_id": settings.athlete_id, "valid_from": day, "updated_at": dt.datetime.now(dt.timezone.utc)}
        new = athlete_profile.SPEC.conform(pl.DataFrame([row], schema=athlete_profile.SPEC.schema))
        merged = pl.concat([existing.filter(pl.col("valid_from") != day), new])
        check_resolved(resolve(merged.lazy(), Physiology.from_settings(settings)).collect())
        upsert(lake, athlete_profile.SPEC, new)
    print(f"athlete {settings.athlete_id}: from {day}: " + ", ".join(f"{k}={v}" for k, v in given.items() if v is not None))
    print("run `runlake marts build` to recompute the affected history")


@app.command("show")
def show(handle: str = athlete_option()) -> None:
    """The athlete's settings and the physiology in force from each date (defaults first)."""
    lake, athlete = athlete_context(handle)
    settings = athlete.settings
    print(f"{athlete.handle}: {'public' if athlete.public else 'private'}, {settings.timezone}, inbox {settings.inbox}")
    with user_errors(), profile_errors():
        rows = read(lake, athlete_profile.SPEC).filter(pl.col("athlete_id") == settings.athlete_id)
        resolved = resolve(rows.lazy(), Physiology.from_settings(settings)).collect()
    for r in resolved.iter_rows(named=True):
        since = "defaults (RUNLAKE_*)" if r["valid_from"].year == 1900 else f"from {r['valid_from']}"
        print(
            f"{since:>22}: HR rest {r['hr_rest_bpm']} max {r['hr_max_bpm']} bpm, sex {r['sex']}, threshold HR "
            f"{r['threshold_hr_bpm']:.0f} bpm, threshold pace {int(r['threshold_pace_s_per_km'] // 60)}:"
            f"{r['threshold_pace_s_per_km'] % 60:04.1f}/km"
        )



@app.command("link")
def link(
    handle: str = typer.Argument(..., help="The athlete's handle (e.g. me for the default athlete)."),
    issuer: str = typer.Option(..., "--issuer", help="The sign-in provider's issuer URL (the ID token's iss)."),
    subject: str = typer.Option(..., "--subject", help="The person's id at that provider (the ID token's sub)."),
) -> None:
    """Link a sign-in identity to an existing athlete: its runner then signs in to the web app as
    this athlete (instead of onboarding a new one)."""
    from pipeline.identities import link_identity

    lake, athlete = athlete_context(handle)
    with user_errors():
        link_identity(lake, load_settings(), athlete, issuer, subject, now=dt.datetime.now(dt.UTC))
    print(f"athlete {athlete.handle}: signs in with {issuer.strip()} as {subject.strip()}")
