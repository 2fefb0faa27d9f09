"""Hostile values: implausible samples nulled, odd sessions flagged or skipped (docs/fit.md).

Applied by `decode_fit` to the normalised `DecodedFile`, whichever decoder read the file (the
fast path and the reference decoders agree before this step, and this step is the same for
both). A cleaned sample keeps its row (`seq` does not move): only the bad value becomes null,
and each session counts what was cleaned in `DecodedSession.quality_flags`.

Rules, each with its threshold:

* clock backwards: a record timestamp earlier than one before it in the session (a watch clock
  set back mid-run) → that timestamp null (the row and its other values are kept, like records
  that never had a timestamp); equal timestamps are not backwards;
* heart rate outside [`MIN_HR_BPM`, `MAX_HR_BPM`] → null (FIT's invalid 255 is already null);
* speed above `MAX_FOOT_SPEED_MPS` in a foot sport (running, walking, hiking, …) → null;
* GPS jump: a fix whose implied speed from the last kept fix exceeds `MAX_GPS_SPEED_MPS` →
  its `lat_deg`/`lon_deg` null (a whole activity far from home is fine: only jumps count);
* start before `EARLIEST_START` or more than `FUTURE_TOLERANCE` after `now` → flagged
  `implausible_time` (kept: device-relative 1990 clocks are a known FIT quirk);
* longer than `LONG_DURATION_S` → flagged `long_duration` (kept: ultras exist);
* zero-length session (no elapsed time and no samples spanning any time) → left out with a
  warning; a file whose sessions are all zero-length is `NotAnActivity`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from sources.fit.model import DecodedFile, DecodedSession, NotAnActivity
from sources.fit.normalize import cadence_spm_factor

MIN_HR_BPM = 25
MAX_HR_BPM = 240
#: 12 m/s is 1:23 per km, faster than any human sprint average over 100 m (Bolt: 10.4 m/s).
MAX_FOOT_SPEED_MPS = 12.0
#: 180 km/h between two fixes: no runner, rider or skier; a GPS glitch.
MAX_GPS_SPEED_MPS = 50.0
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
LONG_DURATION_S = 48 * 3600.0
_EARTH_RADIUS_M = 6_371_000.0


def clean_decoded(decoded: DecodedFile, *, now: datetime) -> DecodedFile:
    """`decoded` with every session cleaned and flagged; zero-length sessions left out."""
    kept: list[DecodedSession] = []
    warnings = list(decoded.warnings)
    for session in decoded.sessions:
        if is_zero_length(session):
            warnings.append(f"session {session.summary['session_index']}: zero-length (0 s, no samples spanning time) left out")
            continue
        kept.append(clean_session(session, now=now))
    if not kept:
        raise NotAnActivity("zero-length session: 0 s elapsed and no samples spanning time")
    return replace(decoded, sessions=kept, warnings=warnings)


def _record_span_s(records: pl.DataFrame) -> float:
    times = records["timestamp"].drop_nulls()
    if times.len() < 2:
        return 0.0
    return (times.max() - times.min()).total_seconds()


def is_zero_length(session: DecodedSession) -> bool:
    """No elapsed time in the summary and no samples spanning any time."""
    elapsed = session.summary.get("elapsed_s") or 0.0
    return elapsed <= 0 and _record_span_s(session.records) <= 0


def clean_session(session: DecodedSession, *, now: datetime) -> DecodedSession:
    """One session with its implausible samples nulled and its `quality_flags` set."""
    summary = session.summary
    records, counts = clean_records(session.records, summary.get("sport"), summary.get("sub_sport"))
    flags = count_flags(counts)
    start = summary.get("start_time")
    if start is not None and (start < EARLIEST_START or start > now + FUTURE_TOLERANCE):
        flags.append("implausible_time")
    if max(summary.get("elapsed_s") or 0.0, _record_span_s(records)) > LONG_DURATION_S:
        flags.append("long_duration")
    return replace(session, records=records, quality_flags="; ".join(flags) or None)


def count_flags(counts: dict[str, int]) -> list[str]:
    """`rule=count` for every rule that nulled something, in rule order."""
    return [f"{name}={n}" for name, n in counts.items() if n]


def clean_records(records: pl.DataFrame, sport: str | None, sub_sport: str | None) -> tuple[pl.DataFrame, dict[str, int]]:
    """Null the implausible values of one session's samples (file order); counts per rule."""
    counts: dict[str, int] = {}
    if records.height == 0:
        return records, counts
    timestamp = records["timestamp"]
    epoch = timestamp.dt.epoch("us").to_numpy()
    timed = timestamp.is_not_null().to_numpy()
    backwards = _clock_backwards(np.where(timed, epoch, 0), timed)
    counts["clock_backwards"] = int(backwards.sum())

    hr = pl.col("hr_bpm")
    bad_hr = (hr < MIN_HR_BPM) | (hr > MAX_HR_BPM)
    counts["hr_out_of_range"] = int(records.select(bad_hr.fill_null(False).sum()).item())
    foot = cadence_spm_factor(sport, sub_sport) == 2.0
    bad_speed = (pl.col("speed_mps") > MAX_FOOT_SPEED_MPS) & pl.lit(foot)
    counts["speed_too_high"] = int(records.select(bad_speed.fill_null(False).sum()).item())

    # the recorded times, backwards ones too: a step's time counts at least 1 s, so a clock set
    # back does not make the next fix look like a jump
    seconds = np.where(timed, epoch, 0) / 1e6
    jumps = _gps_jumps(records["lat_deg"].to_numpy(), records["lon_deg"].to_numpy(), seconds, timed)
    counts["gps_jump"] = int(jumps.sum())
    if not any(counts.values()):
        return records, counts
    backwards_s, jumps_s = pl.Series(backwards), pl.Series(jumps)
    cleaned = records.with_columns(
        timestamp=pl.when(backwards_s).then(None).otherwise(pl.col("timestamp")),
        hr_bpm=pl.when(bad_hr.fill_null(False)).then(None).otherwise(hr),
        speed_mps=pl.when(bad_speed.fill_null(False)).then(None).otherwise(pl.col("speed_mps")),
        lat_deg=pl.when(jumps_s).then(None).otherwise(pl.col("lat_deg")),
        lon_deg=pl.when(jumps_s).then(None).otherwise(pl.col("lon_deg")),
    )
    return cleaned.cast(dict(records.schema)), counts


def _clock_backwards(epoch: np.ndarray, timed: np.ndarray) -> np.ndarray:
    """Timed samples earlier than an earlier timed sample (the running maximum)."""
    previous_max = np.maximum.accumulate(np.where(timed, epoch, np.iinfo(np.int64).min))
    before = np.r_[np.iinfo(np.int64).min, previous_max[:-1]]
    return timed & (epoch < before)


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance (haversine)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _gps_jumps(lat: np.ndarray, lon: np.ndarray, seconds: np.ndarray, timed: np.ndarray) -> np.ndarray:
    """Fixes whose implied speed from the last kept fix exceeds `MAX_GPS_SPEED_MPS`.

    A vectorised pass over consecutive fixes finds whether any pair is too fast (never, in a
    normal file); only then a sequential pass compares each fix with the last one kept, so a
    teleport and its return cost one fix, not two. Time steps count at least 1 s (also when the
    clock went backwards). The first fix is trusted.
    """
    jumps = np.zeros(len(lat), dtype=bool)
    fix = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon) & timed)
    if len(fix) < 2:
        return jumps
    step = haversine_m(lat[fix[:-1]], lon[fix[:-1]], lat[fix[1:]], lon[fix[1:]])
    dt = np.maximum(np.diff(seconds[fix]), 1.0)
    if not np.any(step / dt > MAX_GPS_SPEED_MPS):
        return jumps
    last = fix[0]
    for i in fix[1:]:
        d = haversine_m(lat[last], lon[last], lat[i], lon[i])
        if d / max(seconds[i] - seconds[last], 1.0) > MAX_GPS_SPEED_MPS:
            jumps[i] = True
        else:
            last = i
    return jumps
