"""`RawMessages` → `DecodedFile`: sessions, their laps and samples, in lake units.

Pure and decoder-neutral: the same rules apply whichever decoder filled the raw frames.
The rules (also in docs/fit.md):

* one `DecodedSession` per `session` message, in file order (`session_index` from 0); a
  session with neither `start_time` nor `timestamp` − `total_elapsed_time` cannot be placed
  in time and is left out with a warning. No usable session → `NotAnActivity`.
* records belong to the session whose `[start_time, start_time + total_elapsed_time]` holds
  their timestamp (the latest-starting one on a shared boundary); records without a
  timestamp (courses, some encoders) follow the previous timestamped record of the file
  (or the next one when none precedes); records outside every session are dropped and counted
  in `warnings`. `seq` numbers a session's samples from 0 in file order.
* laps belong to the session whose range holds their start (1 s tolerance before the start).
* units: semicircles × 180 / 2³¹ → degrees; `enhanced_*` speed/altitude preferred over the
  16-bit fields; cadence → steps per minute by `cadence_spm_factor`.
* `utc_offset_s` = activity `local_timestamp` − `timestamp` when present and within ±14 h,
  else the offset of `default_tz` at the session start; never null.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from lake.laps import SPEC as LAPS
from lake.records import SPEC as RECORDS
from sources.fit.model import (
    DecodedFile,
    DecodedSession,
    FileIdentity,
    NotAnActivity,
    RawMessages,
)
from sources.fit.raw import FILE_INDEX, RAW_SCHEMAS

FIT_EPOCH = datetime(1989, 12, 31, tzinfo=timezone.utc)
_SEMICIRCLE_DEG = 180.0 / 2**31
_MAX_OFFSET_S = 14 * 3600
_LAP_TOLERANCE_S = 1

#: sports whose FIT cadence counts strides of one foot (rpm): steps/min = 2 × cadence
STEP_SPORTS = frozenset({"running", "walking", "hiking", "mountaineering", "snowshoeing"})
STEP_SUB_SPORTS = frozenset({"treadmill", "indoor_running", "indoor_walking", "trail", "track", "street"})

_IDS = ("athlete_id", "activity_id", "year")
#: the lake tables' columns minus the ids the ingest adds
RECORD_COLUMNS = pl.Schema({name: dtype for name, dtype in RECORDS.schema.items() if name not in _IDS})
LAP_COLUMNS = pl.Schema({name: dtype for name, dtype in LAPS.schema.items() if name not in _IDS})


def cadence_spm_factor(sport: str | None, sub_sport: str | None) -> float:
    """2 for sports where FIT cadence is strides/min of one foot (running, walking…), else 1.

    FIT stores running cadence in `rpm` = strides per minute (one foot); runners speak of steps
    per minute (both feet), which Garmin Connect shows as 2 × (cadence + fractional_cadence).
    Cycling (rpm), rowing/swimming (strokes/min) and other sports keep their cadence as is.
    """
    if sport in STEP_SPORTS or sub_sport in STEP_SUB_SPORTS:
        return 2.0
    return 1.0


def fit_time(seconds: int | None) -> datetime | None:
    """FIT seconds (since 1989-12-31 UTC) → aware UTC datetime; device-relative values too."""
    return None if seconds is None else FIT_EPOCH + timedelta(seconds=int(seconds))


def _utc_datetime(fit_seconds: pl.Expr) -> pl.Expr:
    return pl.from_epoch(fit_seconds + int(FIT_EPOCH.timestamp()), time_unit="s").dt.replace_time_zone("UTC")


def _frame(raw: RawMessages, kind: str) -> pl.DataFrame:
    """The `kind` frame with exactly the `RAW_SCHEMAS` columns (absent ones null, extra dropped)."""
    schema = pl.Schema({**RAW_SCHEMAS[kind], FILE_INDEX: pl.Int32})
    frame = raw.get(kind)
    if frame is None:
        return pl.DataFrame(schema=schema)
    if frame.schema == schema:  # already exact (the fast decoder's frames): skip ~1 ms of no-op casts
        return frame
    missing = [pl.lit(None, dtype).alias(name) for name, dtype in schema.items() if name not in frame.columns]
    columns = [pl.col(name).cast(dtype, strict=False) for name, dtype in schema.items()]
    return frame.with_columns(missing).select(columns)


def identity_from(file_id: pl.DataFrame) -> FileIdentity:
    """The recording's identity from the first `file_id` message (product as a name)."""
    if file_id.height == 0:
        return FileIdentity()
    return identity_from_row(file_id.row(0, named=True))


def identity_from_row(row: dict) -> FileIdentity:
    """A `FileIdentity` from one `file_id` message's values (the product as a name)."""
    product = row["garmin_product"] or row["favero_product"] or row["product_name"]
    if product is None and row["product"] is not None:
        product = str(row["product"])
    return FileIdentity(
        manufacturer=row["manufacturer"],
        product=product,
        serial_number=row["serial_number"],
        time_created=fit_time(row["time_created"]),
        file_type=row["type"],
    )


def _not_an_activity_reason(identity: FileIdentity, n_sessions: int) -> str:
    kind = f"{identity.file_type} file" if identity.file_type else "FIT file without a file type"
    if n_sessions:
        return f"{kind}: no session with a start time"
    return f"{kind}: no activity session"


def _utc_offset(
    activity: pl.DataFrame, file_index: int | None, start: datetime, default_tz: ZoneInfo
) -> tuple[int, str | None]:
    """Offset from the activity message of the session's chained file (else any), else the zone."""
    rows = activity.filter(pl.col("local_timestamp").is_not_null() & pl.col("timestamp").is_not_null())
    same = rows.filter(pl.col(FILE_INDEX).eq_missing(file_index))
    candidates = same if same.height else rows
    warning = None
    for local, utc in zip(candidates["local_timestamp"], candidates["timestamp"], strict=True):
        offset = int(local) - int(utc)
        if abs(offset) <= _MAX_OFFSET_S:
            return offset, None
        warning = f"implausible activity local time offset {offset} s ignored; used {default_tz.key}"
    offset = start.astimezone(default_tz).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0, warning


def _session_bounds(sessions: pl.DataFrame) -> pl.DataFrame:
    """Start and end (FIT seconds) of each session or lap.

    start: `start_time`, else `timestamp` − `total_elapsed_time`; end: the later of
    start + elapsed and the message's own `timestamp` (written when it ended).
    """
    elapsed = pl.col("total_elapsed_time")
    start = pl.coalesce(pl.col("start_time"), (pl.col("timestamp") - elapsed.ceil()).cast(pl.Int64))
    end = pl.max_horizontal(start + elapsed.ceil().cast(pl.Int64), pl.col("timestamp"), start)
    return sessions.with_columns(_start=start, _end=end)


def _assign(times: np.ndarray, starts: np.ndarray, before: int = 0) -> np.ndarray:
    """Index of the latest-starting session with start − `before` ≤ time; the earliest one if none.

    Session starts partition the timeline, so no sample is lost when a session's summary
    under-states its span (seen in real files: a Bryton ride whose records run 3× its
    `total_elapsed_time`, a fenix2 multisport whose first lap starts 45 min before its session).
    """
    order = np.argsort(starts, kind="stable")
    pos = np.searchsorted(starts[order] - before, times, side="right") - 1
    return order[np.clip(pos, 0, None)]


def _records_for(records: pl.DataFrame, factor: float) -> pl.DataFrame:
    cadence = (pl.col("cadence") + pl.col("fractional_cadence").fill_null(0.0)) * factor
    return records.select(
        seq=pl.int_range(pl.len(), dtype=pl.Int32),
        timestamp=_utc_datetime(pl.col("timestamp")),
        lat_deg=pl.col("position_lat") * _SEMICIRCLE_DEG,
        lon_deg=pl.col("position_long") * _SEMICIRCLE_DEG,
        distance_m=pl.col("distance"),
        speed_mps=pl.coalesce("enhanced_speed", "speed"),
        altitude_m=pl.coalesce("enhanced_altitude", "altitude"),
        hr_bpm=pl.col("heart_rate"),
        cadence_spm=cadence,
        power_w=pl.col("power"),
        temperature_c=pl.col("temperature"),
    ).cast(dict(RECORD_COLUMNS))


def _laps_for(laps: pl.DataFrame, session_start: int, sport: str | None, sub_sport: str | None) -> pl.DataFrame:
    lap_sport = pl.coalesce(pl.col("sport"), pl.lit(sport, pl.String))
    lap_sub_sport = pl.coalesce(pl.col("sub_sport"), pl.lit(sub_sport, pl.String))
    step = lap_sport.is_in(list(STEP_SPORTS)).fill_null(False) | lap_sub_sport.is_in(list(STEP_SUB_SPORTS)).fill_null(
        False
    )
    factor = pl.when(step).then(2.0).otherwise(1.0)
    cadence = (pl.col("avg_cadence") + pl.col("avg_fractional_cadence").fill_null(0.0)) * factor
    return laps.select(
        lap_index=pl.int_range(pl.len(), dtype=pl.Int32),
        start_time=_utc_datetime(pl.col("_start")),
        start_offset_s=(pl.col("_start") - session_start).cast(pl.Float64),
        elapsed_s=pl.col("total_elapsed_time"),
        moving_s=pl.col("total_timer_time"),
        distance_m=pl.col("total_distance"),
        avg_speed_mps=pl.coalesce("enhanced_avg_speed", "avg_speed"),
        avg_hr_bpm=pl.col("avg_heart_rate"),
        max_hr_bpm=pl.col("max_heart_rate"),
        avg_cadence_spm=cadence,
        ascent_m=pl.col("total_ascent"),
        descent_m=pl.col("total_descent"),
        intensity=pl.col("intensity"),
        lap_trigger=pl.col("lap_trigger"),
    ).cast(dict(LAP_COLUMNS))


def _record_session_ids(records: pl.DataFrame, starts: np.ndarray) -> np.ndarray:
    """Session per record; untimed records follow the previous (else next) timed one of the file."""
    times = records["timestamp"]
    has_time = times.is_not_null().to_numpy()
    if not has_time.any():
        return np.zeros(records.height, dtype=np.int64)
    ids = np.full(records.height, -1, dtype=np.int64)
    ids[has_time] = _assign(times.drop_nulls().to_numpy(), starts)
    if has_time.all():
        return ids
    filled = pl.Series(np.where(has_time, ids, None).tolist(), dtype=pl.Int64).forward_fill().backward_fill()
    return filled.to_numpy().astype(np.int64)


def _outside(times: pl.Series, ids: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> int:
    """How many timed samples lie outside their session's [start, end] (kept, but counted)."""
    values = times.to_numpy()
    timed = times.is_not_null().to_numpy()
    safe = np.where(timed, values, 0).astype(np.int64) if times.len() else np.zeros(0, dtype=np.int64)
    out = timed & ((safe < starts[ids]) | (safe > ends[ids]))
    return int(out.sum())


def session_summary(index: int, session: dict, start, offset: int) -> dict:
    """The `activities` columns of one FIT session message (`SESSION_COLUMNS`)."""
    sport, sub_sport = session["sport"], session["sub_sport"]
    avg_cadence = session["avg_cadence"]
    if avg_cadence is not None:
        avg_cadence = (avg_cadence + (session["avg_fractional_cadence"] or 0.0)) * cadence_spm_factor(sport, sub_sport)
    return {
        "session_index": index,
        "sport": sport,
        "sub_sport": sub_sport,
        "start_time": start,
        "utc_offset_s": offset,
        "distance_m": session["total_distance"],
        "elapsed_s": session["total_elapsed_time"],
        "moving_s": session["total_timer_time"],
        "avg_hr_bpm": session["avg_heart_rate"],
        "max_hr_bpm": session["max_heart_rate"],
        "ascent_m": session["total_ascent"],
        "descent_m": session["total_descent"],
        "calories_kcal": session["total_calories"],
        "avg_cadence_spm": avg_cadence,
    }


def normalize(raw: RawMessages, *, decoder: str, default_tz: str = "UTC") -> DecodedFile:
    """Build the `DecodedFile` of one FIT stream from its raw messages (pure)."""
    zone = ZoneInfo(default_tz)
    identity = identity_from(_frame(raw, "file_id"))
    all_sessions = _session_bounds(_frame(raw, "session"))
    sessions = all_sessions.filter(pl.col("_start").is_not_null())
    if sessions.height == 0:
        raise NotAnActivity(_not_an_activity_reason(identity, all_sessions.height))
    warnings = []
    if sessions.height < all_sessions.height:
        warnings.append(f"{all_sessions.height - sessions.height} session(s) without a start time left out")

    starts = sessions["_start"].to_numpy()
    ends = sessions["_end"].to_numpy()
    records = _frame(raw, "record")
    record_ids = _record_session_ids(records, starts)
    if outside := _outside(records["timestamp"], record_ids, starts, ends):
        warnings.append(f"{outside} record(s) outside their session's [start, start + elapsed] kept")
    laps = _session_bounds(_frame(raw, "lap"))
    lap_ids = _assign(laps["_start"].fill_null(-(2**62)).to_numpy(), starts, before=_LAP_TOLERANCE_S)

    activity = _frame(raw, "activity")
    decoded = []
    for index, session in enumerate(sessions.iter_rows(named=True)):
        start = fit_time(session["_start"])
        offset, warning = _utc_offset(activity, session[FILE_INDEX], start, zone)
        if warning:
            warnings.append(f"session {index}: {warning}")
        summary = session_summary(index, session, start, offset)
        sport, sub_sport = summary["sport"], summary["sub_sport"]
        factor = cadence_spm_factor(sport, sub_sport)
        decoded.append(
            DecodedSession(
                summary=summary,
                laps=_laps_for(laps.filter(pl.Series(lap_ids == index)), session["_start"], sport, sub_sport),
                records=_records_for(records.filter(pl.Series(record_ids == index)), factor),
            )
        )
    return DecodedFile(identity=identity, sessions=decoded, decoder=decoder, warnings=warnings)
