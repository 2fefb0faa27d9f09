"""`runlake athlete set|show`: the dated physiology in `athlete_profile`."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import polars as pl
import typer

from flows.commands.common import fail, lake_from, load_settings, user_errors
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


app = typer.Typer(no_args_is_help=True, help="Athlete physiology (HR max/rest, thresholds) over time.")


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
    valid_from: str = typer.Option(None, "--from", help="First local date these values hold (default: today in RUNLAKE_TIMEZONE)."),
) -> None:
    """Record values that hold from a date on; values not given stay as they were."""
    settings = load_settings()
    lake = lake_from(settings)
    with user_errors(), profile_errors():
        if all(v is None for v in (hr_max, hr_rest, threshold_hr, threshold_pace, sex)):
            raise ProfileError("give at least one of --hr-max, --hr-rest, --threshold-hr, --threshold-pace, --sex")
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
def show() -> None:
    """The values in force from each date (settings defaults first)."""
    settings = load_settings()
    lake = lake_from(settings)
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

